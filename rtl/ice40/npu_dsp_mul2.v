`default_nettype none
// npu_dsp_mul2: two independent signed 8 x 8 -> 16 products in one iCE40UP SB_MAC16.
//
// In 8x8 mode (MODE_8x8 = 1) the MAC16's four 8x8 partial-product multipliers stop
// being combined into a 16x16 one, and with A_SIGNED/B_SIGNED both the top (A[15:8] *
// B[15:8], output O[31:16]) and the bottom (A[7:0] * B[7:0], output O[15:0]) products
// are signed: the UP5K's 8 DSPs give 16 int8 multipliers, one per PE of a 4 x 4 array.
// Registered = 1 puts the product through the 8x8 output registers (one cycle of
// latency, and the DSP's fastest timing); 0 is combinational.
module npu_dsp_mul2 #(
  parameter [0:0] Registered = 1'b0
) (
  input  wire               clk_i,
  input  wire signed [7:0]  a0_i,
  input  wire signed [7:0]  b0_i,
  input  wire signed [7:0]  a1_i,
  input  wire signed [7:0]  b1_i,
  output wire signed [15:0] p0_o,  // a0_i * b0_i (bottom multiplier)
  output wire signed [15:0] p1_o   // a1_i * b1_i (top multiplier)
);
  wire [31:0] o;
  wire        unused_co, unused_accumco, unused_signextout;

  SB_MAC16 #(
    .NEG_TRIGGER             (1'b0),
    .C_REG                   (1'b0),
    .A_REG                   (1'b0),
    .B_REG                   (1'b0),
    .D_REG                   (1'b0),
    .TOP_8x8_MULT_REG        (Registered),
    .BOT_8x8_MULT_REG        (Registered),
    .PIPELINE_16x16_MULT_REG1(1'b0),
    .PIPELINE_16x16_MULT_REG2(1'b0),
    .TOPOUTPUT_SELECT        (2'b10),  // 8x8 product F = A[15:8] * B[15:8]
    .TOPADDSUB_LOWERINPUT    (2'b00),
    .TOPADDSUB_UPPERINPUT    (1'b0),
    .TOPADDSUB_CARRYSELECT   (2'b00),
    .BOTOUTPUT_SELECT        (2'b10),  // 8x8 product G = A[7:0] * B[7:0]
    .BOTADDSUB_LOWERINPUT    (2'b00),
    .BOTADDSUB_UPPERINPUT    (1'b0),
    .BOTADDSUB_CARRYSELECT   (2'b00),
    .MODE_8x8                (1'b1),
    .A_SIGNED                (1'b1),
    .B_SIGNED                (1'b1)
  ) u_mac16 (
    .CLK       (clk_i),
    .CE        (1'b1),
    .C         (16'd0),
    .A         ({a1_i, a0_i}),
    .B         ({b1_i, b0_i}),
    .D         (16'd0),
    .AHOLD     (1'b0),
    .BHOLD     (1'b0),
    .CHOLD     (1'b0),
    .DHOLD     (1'b0),
    .IRSTTOP   (1'b0),
    .IRSTBOT   (1'b0),
    .ORSTTOP   (1'b0),
    .ORSTBOT   (1'b0),
    .OLOADTOP  (1'b0),
    .OLOADBOT  (1'b0),
    .ADDSUBTOP (1'b0),
    .ADDSUBBOT (1'b0),
    .OHOLDTOP  (1'b0),
    .OHOLDBOT  (1'b0),
    .CI        (1'b0),
    .ACCUMCI   (1'b0),
    .SIGNEXTIN (1'b0),
    .O         (o),
    .CO        (unused_co),
    .ACCUMCO   (unused_accumco),
    .SIGNEXTOUT(unused_signextout)
  );

  assign p0_o = o[15:0];
  assign p1_o = o[31:16];
endmodule
`default_nettype wire
