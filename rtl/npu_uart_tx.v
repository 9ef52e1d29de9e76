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

  localparam [1:0] StIdle = 2'd0, StStart = 2'd1, StData = 2'd2, StStop = 2'd3;

  reg [1:0]      state_q, state_d;
  reg [CntW-1:0] clk_cnt_q, clk_cnt_d;
  reg [2:0]      bit_q, bit_d;
  reg [7:0]      shift_q, shift_d;
  reg            tx_q, tx_d;

  wire bit_end = (clk_cnt_q == LastClk);

  always @(*) begin
    state_d   = state_q;
    clk_cnt_d = bit_end ? {CntW{1'b0}} : clk_cnt_q + 1'b1;
    bit_d     = bit_q;
    shift_d   = shift_q;
    tx_d      = tx_q;
    case (state_q)
      StIdle: begin
        clk_cnt_d = {CntW{1'b0}};
        tx_d      = 1'b1;
        if (valid_i) begin
          shift_d = data_i;
          tx_d    = 1'b0;
          state_d = StStart;
        end
      end
      StStart: if (bit_end) begin
        tx_d    = shift_q[0];
        shift_d = {1'b0, shift_q[7:1]};
        bit_d   = 3'd0;
        state_d = StData;
      end
      StData: if (bit_end) begin
        if (bit_q == 3'd7) begin
          tx_d    = 1'b1;
          state_d = StStop;
        end else begin
          tx_d    = shift_q[0];
          shift_d = {1'b0, shift_q[7:1]};
          bit_d   = bit_q + 3'd1;
        end
      end
      StStop: if (bit_end) state_d = StIdle;
      default: state_d = StIdle;
    endcase
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q   <= StIdle;
      clk_cnt_q <= {CntW{1'b0}};
      bit_q     <= 3'd0;
      shift_q   <= 8'd0;
      tx_q      <= 1'b1;
    end else begin
      state_q   <= state_d;
      clk_cnt_q <= clk_cnt_d;
      bit_q     <= bit_d;
      shift_q   <= shift_d;
      tx_q      <= tx_d;
    end
  end

  assign ready_o = (state_q == StIdle);
  assign tx_o    = tx_q;

`ifndef SYNTHESIS
  initial if (ClksPerBit < 4) $fatal(1, "npu_uart_tx: ClksPerBit must be at least 4");
`endif
endmodule
`default_nettype wire
