`default_nettype none
// npu_array, iCE40 logic-only variant (synthesis of boards without DSPs: the HX8K;
// simulation uses rtl/npu_array.v, whose header documents the interface and the driver
// rule; docs/ARCHITECTURE.md section 1). Same ports, the same outputs in the same order
// as rtl/npu_array.v whenever the driver keeps the rule (test/board/ice40_array.test.ts),
// latency Rows + 1. Two differences from the generic array, both for logic cells:
//
// - Row broadcast, as in the UP5K variant (rtl/ice40/npu_array.v): every PE of row i
//   sees lane i delayed i + 1 cycles, so all columns finish together (no output
//   deskew), and a row's PEs all swap tiles in the same cycle: the rule presents row i's
//   weights on w_data_i when the token is i cycles old, and the row's weight registers
//   take them then, one cycle before the tile's first activation reaches the row (no
//   shadow registers, no multiplexer).
// - Multiply-accumulate as radix-4 Booth on the stationary weight: four partial products
//   d * x, d in {-2..2} chosen by three weight bits each, added one after another onto
//   the incoming partial sum on carry chains (about 120 LUT4s per PE instead of ~200 for
//   yosys's multiplier and the adder).
//
// Rows >= 2, Cols >= Rows.
module npu_array #(
  parameter integer Rows      = 8,
  parameter integer Cols      = 8,
  parameter integer TagWidth  = 1,
  parameter integer PsumWidth = 16 + $clog2(Rows),
  parameter integer RowAw     = (Rows > 1) ? $clog2(Rows) : 1
) (
  input  wire                      clk_i,
  input  wire                      rst_ni,
  // weight load
  input  wire                      w_load_i,
  input  wire [RowAw-1:0]          w_row_i,
  input  wire [8*Cols-1:0]         w_data_i,
  // activations in (west edge)
  input  wire                      in_valid_i,
  input  wire                      in_swap_i,
  input  wire [TagWidth-1:0]       in_tag_i,
  input  wire [8*Rows-1:0]         in_x_i,
  // sums out (south edge)
  output wire                      out_valid_o,
  output wire [TagWidth-1:0]       out_tag_o,
  output wire [PsumWidth*Cols-1:0] out_psum_o,
  output wire                      busy_o        // a valid activation is inside
);
  localparam integer Latency = Rows + 1;
  // Swap token delay line: row i's weights load when the token is i cycles old; row i
  // multiplies lane i delayed i + 1.
  localparam integer SwapLen = Rows - 1;

  reg  [SwapLen-1:0] sd_q;
  wire [SwapLen:0]   sd_all = {sd_q, in_swap_i};  // sd_all[d] = token d cycles old
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) sd_q <= {SwapLen{1'b0}};
    else         sd_q <= sd_all[SwapLen-1:0];
  end
  // The rule fixes which row w_data_i holds in which cycle: no row select needed.
  wire unused_load = ^{w_load_i, w_row_i};

  // Partial sums entering row i (row 0: zero), column j.
  wire [PsumWidth-1:0] psum_w [0:Rows][0:Cols-1];

  genvar i, j, m;
  generate
    for (j = 0; j < Cols; j = j + 1) begin : g_top
      assign psum_w[0][j] = {PsumWidth{1'b0}};
    end

    for (i = 0; i < Rows; i = i + 1) begin : g_row
      localparam integer XD = i + 1;
      reg  [8*XD-1:0] xd_q;
      wire [8*XD+7:0] xd_next = {xd_q, in_x_i[8*i +: 8]};
      always @(posedge clk_i) xd_q <= xd_next[8*XD-1:0];
      wire [7:0] x = xd_q[8*XD-1 -: 8];
      wire unused_top = ^xd_next[8*XD+7 -: 8];
      wire [9:0] xs = {{2{x[7]}}, x};  // x sign-extended to the width of 2x

      reg [8*Cols-1:0] active_q;
      always @(posedge clk_i) begin
        if (sd_all[i]) active_q <= w_data_i;
      end

      for (j = 0; j < Cols; j = j + 1) begin : g_pe
        // acc[m + 1] = acc[m] + d_m * x * 4^m, d_m = -2 w[2m+1] + w[2m] + w[2m-1]
        // (w[-1] = 0): the partial product is sel = |d_m| * x, inverted when w[2m+1]
        // is set, whose +1 is the adder's carry-in (for d_m = 0 from bits 111 that is
        // ~0 + 1 = 0).
        wire [8:0] wx = {active_q[8*j +: 8], 1'b0};
        for (m = 0; m < 4; m = m + 1) begin : g_digit
          wire [PsumWidth-1:0] acc_in, acc_out;
          if (m == 0) begin : g_first
            assign acc_in = psum_w[i][j];
          end else begin : g_next
            assign acc_in = g_digit[m-1].acc_out;
          end
          wire       neg = wx[2*m+2];
          wire       one = wx[2*m+1] ^ wx[2*m];
          wire       two = (wx[2*m+2] ^ wx[2*m+1]) & ~one;
          wire [9:0] sel = two ? {xs[8:0], 1'b0} : (one ? xs : 10'd0);
          wire [9:0] pp  = sel ^ {10{neg}};
          wire [PsumWidth-2*m-1:0] hi = acc_in[PsumWidth-1:2*m] +
            {{(PsumWidth-10-2*m){pp[9]}}, pp} + {{(PsumWidth-2*m-1){1'b0}}, neg};
          if (m == 0) begin : g_lsb
            assign acc_out = hi;
          end else begin : g_shift
            assign acc_out = {hi, acc_in[2*m-1:0]};
          end
        end
        reg [PsumWidth-1:0] psum_q;
        always @(posedge clk_i) psum_q <= g_digit[3].acc_out;
        assign psum_w[i+1][j] = psum_q;
      end
    end

    for (j = 0; j < Cols; j = j + 1) begin : g_out
      assign out_psum_o[PsumWidth*j +: PsumWidth] = psum_w[Rows][j];
    end
  endgenerate

  // Bookkeeping delay line, Latency stages (Latency >= 1).
  reg  [TagWidth*Latency-1:0]     tag_q;
  reg  [Latency-1:0]              valid_q;
  wire [TagWidth*(Latency+1)-1:0] tag_next   = {tag_q, in_tag_i};
  wire [Latency:0]                valid_next = {valid_q, in_valid_i};
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) valid_q <= {Latency{1'b0}};
    else         valid_q <= valid_next[Latency-1:0];
  end
  always @(posedge clk_i) tag_q <= tag_next[TagWidth*Latency-1:0];
  assign out_valid_o = valid_q[Latency-1];
  assign busy_o      = |valid_q;
  assign out_tag_o   = tag_q[TagWidth*Latency-1 -: TagWidth];
  wire unused_dl = ^{tag_next[TagWidth*(Latency+1)-1 -: TagWidth], valid_next[Latency]};
endmodule
`default_nettype wire
