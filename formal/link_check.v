`default_nettype none
// link_check: formal harness of npu_link with its receiver and frame buffer
// (formal/link.ys), small sizes (32-byte banks, Dim 4). Every input is free, keeping only
// the interface rules the link states: a received byte is on rx_byte_i the cycle before
// rx_valid_i and bytes are at least two cycles apart (npu_uart_rx), the core acknowledges
// a bus request no earlier than the next cycle. So any byte stream, framing errors,
// watchdog ticks, core answers, busy/done and UART back-pressure. Proven, from any
// reachable state (temporal induction), the rules npu_link and npu_link_rx assert
// beside their structure: the executor's state is one-hot; at most two frames are
// committed and not released, the executor's among them; the receiver writes only a
// bank without a committed frame (the executor never reads a byte being written); a
// payload never wraps past the bank's end.
module link_check (
  input wire        clk_i,
  input wire        rst_ni,
  input wire [7:0]  rx_byte_i,
  input wire        rx_valid_i,
  input wire        rx_frame_err_i,
  input wire        wd_tick_i,
  input wire        tx_ready_i,
  input wire        bus_ack_i,
  input wire [31:0] bus_rdata_i,
  input wire        busy_i,
  input wire        done_i
);
  wire bus_req;
  npu_link #(
    .Dim(4), .AccDepth(64), .MaxLayers(2), .AmemWords(64), .WmemWords(256),
    .DmemWords(32), .CntWords(32), .ClockHz(1000000), .ClksPerBit(4), .MaxPayload(32)
  ) dut (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .rx_byte_i(rx_byte_i), .rx_valid_i(rx_valid_i), .rx_frame_err_i(rx_frame_err_i),
    .wd_tick_i(wd_tick_i),
    .tx_byte_o(), .tx_valid_o(), .tx_ready_i(tx_ready_i),
    .bus_req_o(bus_req), .bus_we_o(), .bus_space_o(), .bus_addr_o(), .bus_wdata_o(),
    .bus_ack_i(bus_ack_i), .bus_rdata_i(bus_rdata_i),
    .start_o(), .busy_i(busy_i), .done_i(done_i), .core_rst_o(),
    .idle_o(), .act_o(), .err_o()
  );

  // npu_uart_rx's rules: the byte is stable from the cycle before its strobe; strobes
  // (and framing errors) at least two cycles apart, never together
  reg [7:0] byte_q;
  reg       strobe_q;
  always @(posedge clk_i) begin
    byte_q   <= rx_byte_i;
    strobe_q <= rx_valid_i || rx_frame_err_i;
  end
  always @(*) begin
    if (rx_valid_i) assume (rx_byte_i == byte_q);
    assume (!(rx_valid_i && rx_frame_err_i));
    if (strobe_q) assume (!rx_valid_i && !rx_frame_err_i);
  end
  // the core: no acknowledge in the request cycle
  always @(*) if (bus_req) assume (!bus_ack_i);

  // Lemmas (proven with the rest) that make induction close in a few steps: they tie the
  // receiver's state, connected by formal/link.ys, to the banks. A frame being stored
  // began while a bank was free and no RESET was pending, and nothing commits before it
  // ends; the bank byte written next follows the frame's bytes, and a stored payload's
  // end (its byte count plus the bytes still to come) is inside the bank.
  (* keep *) wire [2:0]  p_rx_state;
  (* keep *) wire        p_store, p_long, p_rst_pend;
  (* keep *) wire [4:0]  p_wa;
  (* keep *) wire [15:0] p_rem;
  (* keep *) wire [1:0]  p_wr_ptr, p_rd_ptr;
  (* keep *) wire        p_held;
  (* keep *) wire [19:0] p_state;
  (* keep *) wire        p_ij;
  wire [1:0] queued = p_wr_ptr - p_rd_ptr;
  always @(*) if (rst_ni) begin
    // the link's own rules, stated on the current state (its assertions check them a
    // cycle later, as clocked assertions do)
    assert (p_state != 20'd0 && (p_state & (p_state - 20'd1)) == 20'd0);
    assert (queued != 2'd3 && (!p_held || queued != 2'd0));
    // a probe answered BUSY during a run is a waiting frame, not the executor's
    if (p_ij) assert (!p_held && queued != 2'd0 && (p_state[10] || p_state[16]));
    // while the program runs the executor holds no bank (released as it started)
    if (p_state[9]) assert (!p_held);
    if (p_rx_state != 3'd0 && p_store) assert (queued != 2'd2 && !p_rst_pend);
    if (p_rx_state == 3'd1) assert (p_wa == 5'd0);
    if (p_rx_state == 3'd2) assert (p_wa == 5'd1);
    if (p_rx_state == 3'd3) assert (p_wa == 5'd2);
    if (p_rx_state == 3'd4) assert (p_wa == 5'd3);
    if (p_rx_state == 3'd5) assert (p_rem != 16'd0);
    if (p_rx_state == 3'd5 && !p_long)
      assert (p_wa >= 5'd4 && {12'd0, p_wa} + {1'b0, p_rem} <= 17'd32);
  end
endmodule
`default_nettype wire
