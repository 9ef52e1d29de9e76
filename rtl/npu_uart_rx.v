`default_nettype none
// npu_uart_rx: 8N1 UART receiver, ClksPerBit clock cycles per bit.
//
// rx_i is asynchronous: it passes a two-flop synchroniser first. A falling edge
// starts a byte; the start bit is checked again half a bit later (a shorter glitch is
// ignored), then each data bit (LSB first) and the stop bit are sampled in the middle of
// their bit time. At the middle of the stop bit, valid_o pulses for one cycle with
// data_o if the stop bit is high; otherwise frame_err_o pulses instead and the
// receiver waits for the line to return high (a break or a bit error) before it
// looks for the next start bit. There is no back-pressure: the consumer must take
// data_o in the cycle valid_o is high.
module npu_uart_rx #(
  parameter integer ClksPerBit = 104
) (
  input  wire       clk_i,
  input  wire       rst_ni,
  input  wire       rx_i,
  output wire [7:0] data_o,
  output wire       valid_o,
  output wire       frame_err_o
);
  localparam integer CntW = $clog2(ClksPerBit + 1);
  localparam [31:0] LastClk32 = ClksPerBit - 1;
  localparam [CntW-1:0] LastClk = LastClk32[CntW-1:0];
  localparam [31:0] HalfClk32 = ClksPerBit / 2 - 1;
  localparam [CntW-1:0] HalfClk = HalfClk32[CntW-1:0];

  // left_q counts the sample points still to come: 10 = middle of the start bit (half a
  // bit after the falling edge), 9..2 = data bits, 1 = stop bit, 0 = idle. wait_q holds
  // the receiver after a framing error until the line is high again.
  reg            rx_meta_q, rx_q;  // synchroniser
  reg [3:0]      left_q, left_d;
  reg            wait_q, wait_d;
  reg [CntW-1:0] clk_cnt_q, clk_cnt_d;
  reg [7:0]      shift_q, shift_d;
  reg            valid_q, valid_d;
  reg            err_q, err_d;

  wire sample = (clk_cnt_q == ((left_q == 4'd10) ? HalfClk : LastClk));

  always @(*) begin
    left_d    = left_q;
    wait_d    = wait_q;
    clk_cnt_d = clk_cnt_q + 1'b1;
    shift_d   = shift_q;
    valid_d   = 1'b0;
    err_d     = 1'b0;
    if (left_q == 4'd0) begin
      clk_cnt_d = {CntW{1'b0}};
      if (wait_q)     wait_d = !rx_q;
      else if (!rx_q) left_d = 4'd10;
    end else if (sample) begin
      clk_cnt_d = {CntW{1'b0}};
      left_d    = left_q - 4'd1;
      if (left_q == 4'd10) begin
        if (rx_q) left_d = 4'd0;  // a glitch, not a start bit
      end else if (left_q == 4'd1) begin
        valid_d = rx_q;
        err_d   = !rx_q;
        wait_d  = !rx_q;
      end else begin
        shift_d = {rx_q, shift_q[7:1]};
      end
    end
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      rx_meta_q <= 1'b1;
      rx_q      <= 1'b1;
      left_q    <= 4'd0;
      wait_q    <= 1'b0;
      valid_q   <= 1'b0;
      err_q     <= 1'b0;
    end else begin
      rx_meta_q <= rx_i;
      rx_q      <= rx_meta_q;
      left_q    <= left_d;
      wait_q    <= wait_d;
      valid_q   <= valid_d;
      err_q     <= err_d;
    end
  end

  // No reset: the bit timer is cleared while idle, the shift register holds data only.
  always @(posedge clk_i) begin
    clk_cnt_q <= clk_cnt_d;
    shift_q   <= shift_d;
  end

  assign data_o      = shift_q;
  assign valid_o     = valid_q;
  assign frame_err_o = err_q;

`ifndef SYNTHESIS
  initial if (ClksPerBit < 4) $fatal(1, "npu_uart_rx: ClksPerBit must be at least 4");

  // Rules (verilator --assert; proven by formal/uart_rx.ys): the bit timer never passes
  // the sample point it counts to, so sample points are ClksPerBit cycles apart and the
  // first half a bit after the start edge; a byte and a framing error are one-cycle
  // pulses, never together; the receiver waits for a high line only while idle.
  reg pulse_q;
  always @(posedge clk_i or negedge rst_ni)
    if (!rst_ni) pulse_q <= 1'b0;
    else         pulse_q <= valid_q || err_q;
  reg a_live_q;                              // out of reset: the checks skip reset
  always @(posedge clk_i or negedge rst_ni)
    if (!rst_ni) a_live_q <= 1'b0;
    else         a_live_q <= 1'b1;
  always @(posedge clk_i) if (a_live_q) begin
    assert (left_q <= 4'd10);
    assert (left_q == 4'd0 || clk_cnt_q <= ((left_q == 4'd10) ? HalfClk : LastClk));
    assert (!(valid_q && err_q));
    assert (!(pulse_q && (valid_q || err_q)));
    assert (!wait_q || left_q == 4'd0);
  end
`endif
endmodule
`default_nettype wire
