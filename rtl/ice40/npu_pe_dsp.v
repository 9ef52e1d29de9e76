`default_nettype none
// npu_pe_dsp: rtl/npu_pe.v with its multiplier outside, for the iCE40UP array variant
// (rtl/ice40/npu_array.v), where two PEs share one SB_MAC16 (npu_dsp_mul2). Same
// registers, same weight double-buffering and swap token as npu_pe (see there); the
// operands leave on mul_x_o / mul_w_o and the product comes back on mul_p_i in the
// same cycle (combinational DSP), so the PE's timing and behaviour are npu_pe's.
module npu_pe_dsp #(
  parameter integer PsumWidth = 19
) (
  input  wire                 clk_i,
  input  wire                 rst_ni,
  // weight load (shadow register)
  input  wire                 w_load_i,
  input  wire [7:0]           w_data_i,
  // west in
  input  wire [7:0]           west_x_i,
  input  wire                 west_swap_i,
  // east out
  output wire [7:0]           east_x_o,
  output wire                 east_swap_o,
  // north in
  input  wire [PsumWidth-1:0] north_psum_i,
  // south out
  output wire [PsumWidth-1:0] south_psum_o,
  // the multiplier, outside
  output wire [7:0]           mul_x_o,
  output wire [7:0]           mul_w_o,
  input  wire [15:0]          mul_p_i
);
  reg  [7:0]           shadow_q, active_q;
  reg  [7:0]           x_q;
  reg                  swap_q;
  reg  [PsumWidth-1:0] psum_q;

  assign mul_x_o = west_x_i;
  assign mul_w_o = west_swap_i ? shadow_q : active_q;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) swap_q <= 1'b0;
    else         swap_q <= west_swap_i;
  end

  always @(posedge clk_i) begin
    if (w_load_i) shadow_q <= w_data_i;
    if (west_swap_i) active_q <= shadow_q;
    x_q    <= west_x_i;
    psum_q <= north_psum_i + {{(PsumWidth-16){mul_p_i[15]}}, mul_p_i};
  end

  assign east_x_o     = x_q;
  assign east_swap_o  = swap_q;
  assign south_psum_o = psum_q;
endmodule
`default_nettype wire
