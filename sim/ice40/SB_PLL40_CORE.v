`default_nettype none
// SB_PLL40_CORE, behavioural stand-in for simulating a board top (never synthesised:
// yosys has the real primitive). The bench drives REFERENCECLK at the PLL's output
// frequency, so the output clocks are the input passed through; LOCK rises after
// LockCycles input clocks (the real PLL locks in a few tens of microseconds).
// Only the ports and parameters the board tops use are modelled.
module SB_PLL40_CORE #(
  parameter         FEEDBACK_PATH = "SIMPLE",
  parameter [3:0]   DIVR          = 4'd0,
  parameter [6:0]   DIVF          = 7'd0,
  parameter [2:0]   DIVQ          = 3'd0,
  parameter [2:0]   FILTER_RANGE  = 3'd0,
  parameter integer LockCycles    = 16
) (
  input  wire       REFERENCECLK,
  output wire       PLLOUTCORE,
  output wire       PLLOUTGLOBAL,
  input  wire       EXTFEEDBACK,
  input  wire [7:0] DYNAMICDELAY,
  output wire       LOCK,
  input  wire       BYPASS,
  input  wire       RESETB,
  input  wire       LATCHINPUTVALUE,
  output wire       SDO,
  input  wire       SDI,
  input  wire       SCLK
);
  sb_pll40_model #(.LockCycles(LockCycles)) u_model (
    .clk_i (REFERENCECLK),
    .rst_ni(RESETB),
    .clk_o (PLLOUTGLOBAL),
    .lock_o(LOCK)
  );
  assign PLLOUTCORE = PLLOUTGLOBAL;
  assign SDO = 1'b0;
  wire unused = ^{FEEDBACK_PATH, DIVR, DIVF, DIVQ, FILTER_RANGE, EXTFEEDBACK, DYNAMICDELAY,
                  BYPASS, LATCHINPUTVALUE, SDI, SCLK};
endmodule
`default_nettype wire
