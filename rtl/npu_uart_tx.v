`default_nettype none
// npu_uart_tx: 8N1 UART transmitter, ClksPerBit clock cycles per bit.
//
// Handshake (valid/ready): while ready_o is high the transmitter is idle; a cycle with
// valid_i && ready_o takes data_i, and the line then carries the start bit, the eight
// data bits LSB first and one stop bit. ready_o rises again after the stop bit, so
// back-to-back bytes leave with no idle time between them. tx_o idles high.
module npu_uart_tx #(
  parameter integer ClksPerBit = 104
) (
  input  wire       clk_i,
  input  wire       rst_ni,
  input  wire [7:0] data_i,
  input  wire       valid_i,
  output wire       ready_o,
  output wire       tx_o
);
  localparam integer CntW = $clog2(ClksPerBit + 1);
  localparam [31:0] LastClk32 = ClksPerBit - 1;
  localparam [CntW-1:0] LastClk = LastClk32[CntW-1:0];

  // left_q counts the bit times still to go (start, 8 data, stop; 0 = idle). shift_q
  // holds the data bits not yet on the line and fills with ones from the top, so after
  // the eighth data bit it supplies the stop bit and then the idle level.
  reg [3:0]      left_q, left_d;
  reg [CntW-1:0] clk_cnt_q, clk_cnt_d;
  reg [7:0]      shift_q, shift_d;
  reg            tx_q, tx_d;

  wire idle    = (left_q == 4'd0);
  wire bit_end = (clk_cnt_q == LastClk);

  always @(*) begin
    left_d    = left_q;
    clk_cnt_d = (idle || bit_end) ? {CntW{1'b0}} : clk_cnt_q + 1'b1;
    shift_d   = shift_q;
    tx_d      = tx_q;
    if (idle) begin
      if (valid_i) begin
        shift_d = data_i;
        tx_d    = 1'b0;   // start bit
        left_d  = 4'd10;
      end
    end else if (bit_end) begin
      tx_d    = shift_q[0];
      shift_d = {1'b1, shift_q[7:1]};
      left_d  = left_q - 4'd1;
    end
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      left_q <= 4'd0;
      tx_q   <= 1'b1;
    end else begin
      left_q <= left_d;
      tx_q   <= tx_d;
    end
  end

  // No reset: the bit timer is cleared while idle, the shift register loaded on a send.
  always @(posedge clk_i) begin
    clk_cnt_q <= clk_cnt_d;
    shift_q   <= shift_d;
  end

  assign ready_o = idle;
  assign tx_o    = tx_q;

`ifndef SYNTHESIS
  initial if (ClksPerBit < 4) $fatal(1, "npu_uart_tx: ClksPerBit must be at least 4");

  // Rules (verilator --assert; proven by formal/uart_tx.ys): the bit timer never passes
  // the bit's last cycle; the line is low for the start bit and high while idle and for
  // the stop bit; after k data bits the top k bits of the shift register are ones (they
  // become the stop bit and the idle level).
  wire [3:0] sent = 4'd10 - left_q;        // bit times ended, the start bit's included
  wire [7:0] ones = ~(8'hFF >> sent);      // the top `sent` bits
  reg a_live_q;                              // out of reset: the checks skip reset
  always @(posedge clk_i or negedge rst_ni)
    if (!rst_ni) a_live_q <= 1'b0;
    else         a_live_q <= 1'b1;
  always @(posedge clk_i) if (a_live_q) begin
    assert (left_q <= 4'd10);
    assert (idle || clk_cnt_q <= LastClk);
    assert (!idle || tx_q);
    assert (left_q != 4'd10 || !tx_q);
    assert (left_q != 4'd1 || tx_q);
    assert (idle || left_q == 4'd10 || (shift_q & ones) == ones);
  end
`endif
endmodule
`default_nettype wire
