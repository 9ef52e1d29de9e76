`default_nettype none
// npu_ram: simple dual-port RAM, one synchronous write port and one synchronous read
// port (1R1W), Width bits x Depth words, with a byte-lane write mask.
//
// Written as a plain reg array so yosys infers block RAM (iCE40 EBR) or, through a
// board wrapper, single-port SPRAM for WMEM (the core never uses a WMEM read from a cycle
// that writes it: the host writes it while the core is idle, and the upper half as AMEM's
// extension gets one address for both ports from npu_core).
// Read: raddr_i in cycle t, rdata_o valid in cycle t+1 (registered). Rule for the
// owner: never use the data of a read of the address being written in the same cycle
// (simulation returns the old word; synthesis leaves it undefined, no_rw_check, which
// spares yosys a collision bypass of a register per data bit: 296 FFs and 189 LUTs for
// the accumulators). The owners meet it: npu_acc (see there), AMEM (a layer reads and
// writes disjoint regions; the next layer starts after the drain), DMEM and CNT (the
// host only while idle, the core only while busy). wmask_i[k] enables byte lane k
// (bits 8k+7..8k).
module npu_ram #(
  parameter integer Width = 32,   // multiple of 8
  parameter integer Depth = 256,
  parameter integer AddrWidth = (Depth > 1) ? $clog2(Depth) : 1
) (
  input  wire                   clk_i,
  input  wire                   we_i,
  input  wire [AddrWidth-1:0]   waddr_i,
  input  wire [Width-1:0]       wdata_i,
  input  wire [Width/8-1:0]     wmask_i,
  input  wire [AddrWidth-1:0]   raddr_i,
  output wire [Width-1:0]       rdata_o
);
  (* no_rw_check *) reg [Width-1:0] mem_q [0:Depth-1];
  reg [Width-1:0] rdata_q;

  genvar k;
  generate
    for (k = 0; k < Width / 8; k = k + 1) begin : g_lane
      always @(posedge clk_i) begin
        if (we_i && wmask_i[k]) mem_q[waddr_i][8*k +: 8] <= wdata_i[8*k +: 8];
      end
    end
  endgenerate

  always @(posedge clk_i) rdata_q <= mem_q[raddr_i];

  assign rdata_o = rdata_q;

`ifndef SYNTHESIS
  // A write past Depth (only a malformed descriptor program makes one: docs/ARCHITECTURE.md
  // section 4) is dropped, here as in the block RAMs; reported once.
  wire [31:0] waddr32 = {{(32-AddrWidth){1'b0}}, waddr_i};
  reg         reported;
  initial reported = 1'b0;
  always @(posedge clk_i) begin
    if (we_i && (waddr32 >= Depth) && !reported) begin
      $display("npu_ram: write address %0d past Depth %0d dropped", waddr_i, Depth);
      reported <= 1'b1;
    end
  end
`endif
endmodule
