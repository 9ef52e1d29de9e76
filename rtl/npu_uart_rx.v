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

  localparam [2:0] StIdle = 3'd0, StStart = 3'd1, StData = 3'd2, StStop = 3'd3,
                   StWaitHigh = 3'd4;

  reg            rx_meta_q, rx_q;  // synchroniser
  reg [2:0]      state_q, state_d;
  reg [CntW-1:0] clk_cnt_q, clk_cnt_d;
  reg [2:0]      bit_q, bit_d;
  reg [7:0]      shift_q, shift_d;
  reg            valid_q, valid_d;
  reg            err_q, err_d;

  always @(*) begin
    state_d   = state_q;
    clk_cnt_d = clk_cnt_q + 1'b1;
    bit_d     = bit_q;
    shift_d   = shift_q;
    valid_d   = 1'b0;
    err_d     = 1'b0;
    case (state_q)
      StIdle: begin
        clk_cnt_d = {CntW{1'b0}};
        if (!rx_q) state_d = StStart;
      end
      StStart: if (clk_cnt_q == HalfClk) begin  // middle of the start bit
        clk_cnt_d = {CntW{1'b0}};
        bit_d     = 3'd0;
        state_d   = rx_q ? StIdle : StData;
      end
      StData: if (clk_cnt_q == LastClk) begin  // middle of a data bit
        clk_cnt_d = {CntW{1'b0}};
        shift_d   = {rx_q, shift_q[7:1]};
        bit_d     = bit_q + 3'd1;
        if (bit_q == 3'd7) state_d = StStop;
      end
      StStop: if (clk_cnt_q == LastClk) begin  // middle of the stop bit
        clk_cnt_d = {CntW{1'b0}};
        if (rx_q) begin
          valid_d = 1'b1;
          state_d = StIdle;
        end else begin
          err_d   = 1'b1;
          state_d = StWaitHigh;
        end
      end
      StWaitHigh: begin
        clk_cnt_d = {CntW{1'b0}};
        if (rx_q) state_d = StIdle;
      end
      default: state_d = StIdle;
    endcase
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      rx_meta_q <= 1'b1;
      rx_q      <= 1'b1;
      state_q   <= StIdle;
      clk_cnt_q <= {CntW{1'b0}};
      bit_q     <= 3'd0;
      shift_q   <= 8'd0;
      valid_q   <= 1'b0;
      err_q     <= 1'b0;
    end else begin
      rx_meta_q <= rx_i;
      rx_q      <= rx_meta_q;
      state_q   <= state_d;
      clk_cnt_q <= clk_cnt_d;
      bit_q     <= bit_d;
      shift_q   <= shift_d;
      valid_q   <= valid_d;
      err_q     <= err_d;
    end
  end

  assign data_o      = shift_q;
  assign valid_o     = valid_q;
  assign frame_err_o = err_q;

`ifndef SYNTHESIS
  initial if (ClksPerBit < 4) $fatal(1, "npu_uart_rx: ClksPerBit must be at least 4");
`endif
endmodule
`default_nettype wire
