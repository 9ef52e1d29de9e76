`default_nettype none
// npu_board_icebreaker: the accelerator on an iCEBreaker (iCE40UP5K-SG48).
//
// 12 MHz oscillator -> SB_PLL40_PAD -> clk (ClockHz, 30 MHz by default) -> npu_top.
// Reset: BTN_N or a PLL that has not locked yet, through npu_reset_sync (asynchronous
// assert, synchronous release); the flops also start at 0 after configuration, so the
// design comes up without touching the button. UART: FT2232H channel B.
// LEDs (active low): red = a program is running or a frame was dropped,
// green = alive (steady) and blinks off with link traffic.
//
// Every parameter is set by the build from host/board/boards.ts (yosys chparam), the
// one place that knows the board: clock, PLL dividers (icepll -i 12 -o MHz), baud
// and the core's memory sizes. The defaults here are that table's values.
// Synthesis only; in simulation sim/ice40/ supplies a pass-through SB_PLL40_PAD.
module npu_board_icebreaker #(
  parameter integer Dim         = 4,
  parameter integer AmemWords   = 2048,
  parameter integer AmemExtWords = 2048,   // AMEM words 2048..4095 in the upper SPRAM pair
  parameter integer WmemWords   = 32768,
  parameter integer DmemWords   = 256,
  parameter integer AccDepth    = 256,
  parameter integer MaxLayers   = 16,
  parameter integer MaxPayload  = 256,    // link frame-buffer bank (header + payload)
  parameter integer ClockHz     = 30000000,
  parameter integer Baud        = 3000000,
  // SB_PLL40 dividers: Fout = 12 MHz * (DivF + 1) / ((DivR + 1) * 2^DivQ)
  parameter integer PllDivR     = 0,
  parameter integer PllDivF     = 79,
  parameter integer PllDivQ     = 5,
  parameter integer PllFilter   = 1
) (
  input  wire clk_i,         // 12 MHz oscillator
  input  wire btn_ni,        // BTN_N, active low
  input  wire uart_rx_i,
  output wire uart_tx_o,
  output wire led_red_no,
  output wire led_green_no
);
  localparam integer ClksPerBit = (ClockHz + Baud / 2) / Baud;
  localparam [3:0] DivR = PllDivR[3:0];
  localparam [6:0] DivF = PllDivF[6:0];
  localparam [2:0] DivQ = PllDivQ[2:0];
  localparam [2:0] Filter = PllFilter[2:0];

  wire clk, pll_lock, rst_n;
  wire busy, link_act, link_err;
  wire unused_pll_core, unused_pll_sdo;
  // npu_top idle_o: unused on the board; the simulated board (sim/board_sim.cpp) reads it
  wire unused_idle /* verilator public_flat_rd */;

  SB_PLL40_PAD #(
    .FEEDBACK_PATH("SIMPLE"),
    .DIVR         (DivR),
    .DIVF         (DivF),
    .DIVQ         (DivQ),
    .FILTER_RANGE (Filter)
  ) u_pll (
    .PACKAGEPIN  (clk_i),
    .PLLOUTCORE  (unused_pll_core),
    .PLLOUTGLOBAL(clk),
    .EXTFEEDBACK (1'b0),
    .DYNAMICDELAY(8'd0),
    .LOCK        (pll_lock),
    .BYPASS      (1'b0),
    .RESETB      (1'b1),
    .LATCHINPUTVALUE(1'b0),
    .SDO         (unused_pll_sdo),
    .SDI         (1'b0),
    .SCLK        (1'b0)
  );

  npu_reset_sync u_reset_sync (
    .clk_i  (clk),
    .arst_ni(btn_ni & pll_lock),
    .rst_no (rst_n)
  );

  npu_top #(
    .Dim       (Dim),
    .AmemWords (AmemWords),
    .AmemExtWords(AmemExtWords),
    .WmemWords (WmemWords),
    .DmemWords (DmemWords),
    .AccDepth  (AccDepth),
    .MaxLayers (MaxLayers),
    .ClockHz   (ClockHz),
    .ClksPerBit(ClksPerBit),
    .MaxPayload(MaxPayload)
  ) u_top (
    .clk_i     (clk),
    .rst_ni    (rst_n),
    .uart_rx_i (uart_rx_i),
    .uart_tx_o (uart_tx_o),
    .led_busy_o(busy),
    .led_link_o(link_act),
    .led_err_o (link_err),
    .idle_o    (unused_idle)
  );

  assign led_red_no   = !(busy || link_err);
  assign led_green_no = !(rst_n && !link_act);
endmodule
`default_nettype wire
