`default_nettype none
// npu_array, iCE40UP variant (synthesis of boards with hard blocks only; simulation and
// the HX8K use rtl/npu_array.v, whose header documents the interface). Identical to
// rtl/npu_array.v except for the PE grid: rows 2r and 2r+1 of column j share one
// SB_MAC16 in 8x8 mode (npu_dsp_mul2), so a 4 x 4 array's 16 int8 multipliers are the
// UP5K's 8 DSPs instead of ~200 logic cells each. The PEs are npu_pe_dsp (npu_pe with
// the multiplier outside). test/board/ice40_array.test.ts checks cycle-for-cycle
// equivalence with rtl/npu_array.v under random stimulus (yosys's SB_MAC16 model):
// keep the two files in step.
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
  output wire [PsumWidth*Cols-1:0] out_psum_o
);
  localparam integer Latency = Rows + Cols - 1;

  // Inter-PE wires: x/swap indexed [row][col+1] (col 0 = skewed input), psums
  // [row+1][col] (row 0 = zero).
  wire [7:0]           x_w    [0:Rows-1][0:Cols];
  wire                 swap_w [0:Rows-1][0:Cols];
  wire [PsumWidth-1:0] psum_w [0:Rows][0:Cols-1];
  // Multiplier operands and products of PE(i, j), to and from the shared SB_MAC16s.
  wire [7:0]           mx_w   [0:Rows-1][0:Cols-1];
  wire [7:0]           mw_w   [0:Rows-1][0:Cols-1];
  wire [15:0]          mp_w   [0:Rows-1][0:Cols-1];

  genvar i, j;
  generate
    // Input skew: row i delayed by i cycles (token with it).
    for (i = 0; i < Rows; i = i + 1) begin : g_skew
      if (i == 0) begin : g_direct
        assign x_w[0][0]    = in_x_i[7:0];
        assign swap_w[0][0] = in_swap_i;
      end else begin : g_delay
        reg [7:0] xd_q [0:i-1];
        reg       sd_q [0:i-1];
        integer k;
        always @(posedge clk_i or negedge rst_ni) begin
          if (!rst_ni) begin
            for (k = 0; k < i; k = k + 1) sd_q[k] <= 1'b0;
          end else begin
            sd_q[0] <= in_swap_i;
            for (k = 1; k < i; k = k + 1) sd_q[k] <= sd_q[k-1];
          end
        end
        always @(posedge clk_i) begin
          xd_q[0] <= in_x_i[8*i +: 8];
          for (k = 1; k < i; k = k + 1) xd_q[k] <= xd_q[k-1];
        end
        assign x_w[i][0]    = xd_q[i-1];
        assign swap_w[i][0] = sd_q[i-1];
      end
    end

    for (j = 0; j < Cols; j = j + 1) begin : g_top
      assign psum_w[0][j] = {PsumWidth{1'b0}};
    end

    // The PE grid; multipliers in pairs of rows, one SB_MAC16 each.
    for (i = 0; i < Rows; i = i + 1) begin : g_row
      for (j = 0; j < Cols; j = j + 1) begin : g_col
        npu_pe_dsp #(
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
          .south_psum_o(psum_w[i+1][j]),
          .mul_x_o     (mx_w[i][j]),
          .mul_w_o     (mw_w[i][j]),
          .mul_p_i     (mp_w[i][j])
        );
      end
    end

    for (i = 0; i < Rows; i = i + 2) begin : g_dsp_row
      for (j = 0; j < Cols; j = j + 1) begin : g_dsp_col
        npu_dsp_mul2 u_dsp (
          .clk_i(clk_i),
          .a0_i (mx_w[i][j]),
          .b0_i (mw_w[i][j]),
          .a1_i (mx_w[i+1][j]),
          .b1_i (mw_w[i+1][j]),
          .p0_o (mp_w[i][j]),
          .p1_o (mp_w[i+1][j])
        );
      end
    end

    // Output deskew: column j delayed by Cols-1-j cycles.
    for (j = 0; j < Cols; j = j + 1) begin : g_deskew
      if (j == Cols - 1) begin : g_direct
        assign out_psum_o[PsumWidth*j +: PsumWidth] = psum_w[Rows][j];
      end else begin : g_delay
        reg [PsumWidth-1:0] pd_q [0:Cols-2-j];
        integer k;
        always @(posedge clk_i) begin
          pd_q[0] <= psum_w[Rows][j];
          for (k = 1; k < Cols - 1 - j; k = k + 1) pd_q[k] <= pd_q[k-1];
        end
        assign out_psum_o[PsumWidth*j +: PsumWidth] = pd_q[Cols-2-j];
      end
    end
  endgenerate

  // Bookkeeping delay line, Latency stages.
  reg [TagWidth-1:0] tag_q   [0:Latency-1];
  reg                valid_q [0:Latency-1];
  integer s;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      for (s = 0; s < Latency; s = s + 1) valid_q[s] <= 1'b0;
    end else begin
      valid_q[0] <= in_valid_i;
      for (s = 1; s < Latency; s = s + 1) valid_q[s] <= valid_q[s-1];
    end
  end
  always @(posedge clk_i) begin
    tag_q[0] <= in_tag_i;
    for (s = 1; s < Latency; s = s + 1) tag_q[s] <= tag_q[s-1];
  end
  assign out_valid_o = valid_q[Latency-1];
  assign out_tag_o   = tag_q[Latency-1];

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
