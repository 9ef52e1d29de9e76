`default_nettype none
// npu_top: the accelerator as a board sees it: npu_core behind the UART link.
//
//   uart_rx_i ─ npu_uart_rx ─┐                ┌─ npu_core (host port, start/busy/done)
//                            ├─ npu_link ─────┤
//   uart_tx_o ─ npu_uart_tx ─┘                └─ status: LEDs, idle
//
// Board tops wrap this with their PLL and reset: rst_ni is asynchronous active-low
// and must be released synchronously to clk_i. ClockHz is the clk_i frequency and
// ClksPerBit = ClockHz / baud; both are reported to the host by IDENTIFY. The memory
// sizes are npu_core's (AMEM/WMEM in words of Dim bytes, DMEM in 32-bit words; AMEM
// words past AmemWords, AmemExtWords of them, are WMEM's upper half).
//
// One free-running prescaler times the slow things. Its low WdTickW bits tick the link's
// receive watchdog (a frame stalled mid-way is dropped 3 to 4 ticks after its last byte,
// about WatchdogClks); all TickW bits tick the LEDs.
// Status outputs: led_busy_o follows the core's busy; led_link_o and led_err_o are
// stretched to between LedClks and 1.5·LedClks cycles after a frame or reply (link) or
// after a dropped frame (bad CRC, framing error, watchdog) so that they are visible: the
// LED tick comes every 2^TickW >= LedClks/2 cycles, and each LED holds a 2-bit count of
// ticks to wait (the link's pulses and the prescaler's wrap are registered first, for
// timing). idle_o is high while
// the link has nothing received, queued, executing or sending: the simulated board
// sleeps while it and the UART lines are idle.
module npu_top #(
  parameter integer Dim          = 4,
  parameter integer AmemWords    = 2560,
  parameter integer AmemExtWords = 0,        // AMEM words in WMEM's upper half (npu_core)
  parameter integer WmemWords    = 32768,
  parameter integer DmemWords    = 256,
  parameter integer AccDepth     = 256,
  parameter integer MaxLayers    = 16,
  parameter integer RqUnits      = 1,        // requantizer Booth units (npu_core)
  parameter integer RqPipes      = 1,        // requantizer pipelines (npu_core)
  parameter integer OutShift     = 0,        // descriptor word 0's output shift (npu_core)
  parameter integer Block        = 0,        // the block schedule, a vector requantizer (npu_core)
  parameter integer ClockHz      = 12000000,
  parameter integer ClksPerBit   = 104,      // 12 MHz / 115200 baud
  parameter integer MaxPayload   = 1024,
  parameter integer WatchdogClks = 256 * 10 * ClksPerBit,
  parameter integer LedClks      = ClockHz / 16
) (
  input  wire clk_i,
  input  wire rst_ni,
  input  wire uart_rx_i,
  output wire uart_tx_o,
  output wire led_busy_o,
  output wire led_link_o,
  output wire led_err_o,
  output wire idle_o
);
  localparam integer HostWordsPerWord = Dim / 4;  // 32-bit host words per memory word
  localparam integer TickW   = $clog2((LedClks + 1) / 2);
  localparam integer WdTickW = $clog2(WatchdogClks / 4);

  wire [7:0]  rx_byte, tx_byte;
  wire        rx_valid, rx_frame_err, tx_valid, tx_ready;
  wire        bus_req, bus_we, bus_ack, start, busy, done;
  wire [1:0]  bus_space;
  wire [23:0] bus_addr;
  wire [31:0] bus_wdata, bus_rdata;
  wire        link_idle, link_act, link_err, wd_tick;
  wire        core_abort;
  reg         core_rst_nq;   // the core's reset: rst_ni, or a cycle after core_abort

  npu_uart_rx #(.ClksPerBit(ClksPerBit)) u_uart_rx (
    .clk_i      (clk_i),
    .rst_ni     (rst_ni),
    .rx_i       (uart_rx_i),
    .data_o     (rx_byte),
    .valid_o    (rx_valid),
    .frame_err_o(rx_frame_err)
  );

  npu_uart_tx #(.ClksPerBit(ClksPerBit)) u_uart_tx (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .data_i (tx_byte),
    .valid_i(tx_valid),
    .ready_o(tx_ready),
    .tx_o   (uart_tx_o)
  );

  npu_link #(
    .Dim         (Dim),
    .AccDepth    (AccDepth),
    .MaxLayers   (MaxLayers),
    .AmemWords   (AmemWords * HostWordsPerWord),
    .AmemExtWords(AmemExtWords * HostWordsPerWord),
    .WmemWords   (WmemWords * HostWordsPerWord),
    .DmemWords   (DmemWords),
    .CntWords    (2 * MaxLayers),
    .ClockHz     (ClockHz),
    .ClksPerBit  (ClksPerBit),
    .MaxPayload  (MaxPayload)
  ) u_link (
    .clk_i         (clk_i),
    .rst_ni        (rst_ni),
    .rx_byte_i     (rx_byte),
    .rx_valid_i    (rx_valid),
    .rx_frame_err_i(rx_frame_err),
    .wd_tick_i     (wd_tick),
    .tx_byte_o     (tx_byte),
    .tx_valid_o    (tx_valid),
    .tx_ready_i    (tx_ready),
    .bus_req_o     (bus_req),
    .bus_we_o      (bus_we),
    .bus_space_o   (bus_space),
    .bus_addr_o    (bus_addr),
    .bus_wdata_o   (bus_wdata),
    .bus_ack_i     (bus_ack),
    .bus_rdata_i   (bus_rdata),
    .start_o       (start),
    .busy_i        (busy),
    .done_i        (done),
    .core_rst_o    (core_abort),
    .idle_o        (link_idle),
    .act_o         (link_act),
    .err_o         (link_err)
  );

  npu_core #(
    .Dim      (Dim),
    .AmemWords(AmemWords),
    .AmemExtWords(AmemExtWords),
    .WmemWords(WmemWords),
    .DmemWords(DmemWords),
    .AccDepth (AccDepth),
    .MaxLayers(MaxLayers),
    .RqUnits  (RqUnits),
    .RqPipes  (RqPipes),
    .OutShift (OutShift),
    .Block    (Block)
  ) u_core (
    .clk_i      (clk_i),
    .rst_ni     (core_rst_nq),
    .bus_req_i  (bus_req),
    .bus_we_i   (bus_we),
    .bus_space_i(bus_space),
    .bus_addr_i (bus_addr),
    .bus_wdata_i(bus_wdata),
    .bus_ack_o  (bus_ack),
    .bus_rdata_o(bus_rdata),
    .start_i    (start),
    .abort_i    (1'b0),
    .busy_o     (busy),
    .done_o     (done)
  );

  // The link stops a run (RESET, its run watchdog) by holding the core in reset until its
  // busy has fallen (a cycle or two): the core's control state clears, its memories
  // (npu_ram, npu_acc, npu_spram: no reset) keep their contents. Registered, so that the
  // core's asynchronous reset comes from a flip-flop; released synchronously like rst_ni.
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) core_rst_nq <= 1'b0;
    else         core_rst_nq <= !core_abort;
  end

  // Prescaler and LED pulse stretchers
  reg [TickW-1:0] tick_q;
  reg             wd_tick_q;   // registered: the link's receiver depends on it deeply
  reg             led_tick_q;  // registered too (timing): the prescaler wrapped
  assign          wd_tick = wd_tick_q;
  reg [1:0]       link_led_q, err_led_q;
  reg             link_act_q, link_err_q;  // the link's pulses, registered (timing)
  wire [TickW:0]  tick_inc = {1'b0, tick_q} + 1'b1;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      tick_q     <= {TickW{1'b0}};
      wd_tick_q  <= 1'b0;
      led_tick_q <= 1'b0;
      link_led_q <= 2'd0;
      err_led_q  <= 2'd0;
      link_act_q <= 1'b0;
      link_err_q <= 1'b0;
    end else begin
      link_act_q <= link_act;
      link_err_q <= link_err;
      tick_q     <= tick_inc[TickW-1:0];
      wd_tick_q  <= &tick_q[WdTickW-1:0];
      led_tick_q <= tick_inc[TickW];
      if (link_act_q)                            link_led_q <= 2'd3;
      else if (led_tick_q && link_led_q != 2'd0) link_led_q <= link_led_q - 2'd1;
      if (link_err_q)                            err_led_q  <= 2'd3;
      else if (led_tick_q && err_led_q != 2'd0)  err_led_q  <= err_led_q - 2'd1;
    end
  end

  assign led_busy_o = busy;
  assign led_link_o = (link_led_q != 2'd0);
  assign led_err_o  = (err_led_q != 2'd0);
  assign idle_o     = link_idle && !busy;

`ifndef SYNTHESIS
  initial begin
    if (Dim < 4 || Dim % 4 != 0) $fatal(1, "npu_top: Dim must be a multiple of 4");
    if (LedClks < 4) $fatal(1, "npu_top: LedClks must be at least 4");
    if (WatchdogClks < 8 || WdTickW > TickW)
      $fatal(1, "npu_top: WatchdogClks must be in [8, 2·LedClks]");
  end
`endif
endmodule
`default_nettype wire
