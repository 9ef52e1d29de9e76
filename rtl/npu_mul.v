`default_nettype none
// npu_mul: signed 8 x 8 -> 16 bit multiplier of one processing element.
//
// Purely combinational. It lives in its own module so that a board build can replace
// it with a hard multiplier (an iCE40UP5K SB_MAC16 wrapper with the same ports) without
// touching npu_pe.v; the generic version lets yosys/nextpnr map it to logic.
module npu_mul (
  input  wire [7:0]  a_i,  // int8, two's complement
  input  wire [7:0]  b_i,  // int8, two's complement
  output wire [15:0] p_o   // int16 product a_i * b_i (exact: |p| <= 2^14)
);
  assign p_o = $signed(a_i) * $signed(b_i);
endmodule
