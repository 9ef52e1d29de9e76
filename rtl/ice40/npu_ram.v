`default_nettype none
// npu_ram, iCE40 variant (synthesis of every board; simulation uses rtl/npu_ram.v;
// only the UP5K has the SPRAM). Same ports and behaviour as rtl/npu_ram.v except one:
// a read of the address being written in the same cycle returns an undefined word (what
// the EBR gives) instead of the old one. Keeping the old word costs yosys a delayed write
// with a bypass per memory (a Width-bit register, address compares and a Width-bit mux:
// 296 FFs and 165 LUTs on the accumulator RAM alone), and no user reads such a word:
// npu_acc forwards the written sum itself; AMEM's reads and writes in a layer are
// different tensors and a host write's read data is dropped; DMEM is written only while
// the core is idle; CNT is read only while it is idle (host requests while busy are
// dropped). (* no_rw_check *) tells yosys so. A new user that needs the old word must not
// get this variant (or must forward, like npu_acc).
//
// A memory of whole SPRAM blocks (Depth a multiple of 16384 words, Width of 16 bits:
// WMEM, 32768 x 32 = the UP5K's four SPRAMs, or each of its halves when the upper one is
// also AMEM's extension) goes to npu_spram; everything else is the same inferred 1R1W
// block RAM as the generic module. The SPRAM is single-ported: a write cycle takes the
// port, so this relies on rtl/npu_ram.v's stated use for WMEM (never a read used from a
// cycle that writes: the host writes while the core is idle; the extension's owner,
// npu_core, gives both ports one address and never uses the read of a write cycle).
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
  localparam UseSpram = (Depth % 16384 == 0) && (Width % 16 == 0);

  if (UseSpram) begin : g_spram
    npu_spram #(
      .Depth(Depth),
      .Width(Width)
    ) u_spram (
      .clk_i  (clk_i),
      .we_i   (we_i),
      .waddr_i(waddr_i),
      .wdata_i(wdata_i),
      .wmask_i(wmask_i),
      .re_i   (!we_i),
      .raddr_i(raddr_i),
      .rdata_o(rdata_o)
    );
  end else begin : g_ebr
    genvar k;
    (* no_rw_check *) reg [Width-1:0] mem_q [0:Depth-1];
    reg [Width-1:0] rdata_q;

    for (k = 0; k < Width / 8; k = k + 1) begin : g_lane
      always @(posedge clk_i) begin
        if (we_i && wmask_i[k]) mem_q[waddr_i][8*k +: 8] <= wdata_i[8*k +: 8];
      end
    end

    always @(posedge clk_i) rdata_q <= mem_q[raddr_i];

    assign rdata_o = rdata_q;
  end
endmodule
`default_nettype wire
