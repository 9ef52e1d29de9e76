`default_nettype none
// npu_pool: Lanes parallel max-pooling registers (docs/ARCHITECTURE.md section 2).
//
// One AMEM word (Lanes int8 channels) per cycle on in_x_i, a window from in_first_i to
// in_last_i (kh*kw words, padded positions already replaced by the controller's pad
// value -128, which never wins): max = the int8 maximum over the window. The cycle after
// the window's last word the result leaves on out_* (registered, for timing: it is the
// maximum register itself), to the requantizer's bypass (M = 1: only the lo/hi clamp
// applies). Average pooling has no unit of its own:
// the compiler turns it into a convolution (host/compiler/compile.ts).
module npu_pool #(
  parameter integer Lanes  = 8,
  parameter integer QWidth = 14
) (
  input  wire                 clk_i,
  input  wire                 rst_ni,
  input  wire                 in_valid_i,
  input  wire                 in_first_i,
  input  wire                 in_last_i,
  input  wire [QWidth-1:0]    in_q_i,
  input  wire [8*Lanes-1:0]   in_x_i,
  output wire                 out_valid_o,
  output wire [QWidth-1:0]    out_q_o,
  output wire [8*Lanes-1:0]   out_max_o
);
  reg  [8*Lanes-1:0] max_q;
  wire [8*Lanes-1:0] max_d;

  genvar l;
  generate
    for (l = 0; l < Lanes; l = l + 1) begin : g_lane
      wire [7:0] v  = in_x_i[8*l +: 8];
      wire [7:0] a  = max_q[8*l +: 8];
      assign max_d[8*l +: 8] = (in_first_i || ($signed(v) > $signed(a))) ? v : a;
    end
  endgenerate

  reg              out_v_q;
  reg [QWidth-1:0] out_q_q;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) out_v_q <= 1'b0;
    else         out_v_q <= in_valid_i && in_last_i;
  end
  always @(posedge clk_i) begin
    if (in_valid_i) max_q <= max_d;
    out_q_q <= in_q_i;
  end

  assign out_valid_o = out_v_q;
  assign out_q_o     = out_q_q;
  assign out_max_o   = max_q;   // the window's maximum, until the next window's first word
endmodule
