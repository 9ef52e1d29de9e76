`default_nettype none
// npu_spram: a Depth x Width RAM built from iCE40UP SPRAM blocks (SB_SPRAM256KA,
// 16384 x 16 each): Width/16 blocks side by side, Depth/16384 banks deep, so 32768 x 32
// (128 KiB) is the UP5K's four SPRAMs.
//
// Port: one address per cycle (SPRAM is single-ported). A write (we_i) takes the cycle;
// otherwise re_i reads raddr_i and rdata_o shows the word on the next cycle and holds it
// until the next read. Reading and writing in the same cycle is refused by an assertion:
// the caller (WMEM: written by the host while the core is idle, read by the core while
// it runs) never does it, and that is what lets a 1R1W memory live in SPRAM.
// rdata_o after a write cycle is not defined (the SPRAM drives its output during
// writes); read again.
module npu_spram #(
  parameter integer Depth = 32768,
  parameter integer Width = 32,
  parameter integer AddrW = $clog2(Depth)
) (
  input  wire             clk_i,
  input  wire             we_i,
  input  wire [AddrW-1:0] waddr_i,
  input  wire [Width-1:0] wdata_i,
  input  wire [Width/8-1:0] wmask_i,  // byte lanes to write
  input  wire             re_i,
  input  wire [AddrW-1:0] raddr_i,
  output wire [Width-1:0] rdata_o
);
  localparam integer Cols  = Width / 16;
  localparam integer Banks = Depth / 16384;
  localparam integer BankW = (Banks > 1) ? $clog2(Banks) : 1;

  wire [AddrW-1:0] addr = we_i ? waddr_i : raddr_i;
  wire [BankW-1:0] bank;
  reg  [BankW-1:0] rbank_q;  // bank of the last read, selects the output

  if (Banks > 1) begin : g_bank_sel
    assign bank = addr[AddrW-1:14];
  end else begin : g_one_bank
    assign bank = 1'b0;
  end

  always @(posedge clk_i) begin
    if (re_i && !we_i) rbank_q <= bank;
  end

  wire [Width-1:0] bank_dout [0:Banks-1];

  genvar b, c;
  for (b = 0; b < Banks; b = b + 1) begin : g_bank
    wire cs = (we_i || re_i) && (bank == b[BankW-1:0]);
    for (c = 0; c < Cols; c = c + 1) begin : g_col
      SB_SPRAM256KA u_spram (
        .ADDRESS   (addr[13:0]),
        .DATAIN    (wdata_i[16*c +: 16]),
        // MASKWREN enables nibbles: byte lane k is nibbles 2k and 2k+1
        .MASKWREN  ({{2{wmask_i[2*c+1]}}, {2{wmask_i[2*c]}}}),
        .WREN      (we_i),
        .CHIPSELECT(cs),
        .CLOCK     (clk_i),
        .STANDBY   (1'b0),
        .SLEEP     (1'b0),
        .POWEROFF  (1'b1),  // active low: powered
        .DATAOUT   (bank_dout[b][16*c +: 16])
      );
    end
  end

  assign rdata_o = bank_dout[rbank_q];

`ifndef SYNTHESIS
  initial begin
    if (Depth % 16384 != 0 || Width % 16 != 0)
      $fatal(1, "npu_spram: Depth must be a multiple of 16384 and Width of 16");
  end
  always @(posedge clk_i) begin
    if (we_i && re_i) $error("npu_spram: read and write in the same cycle");
  end
`endif
endmodule
`default_nettype wire
