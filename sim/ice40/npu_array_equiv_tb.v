`default_nettype none
// npu_array_equiv_tb: drives an npu_array (Rows = Cols = 4) with pseudo-random weight
// loads, tokens, tags and activations (xorshift64, fixed seed) for Cycles cycles and
// prints a 64-bit signature of every output. Compiled once with rtl/npu_array.v and once
// with the iCE40 variant (rtl/ice40/npu_array.v + SB_MAC16 model): equal signatures
// mean cycle-for-cycle equal outputs (test/board/ice40_array.test.ts).
module npu_array_equiv_tb #(
  parameter integer Cycles = 200000
);
  localparam integer Dim = 4;
  localparam integer PsumWidth = 16 + $clog2(Dim);
  reg clk = 1'b0;
  reg rst_n = 1'b0;
  reg [63:0] rng = 64'h9E3779B97F4A7C15;
  reg [63:0] sig = 64'd0;
  integer cycle = 0, nonzero = 0;

  wire                     out_valid;
  wire [7:0]               out_tag;
  wire [PsumWidth*Dim-1:0] out_psum;

  npu_array #(.Rows(Dim), .Cols(Dim), .TagWidth(8), .PsumWidth(PsumWidth)) dut (
    .clk_i      (clk),
    .rst_ni     (rst_n),
    .w_load_i   (rng[0]),
    .w_row_i    (rng[2:1]),
    .w_data_i   (rng[63:32]),
    .in_valid_i (rng[3]),
    .in_swap_i  (rng[4] & rng[5]),
    .in_tag_i   (rng[15:8]),
    .in_x_i     (rng[47:16]),
    .out_valid_o(out_valid),
    .out_tag_o  (out_tag),
    .out_psum_o (out_psum)
  );

  always #5 clk = ~clk;

  reg [63:0] x;
  always @(posedge clk) begin
    x = rng ^ (rng << 13);
    x = x ^ (x >> 7);
    rng <= x ^ (x << 17);
    cycle <= cycle + 1;
    if (cycle == 4) rst_n <= 1'b1;
    if (rst_n) begin
      sig <= {sig[62:0], sig[63]} ^ {out_psum[63:0]} ^ {out_psum[PsumWidth*Dim-1:64], 47'd0, out_valid, out_tag};
      if (out_psum != 0) nonzero <= nonzero + 1;
    end
    if (cycle == Cycles) begin
      $display("signature %016x nonzero %0d", sig, nonzero);
      $finish;
    end
  end
endmodule
`default_nettype wire
