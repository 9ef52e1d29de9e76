`default_nettype none
// npu_pool: Lanes parallel pooling accumulators (docs/ARCHITECTURE.md section 2).
//
// One AMEM word (Lanes int8 channels) per cycle on in_x_i, a window from in_first_i to
// in_last_i (kh*kw words, padded positions already replaced by the controller's pad
// value: -128 for max, which never wins, and x_zp for average):
//   max: acc = max over the window                        (int8, sign-extended)
//   avg: acc = avg_bias + sum over the window, avg_bias = -kh*kw*x_zp (bias_i: per lane,
//        npu_core gives every lane the layer's avg_bias)
// At the window's last word the result leaves on out_* in the same cycle (to the
// requantizer: max passes with M = 1, avg is scaled by M = 1/(kh*kw)).
// Widths: a maximum is an int8, compared on 8 bits; an average's sum (and avg_bias) is
// within +-128*kh*kw <= 128*255*255 < 2^23, so it is kept on SumW = 25 bits and
// sign-extended, which equals the int32 sum for every descriptor the compiler writes.
module npu_pool #(
  parameter integer Lanes  = 8,
  parameter integer QWidth = 14
) (
  input  wire                 clk_i,
  input  wire                 is_max_i,
  input  wire [32*Lanes-1:0]  bias_i,
  input  wire                 in_valid_i,
  input  wire                 in_first_i,
  input  wire                 in_last_i,
  input  wire [QWidth-1:0]    in_q_i,
  input  wire [8*Lanes-1:0]   in_x_i,
  output wire                 out_valid_o,
  output wire [QWidth-1:0]    out_q_o,
  output wire [32*Lanes-1:0]  out_acc_o
);
  localparam integer SumW = 25;
  wire [SumW*Lanes-1:0] acc_d;
  reg  [SumW*Lanes-1:0] acc_q;

  genvar l;
  generate
    for (l = 0; l < Lanes; l = l + 1) begin : g_lane
      wire [7:0]      v8  = in_x_i[8*l +: 8];
      wire [SumW-1:0] v   = {{(SumW-8){v8[7]}}, v8};
      wire [SumW-1:0] a   = acc_q[SumW*l +: SumW];
      wire            gt  = $signed(v8) > $signed(a[7:0]);
      wire [SumW-1:0] mx  = (in_first_i || gt) ? v : {{(SumW-8){a[7]}}, a[7:0]};
      assign acc_d[SumW*l +: SumW] = is_max_i ? mx
                                              : (in_first_i ? bias_i[32*l +: SumW] : a) + v;
      assign out_acc_o[32*l +: 32] = {{(32-SumW){acc_d[SumW*l+SumW-1]}}, acc_d[SumW*l +: SumW]};
    end
  endgenerate

  always @(posedge clk_i) begin
    if (in_valid_i) acc_q <= acc_d;
  end

  assign out_valid_o = in_valid_i && in_last_i;
  assign out_q_o     = in_q_i;
  wire [Lanes-1:0] unused_bias;
  generate
    for (l = 0; l < Lanes; l = l + 1) begin : g_unused
      assign unused_bias[l] = ^bias_i[32*l + SumW +: 32 - SumW];
    end
  endgenerate
  wire unused_pool = ^unused_bias;
endmodule
