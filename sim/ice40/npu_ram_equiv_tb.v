`default_nettype none
// npu_ram_equiv_tb: the generic rtl/npu_ram.v beside npu_ram_syn, the iCE40 variant
// (rtl/ice40/npu_ram.v) after yosys synth_ice40 (SB_RAM40_4K, LUTs and flip-flops, with
// yosys's cell models), both driven by the same pseudo-random writes (random byte masks)
// and reads for Cycles cycles. Every read of bytes written before is compared, except
// the read of an address written in the same cycle (undefined on the iCE40 variant, see
// its header). Prints "compared N mismatches M" (test/board/ice40_ram.test.ts).
module npu_ram_equiv_tb #(
  parameter integer Width  = 32,
  parameter integer Depth  = 256,
  parameter integer Cycles = 100000
);
  localparam integer Aw    = (Depth > 1) ? $clog2(Depth) : 1;
  localparam integer Lanes = Width / 8;

  reg clk = 1'b0;
  always #5 clk = ~clk;

  reg [63:0] r0 = 64'h9E3779B97F4A7C15, r1 = 64'h2545F4914F6CDD1D, r2 = 64'hD1B54A32D192ED03;
  function automatic [63:0] xs(input [63:0] v);
    reg [63:0] x;
    begin
      x  = v ^ (v << 13);
      x  = x ^ (x >> 7);
      xs = x ^ (x << 17);
    end
  endfunction

  wire [127:0]     wide  = {r1, r2};
  wire             we    = r0[0];
  wire [Aw-1:0]    waddr = Aw'(r0[47:16] % Depth);
  wire [Aw-1:0]    raddr = Aw'(r0[63:48] % Depth);
  wire [Lanes-1:0] wmask = r0[1] ? {Lanes{1'b1}} : wide[Lanes-1:0];
  wire [Width-1:0] wdata = wide[Width-1:0] ^ {(Width/32){r0[47:16]}};

  wire [Width-1:0] rdata_ref, rdata_syn;

  npu_ram #(.Width(Width), .Depth(Depth)) u_ref (
    .clk_i(clk), .we_i(we), .waddr_i(waddr), .wdata_i(wdata), .wmask_i(wmask),
    .raddr_i(raddr), .rdata_o(rdata_ref)
  );
  npu_ram_syn u_syn (
    .clk_i(clk), .we_i(we), .waddr_i(waddr), .wdata_i(wdata), .wmask_i(wmask),
    .raddr_i(raddr), .rdata_o(rdata_syn)
  );

  // Bytes written so far, per address; what the last cycle's read may compare.
  reg [Lanes-1:0] written [0:Depth-1];
  reg [Lanes-1:0] check_q = {Lanes{1'b0}};
  integer cycle = 0, compared = 0, mismatches = 0, a, k;
  initial for (a = 0; a < Depth; a = a + 1) written[a] = {Lanes{1'b0}};

  always @(posedge clk) begin
    for (k = 0; k < Lanes; k = k + 1) begin
      if (check_q[k]) begin
        compared = compared + 1;
        if (rdata_ref[8*k +: 8] !== rdata_syn[8*k +: 8]) begin
          if (mismatches < 5)
            $display("cycle %0d lane %0d: generic %02x, iCE40 %02x", cycle, k,
                     rdata_ref[8*k +: 8], rdata_syn[8*k +: 8]);
          mismatches = mismatches + 1;
        end
      end
    end
    check_q <= (we && waddr == raddr) ? {Lanes{1'b0}} : written[raddr];
    if (we) written[waddr] <= written[waddr] | wmask;
    r0 <= xs(r0);
    r1 <= xs(r1);
    r2 <= xs(r2);
    cycle <= cycle + 1;
    if (cycle == Cycles) begin
      $display("compared %0d mismatches %0d", compared, mismatches);
      $finish;
    end
  end
endmodule
`default_nettype wire
