`default_nettype none
// sb_pll40_model: the clock pass-through and lock counter shared by the SB_PLL40_PAD
// and SB_PLL40_CORE simulation stand-ins (sim/ice40/).
module sb_pll40_model #(
  parameter integer LockCycles = 16
) (
  input  wire clk_i,
  input  wire rst_ni,   // RESETB
  output wire clk_o,
  output wire lock_o
);
  localparam integer CntW = $clog2(LockCycles + 1);
  localparam [CntW-1:0] Last = LockCycles[CntW-1:0];
  reg [CntW-1:0] cnt_q = {CntW{1'b0}};

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni)          cnt_q <= {CntW{1'b0}};
    else if (cnt_q != Last) cnt_q <= cnt_q + 1'b1;
  end

  assign clk_o  = clk_i;
  assign lock_o = (cnt_q == Last);
endmodule
`default_nettype wire
