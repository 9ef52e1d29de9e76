`default_nettype none
// ctrl_check: formal harness of npu_ctrl (formal/ctrl.ys), small memories (Dim 4), one
// requantizer pipeline (RqPipes 1, the boards': word 0's two-slide bit is ignored); with
// Block = 1 (formal/ctrl_blk.ys) the block schedule too, blocks of up to 8 beats. DMEM
// data are a free input: any descriptor program, every field any value, even changing
// from one read to the next. start_i and abort_i are free; the datapath behind
// (pipe_busy_i, front_busy_i) and the requantizer's hold (rq_hold_i) are free but never
// high for more than PipeMax cycles in a row (the datapath drains in a bounded time:
// npu_core's array, accumulators and requantizer). Proven, from any reachable state
// (temporal induction):
//   - progress: no state lasts longer than its own bound (a descriptor fetch 13 cycles,
//     an output group's parameters 8 + PipeMax + 1 (the bias words' wait), the decode,
//     counter and done states 1, a drain or an abort's wait PipeMax + 2), and while a
//     layer runs a beat is issued at least every 32 cycles (the requantizer's interval,
//     descriptor word 9, is at most 31, and its hold is shorter);
//   - abort: after the cycle abort_i is seen during a run, at most Dim - 1 more beats are
//     issued (the period under way ends), done_o does not pulse later than the next
//     cycle, and busy_o is low Dim + PipeMax + 4 cycles after it.
// Not proven here: that every layer's loops end (the loop counters' bounds: a program's
// total cycles can be near 2^40 for hostile fields; test/rtl/hostile.test.ts checks them
// against a model of the loops, and the link's cycle limit stops any run).
module ctrl_check #(
  parameter integer Dim     = 4,
  parameter integer PipeMax = 3,
  parameter integer Block   = 0
) (
  input wire        clk_i,
  input wire        rst_ni,
  input wire        start_i,
  input wire        abort_i,
  input wire        pipe_busy_i,
  input wire        front_busy_i,
  input wire        rq_hold_i,
  input wire [31:0] dmem_rdata_i
);
  wire busy, done, f_valid;
  wire [3:0] st;
  (* keep *) wire [3:0] p_state;
  (* keep *) wire       p_go;

  npu_ctrl #(
    .Dim(Dim), .AmemWords(64), .WmemWords(256), .DmemWords(32), .MaxLayers(2),
    .Block(Block), .AccDepth(16)
  ) dut (
    .clk_i(clk_i), .rst_ni(rst_ni), .start_i(start_i), .abort_i(abort_i),
    .pipe_busy_i(pipe_busy_i), .front_busy_i(front_busy_i), .rq_hold_i(rq_hold_i),
    .busy_o(busy), .done_o(done),
    .dmem_re_o(), .dmem_raddr_o(), .dmem_rdata_i(dmem_rdata_i),
    .amem_raddr_o(), .wmem_raddr_o(),
    .f_valid_o(f_valid), .f_pad_o(), .f_swap_o(), .f_first_o(), .f_last_o(), .f_p_o(),
    .f_wload_o(), .f_wrow_o(), .f_param_o(), .f_pidx_o(), .obase_o(), .ostep_o(),
    .max_o(), .pad_o(), .y_zp_o(), .lo_o(), .hi_o(), .rq_steps_m1_o(),
    .cnt_we_o(), .cnt_waddr_o(), .cnt_wdata_o()
  );
  assign st = p_state;

  localparam [3:0] StIdle = 4'd0, StFetch = 4'd1, StDec = 4'd2, StParam = 4'd3,
                   StConv = 4'd4, StDrain = 4'd5, StCnt0 = 4'd6, StCnt1 = 4'd7,
                   StDone = 4'd8, StAbort = 4'd9;

  // the datapath drains in a bounded time
  reg [3:0] pb_q;                     // cycles pipe_busy_i has been high in a row
  reg [3:0] fb_q, rh_q;               // ... front_busy_i, rq_hold_i
  reg [3:0] st_q;                     // the state a cycle ago
  reg [7:0] dwell_q;                  // cycles the state has been held
  reg [7:0] nogo_q;                   // cycles of StConv without a beat issued
  reg [7:0] ab_q;                     // cycles since abort_i was seen during a run (0: none)
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      pb_q    <= 4'd0;
      fb_q    <= 4'd0;
      rh_q    <= 4'd0;
      st_q    <= StIdle;
      dwell_q <= 8'd0;
      nogo_q  <= 8'd0;
      ab_q    <= 8'd0;
    end else begin
      pb_q    <= pipe_busy_i ? pb_q + 4'd1 : 4'd0;
      fb_q    <= front_busy_i ? fb_q + 4'd1 : 4'd0;
      rh_q    <= rq_hold_i ? rh_q + 4'd1 : 4'd0;
      st_q    <= st;
      dwell_q <= (st == st_q && dwell_q != 8'hFF) ? dwell_q + 8'd1 : 8'd0;
      nogo_q  <= (st == StConv && !p_go && nogo_q != 8'hFF) ? nogo_q + 8'd1 : 8'd0;
      if (!busy)                ab_q <= 8'd0;
      else if (ab_q != 8'd0)    ab_q <= (ab_q == 8'hFF) ? ab_q : ab_q + 8'd1;
      else if (abort_i)         ab_q <= 8'd1;
    end
  end
  always @(*) assume (pb_q <= PipeMax && fb_q <= PipeMax && rh_q <= PipeMax);

  // the state as this cycle sees it: dwell counts from the cycle it was entered
  wire [7:0] held = (st == st_q) ? dwell_q + 8'd1 : 8'd0;
  always @(*) if (rst_ni) begin
    assert (st <= StAbort);
    if (st == StFetch) assert (held <= 8'd12);
    if (st == StParam) assert (held <= 8'd8 + PipeMax);
    if (st == StDec || st == StCnt0 || st == StCnt1 || st == StDone) assert (held == 8'd0);
    if (st == StDrain || st == StAbort) assert (held <= PipeMax + 1);
    if (st == StConv) assert (nogo_q <= 8'd31);
    if (ab_q > Dim - 1) assert (!p_go);
    if (ab_q >= 8'd2)   assert (!done);
    if (ab_q > Dim + PipeMax + 3) assert (!busy);
  end
endmodule
`default_nettype wire
