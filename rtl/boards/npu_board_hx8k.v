`default_nettype none
// npu_board_hx8k: the accelerator on a Lattice iCE40-HX8K breakout (iCE40HX8K-CT256).
//
// 12 MHz oscillator (J3) -> SB_PLL40_CORE -> clk (ClockHz) -> npu_top. The HX8K has
// neither DSP blocks nor SPRAM: the build uses the behavioural multiplier (LUTs) and
// block RAM for every memory, so the sizes from host/board/boards.ts are smaller than
// the iCEBreaker's. The board has no user button: reset is configuration (flops start
// at 0) and PLL lock, through npu_reset_sync. UART: FT2232H channel B.
// LEDs D2..D9 (active high): 0 alive, 1 link traffic, 2 busy, 3 dropped frame,
// 4 PLL locked, 5..7 off.
//
// Every parameter is set by the build from host/board/boards.ts (yosys chparam).
// Synthesis only; in simulation sim/ice40/ supplies a pass-through SB_PLL40_CORE.
module npu_board_hx8k #(
  parameter integer Dim         = 4,
  parameter integer AmemWords   = 2560,
  parameter integer WmemWords   = 8192,
  parameter integer DmemWords   = 256,
  parameter integer AccDepth    = 256,
  parameter integer MaxLayers   = 16,
  parameter integer MaxPayload  = 256,    // link frame-buffer bank (header + payload)
  parameter integer ClockHz     = 72000000,
  parameter integer Baud        = 3000000,
  // SB_PLL40 dividers: Fout = 12 MHz * (DivF + 1) / ((DivR + 1) * 2^DivQ)
  parameter integer PllDivR     = 0,
  parameter integer PllDivF     = 47,
  parameter integer PllDivQ     = 3,
  parameter integer PllFilter   = 1
) (
  input  wire       clk_i,   // 12 MHz oscillator
  input  wire       uart_rx_i,
  output wire       uart_tx_o,
  output wire [7:0] led_o
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

  SB_PLL40_CORE #(
    .FEEDBACK_PATH("SIMPLE"),
    .DIVR         (DivR),
    .DIVF         (DivF),
    .DIVQ         (DivQ),
    .FILTER_RANGE (Filter)
  ) u_pll (
    .REFERENCECLK(clk_i),
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
    .arst_ni(pll_lock),
    .rst_no (rst_n)
  );

  npu_top #(
    .Dim       (Dim),
    .AmemWords (AmemWords),
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

  assign led_o = {3'b000, pll_lock, link_err, busy, link_act, rst_n};
endmodule
`default_nettype wire
