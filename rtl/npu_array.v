`default_nettype none
// npu_array: Rows x Cols weight-stationary systolic array (docs/ARCHITECTURE.md section 1)
// with its input skew and output deskew, so that the ports are plain vectors:
//
//   out_psum_o[j] (cycle t + Latency) = sum_i W[j][i] * in_x_i[i] (cycle t)
//
// Row i is an input-channel lane, column j an output-channel lane. The inputs are
// registered once; then in_x_i lane i enters PE(i, 0) after i skew registers and flows
// east; partial sums flow south and column j leaves PE(Rows-1, j) through Cols-1-j
// deskew registers, so Latency = Rows + Cols here. in_valid_i / in_tag_i ride a delay
// line of the same length (out_valid_o, out_tag_o): the controller's per-activation
// bookkeeping (accumulator entry, first/last tile) comes out beside the matching sums.
// busy_o: a valid activation is inside. The iCE40 variants (rtl/ice40/) have other
// latencies: a driver that needs it waits for out_valid_o / busy_o, never counts cycles.
//
// Weight tiles: in_swap_i marks the first activation of a new tile; w_load_i writes
// w_data_i (byte j = weight of column j) into the shadow registers of row w_row_i; the
// token travels with the data (skewed like it), and each PE switches to its shadow
// weight when the token passes. Rule for the driver (docs/ARCHITECTURE.md section 1):
// row r of tile k is presented (w_load_i, w_row_i = r) in cycle t_k + r, where t_k is
// the cycle its first activation is presented here, and t_(k+1) - t_k >= Cols >= Rows
// (tiles at least Cols cycles apart). The iCE40 variants keep no shadow registers: a
// row takes its weights from w_data_i in exactly that cycle.
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
  // activations in (west edge, before skew)
  input  wire                      in_valid_i,
  input  wire                      in_swap_i,
  input  wire [TagWidth-1:0]       in_tag_i,
  input  wire [8*Rows-1:0]         in_x_i,
  // sums out (south edge, after deskew)
  output wire                      out_valid_o,
  output wire [TagWidth-1:0]       out_tag_o,
  output wire [PsumWidth*Cols-1:0] out_psum_o,
  output wire                      busy_o        // a valid activation is inside
);
  localparam integer Latency = Rows + Cols;

  // Input register (the rule gives row r's weights in the cycle its activation enters;
  // the shadow written then is read by the PEs one cycle later).
  reg                in_valid_q, in_swap_q;
  reg [TagWidth-1:0] in_tag_q;
  reg [8*Rows-1:0]   in_x_q;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      in_valid_q <= 1'b0;
      in_swap_q  <= 1'b0;
    end else begin
      in_valid_q <= in_valid_i;
      in_swap_q  <= in_swap_i;
    end
  end
  always @(posedge clk_i) begin
    in_tag_q <= in_tag_i;
    in_x_q   <= in_x_i;
  end

  // Inter-PE wires: x/swap indexed [row][col+1] (col 0 = skewed input), psums
  // [row+1][col] (row 0 = zero).
  wire [7:0]           x_w    [0:Rows-1][0:Cols];
  wire                 swap_w [0:Rows-1][0:Cols];
  wire [PsumWidth-1:0] psum_w [0:Rows][0:Cols-1];

  genvar i, j;
  generate
    // Input skew: row i delayed by i cycles (token with it).
    for (i = 0; i < Rows; i = i + 1) begin : g_skew
      if (i == 0) begin : g_direct
        assign x_w[0][0]    = in_x_q[7:0];
        assign swap_w[0][0] = in_swap_q;
      end else begin : g_delay
        // i-stage shift registers, flat so that synthesis sees plain flip-flops
        reg  [8*i-1:0]   xd_q;
        reg  [i-1:0]     sd_q;
        wire [8*i+7:0]   xd_next = {xd_q, in_x_q[8*i +: 8]};
        wire [i:0]       sd_next = {sd_q, in_swap_q};
        always @(posedge clk_i or negedge rst_ni) begin
          if (!rst_ni) sd_q <= {i{1'b0}};
          else         sd_q <= sd_next[i-1:0];
        end
        always @(posedge clk_i) xd_q <= xd_next[8*i-1:0];
        assign x_w[i][0]    = xd_q[8*i-1 -: 8];
        assign swap_w[i][0] = sd_q[i-1];
        wire unused_top = ^{xd_next[8*i+7:8*i], sd_next[i]};
      end
    end

    for (j = 0; j < Cols; j = j + 1) begin : g_top
      assign psum_w[0][j] = {PsumWidth{1'b0}};
    end

    // The PE grid.
    for (i = 0; i < Rows; i = i + 1) begin : g_row
      for (j = 0; j < Cols; j = j + 1) begin : g_col
        npu_pe #(
          .PsumWidth(PsumWidth)
        ) u_pe (
          .clk_i       (clk_i),
          .rst_ni      (rst_ni),
          .w_load_i    (w_load_i && (w_row_i == i[RowAw-1:0])),
          .w_data_i    (w_data_i[8*j +: 8]),
          .west_x_i    (x_w[i][j]),
          .west_swap_i (swap_w[i][j]),
          .east_x_o    (x_w[i][j+1]),
          .east_swap_o (swap_w[i][j+1]),
          .north_psum_i(psum_w[i][j]),
          .south_psum_o(psum_w[i+1][j])
        );
      end
    end

    // Output deskew: column j delayed by Cols-1-j cycles.
    for (j = 0; j < Cols; j = j + 1) begin : g_deskew
      if (j == Cols - 1) begin : g_direct
        assign out_psum_o[PsumWidth*j +: PsumWidth] = psum_w[Rows][j];
      end else begin : g_delay
        localparam integer D = Cols - 1 - j;
        reg  [PsumWidth*D-1:0]         pd_q;
        wire [PsumWidth*(D+1)-1:0]     pd_next = {pd_q, psum_w[Rows][j]};
        always @(posedge clk_i) pd_q <= pd_next[PsumWidth*D-1:0];
        assign out_psum_o[PsumWidth*j +: PsumWidth] = pd_q[PsumWidth*D-1 -: PsumWidth];
        wire unused_top = ^pd_next[PsumWidth*(D+1)-1 -: PsumWidth];
      end
    end
  endgenerate

  // Bookkeeping delay line: the input register and Latency - 1 stages.
  localparam integer DL = Latency - 1;
  reg  [TagWidth*DL-1:0]     tag_q;
  reg  [DL-1:0]              valid_q;
  wire [TagWidth*(DL+1)-1:0] tag_next   = {tag_q, in_tag_q};
  wire [DL:0]                valid_next = {valid_q, in_valid_q};
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) valid_q <= {DL{1'b0}};
    else         valid_q <= valid_next[DL-1:0];
  end
  always @(posedge clk_i) tag_q <= tag_next[TagWidth*DL-1:0];
  assign out_valid_o = valid_q[DL-1];
  assign busy_o      = in_valid_q || (|valid_q);
  assign out_tag_o   = tag_q[TagWidth*DL-1 -: TagWidth];
  wire unused_dl = ^{tag_next[TagWidth*(DL+1)-1 -: TagWidth], valid_next[DL]};

`ifndef SYNTHESIS
  // Interface rule (double buffering, rtl/ice40/ variants): tiles start at least Cols
  // cycles apart, and row r of a tile whose token came at cycle t is loaded in cycle
  // t + r. Reported always (the first violation of each); fatal with +npu_strict (the
  // core benches; an equivalence bench that drives random tokens on purpose runs without
  // it).
  integer since_swap;
  reg     reported, reported_load;
  reg  [Rows-2:0] swap_hist;                       // swap_hist[k]: token k+1 cycles ago
  wire [Rows-1:0] hist_now = {swap_hist, in_swap_i};
  integer lr;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      since_swap    <= Cols;
      reported      <= 1'b0;
      reported_load <= 1'b0;
      swap_hist     <= {(Rows-1){1'b0}};
    end else begin
      swap_hist <= hist_now[Rows-2:0];
      if (in_swap_i) begin
        if (since_swap < Cols) begin
          if (!reported) $display("npu_array: weight tiles %0d cycles apart, need >= %0d", since_swap, Cols);
          reported <= 1'b1;
          if ($test$plusargs("npu_strict")) $stop;
        end
        since_swap <= 1;
      end else if (since_swap < Cols) since_swap <= since_swap + 1;
      for (lr = 0; lr < Rows; lr = lr + 1) begin
        if (hist_now[lr] && !(w_load_i && w_row_i == lr[RowAw-1:0])) begin
          if (!reported_load) $display("npu_array: row %0d of a tile not loaded %0d cycles after its token", lr, lr);
          reported_load <= 1'b1;
          if ($test$plusargs("npu_strict")) $stop;
        end
      end
    end
  end
`endif

  // x and token leaving the east edge are unused by design.
  wire unused_east;
  generate
    if (1) begin : g_unused
      reg acc;
      integer r;
      always @* begin
        acc = 1'b0;
        for (r = 0; r < Rows; r = r + 1) acc = acc ^ swap_w[r][Cols] ^ (^x_w[r][Cols]);
      end
      assign unused_east = acc;
    end
  endgenerate
endmodule
