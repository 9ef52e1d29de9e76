`default_nettype none
// npu_array_equiv_tb: drives an npu_array (Rows = Cols = 4) with pseudo-random weight
// loads, tokens, tags and activations (xorshift64, fixed seed) for Cycles cycles and
// prints a 64-bit signature of every valid output (tag and sums, in order). Compiled once
// with rtl/npu_array.v and once with each iCE40 variant (rtl/ice40/npu_array.v + SB_MAC16
// model, rtl/ice40/fabric/npu_array.v): equal signatures mean the same outputs in the same
// order, whatever each variant's latency (test/board/ice40_array.test.ts). It also checks
// busy_o against the number of valid activations in_flight (entered, not yet out) and prints
// the cycles where they disagree.
//
// The stimulus keeps npu_array's driver rule (rtl/npu_array.v) and nothing more: swap
// tokens at random, at least Cols cycles apart and only out of reset; row r loaded in
// cycle t + r after a token at cycle t; other weight loads at random (any row, any
// cycle) except where the generic array's PEs of row r still read its shadow (cycles
// t + r + 1 .. t + r + Cols - 1). Activations, valids and tags are free. A quarter of the weight and
// activation bytes are -128 (a second xorshift picks them), so that the extreme sums
// (two rows of -128 * -128 = +32768, past int16) occur often.
module npu_array_equiv_tb #(
  parameter integer Cycles = 200000
);
  localparam integer Dim = 4;
  localparam integer PsumWidth = 16 + $clog2(Dim);
  reg clk = 1'b0;
  reg rst_n = 1'b0;
  reg [63:0] rng = 64'h9E3779B97F4A7C15;
  reg [63:0] rng2 = 64'h2545F4914F6CDD1D;
  reg [63:0] sig = 64'd0;
  integer cycle = 0, nonzero = 0;

  // Rule-keeping token and load (see the header).
  integer since_swap = Dim;
  reg [2*Dim-1:0] swap_hist = 0;                      // swap_hist[k]: token k+1 cycles ago
  wire            swap     = rst_n && since_swap >= Dim && rng[4] && rng[5];
  wire [2*Dim:0]  hist_now = {swap_hist, swap};      // hist_now[k]: token k cycles ago
  // the row a token r cycles ago asks for (at most one: tokens are Dim apart)
  reg  [1:0]      due_row;
  reg             due;
  integer         k;
  always @* begin
    due = 1'b0;
    due_row = 2'd0;
    for (k = 0; k < Dim; k = k + 1) if (hist_now[k]) begin due = 1'b1; due_row = k[1:0]; end
  end
  wire [1:0]      rnd_row  = rng[2:1];
  wire [Dim-2:0]  window   = hist_now[rnd_row + 1 +: Dim - 1];
  wire [1:0]      w_row    = due ? due_row : rnd_row;
  wire            w_load   = due || (rng[0] && (window == 0));

  // Bytes of w_data / in_x: -128 where both mask bits are set, else the random byte.
  wire [8*Dim-1:0] w_data, x_in;
  genvar b;
  for (b = 0; b < Dim; b = b + 1) begin : g_byte
    assign w_data[8*b +: 8] = (rng2[2*b] & rng2[2*b+1]) ? 8'h80 : rng[32 + 8*b +: 8];
    assign x_in[8*b +: 8]   = (rng2[16+2*b] & rng2[17+2*b]) ? 8'h80 : rng[16 + 8*b +: 8];
  end

  // no new activations in the last 32 cycles: every variant has emitted all of them
  wire                     in_valid = rng[3] && cycle < Cycles - 32;
  wire                     out_valid, busy;
  integer                  in_flight = 0, busy_bad = 0;
  wire [7:0]               out_tag;
  wire [PsumWidth*Dim-1:0] out_psum;

  npu_array #(.Rows(Dim), .Cols(Dim), .TagWidth(8), .PsumWidth(PsumWidth)) dut (
    .clk_i      (clk),
    .rst_ni     (rst_n),
    .w_load_i   (w_load),
    .w_row_i    (w_row),
    .w_data_i   (w_data),
    .in_valid_i (in_valid),
    .in_swap_i  (swap),
    .in_tag_i   (rng[15:8]),
    .in_x_i     (x_in),
    .out_valid_o(out_valid),
    .out_tag_o  (out_tag),
    .out_psum_o (out_psum),
    .busy_o     (busy)
  );

  always #5 clk = ~clk;

  reg [63:0] x, y;
  always @(posedge clk) begin
    y = rng2 ^ (rng2 << 13);
    y = y ^ (y >> 7);
    rng2 <= y ^ (y << 17);
    x = rng ^ (rng << 13);
    x = x ^ (x >> 7);
    rng <= x ^ (x << 17);
    cycle <= cycle + 1;
    swap_hist  <= hist_now[2*Dim-1:0];
    since_swap <= swap ? 1 : (since_swap < Dim ? since_swap + 1 : since_swap);
    if (cycle == 4) rst_n <= 1'b1;
    if (rst_n && out_valid) begin
      sig <= {sig[62:0], sig[63]} ^ {out_psum[63:0]} ^ {out_psum[PsumWidth*Dim-1:64], 48'd0, out_tag};
      if (out_psum != 0) nonzero <= nonzero + 1;
    end
    if (rst_n) begin
      in_flight <= in_flight + (in_valid ? 1 : 0) - (out_valid ? 1 : 0);
      if (busy != (in_flight != 0)) busy_bad <= busy_bad + 1;
    end
    if (cycle == Cycles) begin
      $display("signature %016x nonzero %0d busy mismatches %0d", sig, nonzero, busy_bad);
      $finish;
    end
  end
endmodule
`default_nettype wire
