`default_nettype none
// npu_frame_buf: the link's frame buffer, a simple dual-port byte RAM (one write port
// for the frame receiver, one read port for the command executor) that maps onto
// iCE40 block RAM. Depth is two frames of payload (ping-pong banks), so the next
// request can arrive while the current one executes.
//
// Handshake: we_i writes wdata_i at waddr_i on the clock edge; rdata_o holds the byte
// at the raddr_i of the previous cycle (one cycle read latency, no reset). Reading the
// address being written in the same cycle gives an undefined byte: npu_link never does
// (the receiver writes one bank, the executor reads the other), so yosys is told not to
// add the bypass logic (27 flip-flops) that would define it (no_rw_check).
module npu_frame_buf #(
  parameter integer Depth = 2048,
  parameter integer AddrW = $clog2(Depth)
) (
  input  wire             clk_i,
  input  wire             we_i,
  input  wire [AddrW-1:0] waddr_i,
  input  wire [7:0]       wdata_i,
  input  wire [AddrW-1:0] raddr_i,
  output reg  [7:0]       rdata_o
);
  (* no_rw_check *)
  reg [7:0] mem_q [0:Depth-1];

  always @(posedge clk_i) begin
    if (we_i) mem_q[waddr_i] <= wdata_i;
    rdata_o <= mem_q[raddr_i];
  end
endmodule
`default_nettype wire
