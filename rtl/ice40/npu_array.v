`default_nettype none
// npu_array, iCE40UP variant (synthesis of boards with hard blocks only; simulation and
// the HX8K use other variants; rtl/npu_array.v's header documents the interface and the
// driver rule; docs/ARCHITECTURE.md section 1). Same ports, the same outputs in the same
// order as rtl/npu_array.v whenever the driver keeps the rule
// (test/board/ice40_array.test.ts, against yosys's SB_MAC16 model), latency Rows + 2;
// built for the UP5K's 8 SB_MAC16s, so the structure differs:
//
// - Row broadcast instead of east-flowing activations: every PE of row i sees lane i
//   delayed i cycles (the generic PE(i, j) sees it delayed 1 + i + j), so all columns
//   finish together and there is no output deskew (no (Cols-1)Cols/2 psum registers).
//   Under the rule the sums are the same: a row's PEs all hold the same tile's weights
//   while that tile's activations pass.
// - PEs (i, 2c) and (i, 2c+1) share one SB_MAC16 in 8x8 mode (A = {x_i, x_i}, B = the
//   two weights): they swap tiles in the same cycle, so the DSP's B input register is
//   the active weight register. The rule presents row i's weights on w_data_i in the
//   cycle the token is i cycles old, which is when lane i (delayed i) enters the DSP's A
//   register: B loads from w_data_i then and holds otherwise. No shadow or active
//   registers, no weight muxes, a registered multiplier.
// - Rows 0 and 1 accumulate inside the DSPs, offset by -1 so that two int8 products fit
//   the 16-bit adders: row 0 registers u1 = p0 + (-1), row 1 u2 = u1 + p1 = p0 + p1 - 1
//   in [-32513, 32767] (the sum itself can be +32768). Rows 2.. add in logic:
//   s3 = u2 + p2 + 1 (the 1 is the carry-in), then s(i+1) = s(i) + p(i), at the width
//   i + 1 products need.
//
// Rows and Cols even, both >= 4 (the UP5K board: 4 x 4 in 8 DSPs).
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
  localparam integer Latency = Rows + 2;
  localparam integer Pairs   = Cols / 2;
  // Swap token delay line: row i's DSPs load B in the cycle the token is i cycles old.
  localparam integer SwapLen = Rows - 1;

  reg [SwapLen-1:0] sd_q;
  wire [SwapLen:0]  sd_all = {sd_q, in_swap_i};  // sd_all[d] = token d cycles old
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) sd_q <= {SwapLen{1'b0}};
    else         sd_q <= sd_all[SwapLen-1:0];
  end
  // The rule fixes which row w_data_i holds in which cycle: no row select needed.
  wire unused_load = ^{w_load_i, w_row_i};

  // Row i, pair c: {p(i, 2c+1), p(i, 2c)} (rows >= 2, registered products), or the
  // DSP's registered sums u1 / u2 (rows 0, 1).
  wire [31:0] dsp_o [0:Rows-1][0:Pairs-1];

  genvar i, c, j;
  generate
    for (i = 0; i < Rows; i = i + 1) begin : g_row
      // Activation lane i, delayed i cycles into the DSPs' A registers.
      localparam integer XD = i;
      wire [7:0] x_pre;
      if (XD == 0) begin : g_x_direct
        assign x_pre = in_x_i[8*i +: 8];
      end else begin : g_x_delay
        reg  [8*XD-1:0] xd_q;
        wire [8*XD+7:0] xd_next = {xd_q, in_x_i[8*i +: 8]};
        always @(posedge clk_i) xd_q <= xd_next[8*XD-1:0];
        assign x_pre = xd_q[8*XD-1 -: 8];
        wire unused_top = ^xd_next[8*XD+7 -: 8];
      end

      // Row i's weights (byte j = column j) are on w_data_i when the token is i cycles old.
      wire b_load = sd_all[i];

      for (c = 0; c < Pairs; c = c + 1) begin : g_pair
        // Rows 0 and 1: registered 16-bit adders, C/D + product. Row 0 adds -1, row 1
        // row 0's result of the same columns.
        localparam [0:0] Acc = (i < 2);
        wire [15:0] c_in, d_in;
        if (i == 1) begin : g_chain
          assign d_in = dsp_o[0][c][15:0];
          assign c_in = dsp_o[0][c][31:16];
        end else begin : g_minus_one
          assign d_in = 16'hFFFF;
          assign c_in = 16'hFFFF;
        end
        wire unused_co, unused_accumco, unused_signextout;

        SB_MAC16 #(
          .NEG_TRIGGER             (1'b0),
          .C_REG                   (1'b0),
          .A_REG                   (1'b1),  // last activation delay stage
          .B_REG                   (1'b1),  // active weights
          .D_REG                   (1'b0),
          .TOP_8x8_MULT_REG        (1'b1),  // products registered
          .BOT_8x8_MULT_REG        (1'b1),
          .PIPELINE_16x16_MULT_REG1(1'b0),
          .PIPELINE_16x16_MULT_REG2(1'b0),
          // top: O[31:16] = registered C + F (rows 0, 1) or F = A[15:8] * B[15:8]
          .TOPOUTPUT_SELECT        (Acc ? 2'b01 : 2'b10),
          .TOPADDSUB_LOWERINPUT    (2'b01),  // F
          .TOPADDSUB_UPPERINPUT    (1'b1),   // C
          .TOPADDSUB_CARRYSELECT   (2'b00),
          // bottom: O[15:0] = registered D + G (rows 0, 1) or G = A[7:0] * B[7:0]
          .BOTOUTPUT_SELECT        (Acc ? 2'b01 : 2'b10),
          .BOTADDSUB_LOWERINPUT    (2'b01),  // G
          .BOTADDSUB_UPPERINPUT    (1'b1),   // D
          .BOTADDSUB_CARRYSELECT   (2'b00),
          .MODE_8x8                (1'b1),
          .A_SIGNED                (1'b1),
          .B_SIGNED                (1'b1)
        ) u_mac16 (
          .CLK       (clk_i),
          .CE        (1'b1),
          .C         (c_in),
          .A         ({x_pre, x_pre}),
          .B         (w_data_i[16*c +: 16]),
          .D         (d_in),
          .AHOLD     (1'b0),
          .BHOLD     (!b_load),
          .CHOLD     (1'b0),
          .DHOLD     (1'b0),
          .IRSTTOP   (1'b0),
          .IRSTBOT   (1'b0),
          .ORSTTOP   (1'b0),
          .ORSTBOT   (1'b0),
          .OLOADTOP  (1'b0),
          .OLOADBOT  (1'b0),
          .ADDSUBTOP (1'b0),  // add
          .ADDSUBBOT (1'b0),
          .OHOLDTOP  (1'b0),
          .OHOLDBOT  (1'b0),
          .CI        (1'b0),
          .ACCUMCI   (1'b0),
          .SIGNEXTIN (1'b0),
          .O         (dsp_o[i][c]),
          .CO        (unused_co),
          .ACCUMCO   (unused_accumco),
          .SIGNEXTOUT(unused_signextout)
        );
      end
    end

    // Rows 2.. in logic, column by column: s3 = u2 + p2 + 1, s(i+1) = s(i) + p(i). s(k)
    // holds a sum of k products in [-16256 k, 16384 k]: SW(k) bits.
    for (j = 0; j < Cols; j = j + 1) begin : g_col
      wire [15:0] u2 = dsp_o[1][j / 2][16*(j % 2) +: 16];
      wire [PsumWidth-1:0] s_w [3:Rows];
      for (i = 2; i < Rows; i = i + 1) begin : g_add
        localparam integer SW = ($clog2(16384 * (i + 1) + 1) + 1 < PsumWidth) ?
                                $clog2(16384 * (i + 1) + 1) + 1 : PsumWidth;
        wire [15:0] p = dsp_o[i][j / 2][16*(j % 2) +: 16];
        reg  [SW-1:0] s_q;
        if (i == 2) begin : g_first
          always @(posedge clk_i) s_q <= {{(SW-16){p[15]}}, p} + {{(SW-16){u2[15]}}, u2} + 1'b1;
        end else begin : g_next
          wire [PsumWidth-1:0] prev = s_w[i];  // sign-extended: the top bits repeat
          wire unused_prev = ^prev;
          always @(posedge clk_i) s_q <= prev[SW-1:0] + {{(SW-16){p[15]}}, p};
        end
        assign s_w[i+1] = {{(PsumWidth-SW){s_q[SW-1]}}, s_q};
      end
      assign out_psum_o[PsumWidth*j +: PsumWidth] = s_w[Rows];
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

`ifndef SYNTHESIS
  initial begin
    if (Rows < 4 || Rows % 2 != 0 || Cols < Rows || Cols % 2 != 0 || PsumWidth < 17)
      $fatal(1, "npu_array (iCE40): Rows even and >= 4, Cols even and >= Rows, PsumWidth >= 17");
  end
`endif
endmodule
`default_nettype wire
