`default_nettype none
// npu_reset_sync: turns an asynchronous active-low reset request into a reset that is
// asserted at once and released synchronously, Stages clock edges after the request
// goes away (the classic "asynchronous assert, synchronous deassert" pair of flops).
//
// Drive arst_ni from a push-button (already inverted to active low) ANDed with a PLL
// lock, or tie it high: the flops start at 0 (iCE40 flops power up at 0 and the
// `initial` block says so for simulation), so the design also gets a clean reset after
// configuration with no button at all. rst_no feeds every rst_ni of the clk_i domain.
module npu_reset_sync #(
  parameter integer Stages = 4  // at least 2 for metastability; more stretches the pulse
) (
  input  wire clk_i,
  input  wire arst_ni,
  output wire rst_no
);
  reg [Stages-1:0] sync_q;

  // Power-up value: iCE40 flip-flops configure to 0; yosys keeps this as the init value.
  initial sync_q = {Stages{1'b0}};

  always @(posedge clk_i or negedge arst_ni) begin
    if (!arst_ni) sync_q <= {Stages{1'b0}};
    else          sync_q <= {sync_q[Stages-2:0], 1'b1};
  end

  assign rst_no = sync_q[Stages-1];

`ifndef SYNTHESIS
  initial begin
    if (Stages < 2) $error("npu_reset_sync: Stages must be at least 2");
  end
`endif
endmodule
`default_nettype wire
