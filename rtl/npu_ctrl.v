`default_nettype none
// npu_ctrl: the sequencer of npu_core (docs/ARCHITECTURE.md sections 1, 3, 4).
//
// After start_i it fetches the descriptors from DMEM (layer l at word 16 l) and runs
// each layer until an op other than CONV or MAXPOOL (or MaxLayers, or the end of DMEM),
// then pulses done_o. abort_i ends a run: nothing more is issued from the next period
// boundary on (a period already begun finishes its Dim beats, so that every weight tile
// in the array is whole; a block's longer period stops once its tile's Dim rows are in),
// and busy_o falls as soon as the datapath behind has emptied
// (pipe_busy_i low), without done_o and without the unfinished layer's counters; the
// memories keep what they hold.
//
// Every layer is a convolution (ARCHITECTURE section 1): MAXPOOL is one whose
// accumulators take the maximum (mode_o) over identity weight tiles. For each output
// group og: 8 parameter words from WMEM (while the og's start values come again from
// DMEM words 12-14), then periods of Dim beats. Period j uses weight tile t = j mod K
// (K = KH*KW*CG' tiles (ky, kx, cg), CG' the cg loop: CG, or 1 for a grouped layer whose
// output group og reads input group og only); beat b reads weight row b of it (the
// first beat carries the swap token) and feeds pixel s_j + b of a sliding window of
// W = min(K, Dim) consecutive output pixels (pad -> the descriptor's pad value; pixels
// outside [0, P) are bubbles). Pixel q is in the window for exactly K periods, so it
// meets every tile once: it enters at period floor(q*K/W) (its first tile: bias + psum)
// and leaves after K periods (its last tile: the sum goes to the requantizer). The
// window slides by at most one pixel per period (Bresenham: x += W, slide when x >= 0,
// x -= K), so outputs are spread evenly and the requantizer (one vector per
// interval cycles, descriptor word 9) only stalls the first beat of a period
// whose pixel leaves when outputs come closer than that. Accumulator entry of pixel q:
// q mod Dim. With two requantizer pipelines (RqPipes = 2) a descriptor with word 0 bit 5
// (K < N, W = min(2K, Dim)) slides twice when x >= K after the first slide: pixels s and
// s + 1 leave at beats 0 and 1, their sums going to the pipelines in turn (each paced at
// the interval; the period's first beat waits until both may take them), and the two
// newest pixels enter at beats W - 2 and W - 1.
//
// Output groups overlap: after an og's last period the next og's parameters follow at
// once. Words 0-3 (the requantizer's m | s) go to npu_core's shadow registers, which
// take effect when the previous og's last output has left the requantizer (rq_hold_i
// is high until then, and holds back this og's first output); words 4-7 (the bias,
// into npu_acc) wait until the previous og's sums have left the array and the
// accumulators (front_busy_i low), since they share the accumulator RAM's entry and the
// og's start values (DMEM words 12-14) share its read port. Only after a layer's last
// og does the datapath drain (pipe_busy_i) before the next descriptor.
//
// Every loop counts to a bound that the descriptor states as a count minus one, so
// every field value makes a program that ends (ARCHITECTURE section 4: malformed
// descriptors); nothing here depends on the fields being consistent.
//
// Addresses, kept incrementally (no multiplier; the products come computed in the
// descriptor):
//   AMEM  = pp(oy, ox) + koff(ky, kx, cg) (+ og for a grouped layer: koff starts there)
//           pp   = in_base + ((oy*sh - pt) * W + ox*sw - pl) * CG
//           koff = ky * W*CG + kx * CG + cg
//   pad   = input row iy = oy*sh - pt + ky outside [0, H), or column ix likewise
//   out   = out_base + og + pixel * (OG << osh)  (counted by npu_core at the requantizer's
//           output; osh > 0 interleaves the outputs of descriptors that each write every
//           2^osh-th pixel of a tensor)
//   WMEM  = one pointer: the og's 8 parameter words, then its K tiles of Dim rows; it
//           steps every beat and returns to the og's first tile after the last
// The f_* outputs describe the RAM read data of the NEXT cycle (the issue signals
// delayed by the one-cycle RAM latency), so the datapath consumes rdata and f_*
// together. Counters (CNT space): per layer total cycles and array-feed cycles.
module npu_ctrl #(
  parameter integer Dim       = 8,
  parameter integer AmemWords = 16384,
  parameter integer WmemWords = 65536,
  parameter integer DmemWords = 256,
  parameter integer MaxLayers = 16,
  parameter integer RqPipes   = 1,     // requantizer pipelines: 2 lets a window slide twice
  parameter integer OutShift  = 0,     // 1: word 0 bits 7:6 shift the output step (OG << osh)
  parameter integer Block     = 0,     // 1: word 0 bits 15:12 = 1 runs the block schedule
  parameter integer AccDepth  = 1024,  // accumulator entries (block pixels: AccDepth / 2)
  parameter integer AmAw  = $clog2(AmemWords),
  parameter integer WmAw  = $clog2(WmemWords),
  parameter integer DmAw  = $clog2(DmemWords),
  parameter integer RowAw = $clog2(Dim),
  parameter integer CntAw = $clog2(2 * MaxLayers),
  // accumulator entry of a beat: the window's pixel mod Dim, or a block's AccDepth/2 + b
  parameter integer PW    = (Block != 0) ? $clog2(AccDepth) : RowAw
) (
  input  wire              clk_i,
  input  wire              rst_ni,
  input  wire              start_i,
  input  wire              abort_i,     // end the run (ignored while idle)
  input  wire              pipe_busy_i, // a vector is in the datapath behind f_valid_o
  input  wire              front_busy_i,// ... in the array or the accumulators
  input  wire              rq_hold_i,   // the og's m | s are not yet the requantizer's
  output wire              busy_o,
  output wire              done_o,
  // memories (read addresses; data comes back one cycle later)
  output wire              dmem_re_o,
  output wire [DmAw-1:0]   dmem_raddr_o,
  input  wire [31:0]       dmem_rdata_i,
  output wire [AmAw-1:0]   amem_raddr_o,
  output wire [WmAw-1:0]   wmem_raddr_o,
  // what this cycle's AMEM/WMEM read data is
  output wire              f_valid_o,   // an activation beat
  output wire              f_pad_o,     // ... outside the input: substitute the pad value
  output wire              f_swap_o,    // first beat of a weight tile
  output wire              f_first_o,   // first tile of the pixel
  output wire              f_last_o,    // last tile of the pixel
  output wire [PW-1:0]     f_p_o,       // accumulator entry (pixel mod Dim; block: AccDepth/2 + b)
  output wire              f_wload_o,   // WMEM data is weight row f_wrow_o of a tile
  output wire [RowAw-1:0]  f_wrow_o,
  output wire              f_param_o,   // WMEM data is parameter word f_pidx_o
  output wire [2:0]        f_pidx_o,
  output wire [AmAw-1:0]   obase_o,     // AMEM word of the og's first output
  output wire [AmAw-1:0]   ostep_o,     // AMEM words from one output to the next (OG << osh), minus 1
  // layer configuration
  output wire              max_o,       // MAXPOOL: the accumulators take the maximum
  output wire [7:0]        pad_o,       // padding value (int8)
  output wire [7:0]        y_zp_o,
  output wire [7:0]        lo_o,
  output wire [7:0]        hi_o,
  output wire [3:0]        rq_steps_m1_o, // npu_requant Steps - 1 (descriptor word 9)
  // performance counters
  output wire              cnt_we_o,
  output wire [CntAw-1:0]  cnt_waddr_o,
  output wire [31:0]       cnt_wdata_o
);
  localparam [1:0] OpConv = 2'd1, OpMax = 2'd2;
  localparam integer LayerLimit = (MaxLayers < DmemWords / 16) ? MaxLayers : DmemWords / 16;
  localparam [31:0] LayerLast32 = LayerLimit - 1;
  localparam [3:0]  LayerLast = LayerLast32[3:0];
  localparam integer ExtW = 8;                 // H, W, OW, kernel, stride, pads <= 255
  localparam integer AW = AmAw;
  localparam integer WW = WmAw;
  localparam integer CW = ExtW + 2;            // input coordinates, two's complement
  localparam integer RW = AW + 1;              // pixels left in the window
  // Bresenham term: K*Dim <= WMEM words, so -K <= x < Dim fits XW bits signed.
  localparam integer XW = WW - RowAw + 2;
  localparam integer BqW = (Block != 0) ? PW - 1 : RowAw;   // a block's beat
  localparam [31:0]  DimM1 = Dim - 1;

  // ---------------------------------------------------------------- FSM
  localparam [3:0] StIdle  = 4'd0,
                   StFetch = 4'd1,   // descriptor words 0-11
                   StDec   = 4'd2,   // op: run the layer or end the program
                   StParam = 4'd3,   // 8 parameter words; og start values (words 12-14)
                   StConv  = 4'd4,   // the periods of one og
                   StDrain = 4'd5,   // after the last og: the datapath empties
                   StCnt0  = 4'd6,
                   StCnt1  = 4'd7,
                   StDone  = 4'd8,
                   StAbort = 4'd9;   // abort_i: the datapath empties, then idle
  reg [3:0] state_q, state_d;

  // ---------------------------------------------------------------- descriptor fields
  reg  [1:0]      op_q;
  reg             grp_q;                // grouped: og reads input group og only
  reg  [ExtW-1:0] in_h_q, in_w_q;
  reg  [AW-1:0]   cgm1_q, ogm1_q;       // cg loop and OG, minus one
  reg  [ExtW-1:0] khm1_q, kwm1_q, sh_q, sw_q;
  reg  [AW-1:0]   rowstr_q, kxstep_q;   // koff per ky (W*CG), per kx after the cg loop
  reg  [AW-1:0]   pxstep_q, rowjmp_q;   // pp per pixel (sw*CG), per row end
  reg  [WW-1:0]   ogstr_q;              // WMEM words of an og's tiles (K*Dim)
  reg  [3:0]      steps_m1_q;
  reg  [4:0]      rq_gap_q;             // requantizer interval - 1 (max(ceil(Steps/RqUnits), Dim) - 1)
  reg  [7:0]      pad_q, y_zp_q, lo_q, hi_q;
  reg  [XW-1:0]   wmk_q;                // W - K: the Bresenham step of a sliding period
  reg  [XW-1:0]   k_q;                  // K (W - (W - K)), the step of a second slide
  reg             two_q;                // the window may slide twice a period (word 0 bit 5)
  reg  [RowAw-1:0] wm1_q;               // W - 1
  reg  [CW-1:0]   ixrow_q;              // ix of a row's first pixel (-pl)
  reg             blk_q;                // word 0 bits 15:12 = 1: the block schedule
  reg  [BqW-1:0]  bmx_q;                // block: a period's last beat, max(B, Dim) - 1
  reg  [ExtW-1:0] owm1_q;               // OW - 1

  // ---------------------------------------------------------------- loop state
  reg  [4:0]      fidx_q;               // descriptor word being fetched
  reg  [3:0]      layer_q;
  reg  [2:0]      pidx_q;               // parameter word
  reg  [AW-1:0]   og_q, obase_q;
  reg  [WW-1:0]   wp_q, og_wbase_q;     // WMEM pointer; the og's first tile
  reg  [ExtW-1:0] ky_q, kx_q;
  reg  [AW-1:0]   cg_q, koff_q, krow_q;
  reg  [RowAw-1:0] b_q;                 // beat in period
  reg  [BqW-1:0]  bq_q;                 // block: beat in period (pixel block start + bq)
  reg             t0_q;                 // block: the period's tile is the first (tile 0)
  reg  [RowAw-1:0] sq_q;                // window start s mod Dim
  reg  [RowAw-1:0] neg_q;               // max(0, -s): beats before pixel 0
  reg  [RW-1:0]   rem_q;                // P - 1 - s: pixels after the window start
  reg  [XW-1:0]   x_q;                  // Bresenham term: the window slides when x >= 0
  reg  [1:0]      nprev_q;              // how often it slid after the previous period
  reg  [4:0]      gap0_q, gap1_q;       // cycles until requantizer pipeline 0 / 1 is free
  reg             sel_q;                // the pipeline of the next output
  // pixel walker: the beat's pixel (ox counts down to 0 at the row end, iy/ix the input
  // coordinates of tap (0, 0), pp its AMEM word) and the same for the window start
  // (max(s, 0)), where each period's walk begins
  reg  [ExtW-1:0] ox_q, sox_q;
  reg  [CW-1:0]   iy_q, ix_q, siy_q, six_q;
  reg  [AW-1:0]   pp_q, spp_q;
  reg  [31:0]     cyc_layer_q, cyc_feed_q;
  // issue -> data stage
  reg             f_valid_q, f_swap_q, f_wload_q, f_param_q;
  reg             f_pad_q, f_first_q, f_last_q;
  reg [2:0]       f_pidx_q;
  reg [RowAw-1:0] f_wrow_q;
  reg [PW-1:0]    f_p_q;

  // tile loop: cg innermost, then kx, then ky
  wire        cg_end  = (cg_q == cgm1_q);
  wire        kx_end  = (kx_q == kwm1_q);
  wire        ky_end  = (ky_q == khm1_q);
  wire        t_last  = cg_end && kx_end && ky_end;
  wire [AW-1:0] kbase = grp_q ? og_q : {AW{1'b0}};

  // ---------------------------------------------------------------- per-beat datapath
  // The block schedule (Block, word 0 bits 15:12 = 1): pixels [s, s + B) of the og, s =
  // 0, B, 2B, ..., meet tile 0, then tile 1, ... in periods of max(B, Dim) beats, beat b
  // feeding pixel s + b (a bubble past P - 1) into accumulator entry AccDepth/2 + b and,
  // in the first Dim beats, reading the tile's weight rows; every pixel's last tile
  // comes in the block's last period, its sums going to the requantizer one a beat
  // (npu_core's vector requantizer). The window's Bresenham terms stay idle.
  wire        blk     = (Block != 0) && blk_q;
  wire        in_conv = (state_q == StConv);
  wire        slide   = !blk && !x_q[XW-1];            // pixel s leaves after this period
  wire [XW-1:0] x_k   = x_q - k_q;
  wire        two     = (RqPipes > 1) && two_q;         // one pipeline: never
  wire        slide2  = two && slide && !x_k[XW-1];    // ... and pixel s + 1 (x >= K)
  wire [1:0]  nsl     = {slide2, slide && !slide2};     // slides after this period
  wire        b_zero  = blk ? (bq_q == {BqW{1'b0}}) : (b_q == {RowAw{1'b0}});
  wire        p_end   = blk ? (bq_q == bmx_q) : (b_q == {RowAw{1'b1}});   // last beat of the period
  wire [31:0] bq32    = {{(32-BqW){1'b0}}, bq_q};
  wire        wstep   = !blk || (bq32 < Dim);          // the beat reads a weight row
  wire        s_pos   = (neg_q == {RowAw{1'b0}});      // s >= 0: pixel s is real
  wire        rem_big = |rem_q[RW-1:RowAw];
  // beat b is pixel s + b: real iff b < W and 0 <= s + b <= P - 1
  wire        real_px = blk ? ({{(RW-BqW){1'b0}}, bq_q} <= rem_q)
                            : (b_q <= wm1_q) && (b_q >= neg_q) && (rem_big || b_q <= rem_q[RowAw-1:0]);
  wire        b_one   = (b_q == {{(RowAw-1){1'b0}}, 1'b1});
  // pixel s (beat 0) and, on a second slide, s + 1 (beat 1): their last tiles; pixels
  // s + W - 1 (and s + W - 2 after a second slide): their first
  wire        c_last  = blk ? t_last : (b_zero && slide) || (b_one && slide2);
  wire        c_first = blk ? t0_q : (b_q == wm1_q && nprev_q != 2'd0) || (b_q == wm1_q - 1'b1 && nprev_q == 2'd2);
  // the leaving pixels that are real (s + 1 <= P - 1: rem >= 1), whose sums go to the
  // requantizer, the first to pipeline sel_q, the next to the other
  wire        s1_pos  = (neg_q <= {{(RowAw-1){1'b0}}, 1'b1});   // s + 1 >= 0
  wire        want0   = slide && s_pos;
  wire        want1   = slide2 && s1_pos && (rem_q != {RW{1'b0}});
  wire        sel     = (RqPipes > 1) && sel_q;         // one pipeline: always 0
  wire [4:0]  gap_sel = sel ? gap1_q : gap0_q;
  wire [4:0]  gap_oth = sel ? gap0_q : gap1_q;
  wire [4:0]  gap_w1  = want0 ? gap_oth : gap_sel;
  wire        rq_want = b_zero && (want0 || want1);
  // wait until the requantizer is free and holds this og's parameters
  wire        c_stall = (rq_want && ((want0 && gap_sel != 5'd0) || (want1 && gap_w1 > 5'd1) || rq_hold_i)) ||
                        (blk && b_zero && t_last && rq_hold_i);
  reg         abort_q;                                 // abort_i seen during this run
  // at a period boundary, or in a block's period once its tile's rows are in
  wire        stop    = abort_q && (!in_conv || b_zero || !wstep);
  wire        go      = in_conv && !c_stall && !stop;
  wire        feed    = go && real_px;
  wire        rq_issue0 = go && b_zero && want0;
  wire        rq_issue1 = go && b_one && want1;
  wire        rq_issue  = rq_issue0 || rq_issue1;
  wire        rq_pipe   = sel;                           // the pipeline rq_issue goes to
  wire        og_end  = go && p_end && (blk ? t_last && (rem_q <= {{(RW-BqW){1'b0}}, bmx_q}) :
                                        (slide && rem_q == {RW{1'b0}}) ||
                                        (slide2 && rem_q == {{(RW-1){1'b0}}, 1'b1}));
  wire        last_og = (og_q == ogm1_q);
  wire        drained = !pipe_busy_i && !f_valid_q;
  // parameters: the bias words (4-7) wait until the previous og's sums are through
  wire        in_param = (state_q == StParam);
  wire        p_wait   = in_param && (pidx_q == 3'd4) && (front_busy_i || f_valid_q);
  wire        p_step   = in_param && !p_wait;
  wire        og_next  = og_end && !last_og;               // straight to the next og

  // pad: the tap's input row and column, as unsigned numbers (a negative one is large)
  wire [CW-1:0] iy    = iy_q + {{(CW-ExtW){1'b0}}, ky_q};
  wire [CW-1:0] ix    = ix_q + {{(CW-ExtW){1'b0}}, kx_q};
  wire          pad   = (iy >= {{(CW-ExtW){1'b0}}, in_h_q}) || (ix >= {{(CW-ExtW){1'b0}}, in_w_q});

  // the walker's next pixel (raster order)
  wire        row_end = (ox_q == {ExtW{1'b0}});
  wire [ExtW-1:0] nx_ox = row_end ? owm1_q : ox_q - 1'b1;
  wire [CW-1:0]   nx_ix = row_end ? ixrow_q : ix_q + {{(CW-ExtW){1'b0}}, sw_q};
  wire [CW-1:0]   nx_iy = iy_q + (row_end ? {{(CW-ExtW){1'b0}}, sh_q} : {CW{1'b0}});
  wire [AW-1:0]   nx_pp = pp_q + (row_end ? rowjmp_q : pxstep_q);

  // ---------------------------------------------------------------- FSM next state
  always @* begin
    state_d = state_q;
    case (state_q)
      StIdle:  if (start_i) state_d = StFetch;
      StFetch: if (fidx_q == 5'd12) state_d = StDec;
      StDec:   state_d = (op_q == OpConv || op_q == OpMax) ? StParam : StDone;
      StParam: if (pidx_q == 3'd7) state_d = StConv;
      StConv:  if (og_end) state_d = last_og ? StDrain : StParam;
      StDrain: if (drained) state_d = StCnt0;
      StCnt0:  state_d = StCnt1;
      StCnt1:  state_d = (layer_q == LayerLast) ? StDone : StFetch;
      StDone:  state_d = StIdle;
      StAbort: if (drained) state_d = StIdle;
      default: state_d = StIdle;
    endcase
    if (stop) state_d = drained ? StIdle : StAbort;
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= StIdle;
      abort_q <= 1'b0;
    end else begin
      state_q <= state_d;
      abort_q <= (abort_q || abort_i) && (state_d != StIdle) && (state_q != StIdle);
    end
  end

  // ---------------------------------------------------------------- descriptor fetch
  // Word k arrives while fidx = k + 1. In StParam words 12-14 (the og's start values)
  // are read again, with the bias words: word 12 + k arrives while pidx = k + 5.
  wire        fetching = (state_q == StFetch);
  wire [4:0]  fword    = fidx_q - 5'd1;
  wire [31:0] d        = dmem_rdata_i;
  always @(posedge clk_i) begin
    fidx_q <= fetching ? fidx_q + 5'd1 : 5'd0;
    if (fetching) begin
      case (fword)
        // op: 1 CONV, 2 MAXPOOL; anything else (bits 3:2 included) ends the program
        5'd0:  begin
          op_q <= (d[3:2] == 2'd0) ? d[1:0] : 2'd0;  grp_q <= d[4];
          two_q <= (RqPipes > 1) && d[5];
          blk_q <= (Block != 0) && (d[15:12] == 4'd1);
        end
        5'd3:  begin in_h_q <= d[ExtW-1:0]; in_w_q <= d[16 +: ExtW]; end
        5'd4:  begin cgm1_q <= d[AW-1:0]; ogm1_q <= d[16 +: AW]; end
        5'd5:  begin
          khm1_q <= d[ExtW-1:0];  kwm1_q <= d[8 +: ExtW];
          sh_q   <= d[16 +: ExtW]; sw_q  <= d[24 +: ExtW];
        end
        5'd6:  begin rowstr_q <= d[AW-1:0]; kxstep_q <= d[16 +: AW]; end
        5'd7:  begin pxstep_q <= d[AW-1:0]; rowjmp_q <= d[16 +: AW]; end
        5'd9:  begin steps_m1_q <= d[3:0]; rq_gap_q <= d[12:8]; ogstr_q <= d[16 +: WW]; end
        5'd10: begin pad_q <= d[7:0]; y_zp_q <= d[15:8]; lo_q <= d[23:16]; hi_q <= d[31:24]; end
        5'd11: begin
          wmk_q <= d[XW-1:0]; wm1_q <= d[16 +: RowAw];
          bmx_q <= ({{(32-BqW){1'b0}}, d[BqW-1:0]} < Dim - 1) ? DimM1[BqW-1:0] : d[BqW-1:0];
        end
        default: ;
      endcase
    end
  end
  wire [1:0]  dw_lo  = fetching ? fidx_q[1:0] : pidx_q[1:0];
  wire        dw_hi  = fetching ? fidx_q[3] : 1'b1;
  wire        dw_mid = fetching ? fidx_q[2] : 1'b1;
  wire [31:0] dmem_a = {24'd0, layer_q, dw_hi, dw_mid, dw_lo};
  assign dmem_raddr_o = dmem_a[DmAw-1:0];
  assign dmem_re_o    = fetching || (p_step && pidx_q[2]);

  // ---------------------------------------------------------------- loops
  // back to the window start (the block's, unless its last tile ends: then on to the next)
  wire restore = go && p_end && !(blk && t_last);
  always @(posedge clk_i) begin
    if (state_q == StIdle) layer_q <= 4'd0;
    if (state_q == StCnt1) layer_q <= layer_q + 4'd1;

    // og and its output base
    if (fetching && fword == 5'd2) obase_q <= d[AW-1:0];
    if (state_q == StDec) og_q <= {AW{1'b0}};
    if (og_next) begin
      og_q    <= og_q + 1'b1;
      obase_q <= obase_q + 1'b1;
    end

    // WMEM pointer: w_base, then every parameter word and beat
    if (fetching && fword == 5'd8) wp_q <= d[WW-1:0];
    else if (og_next) wp_q <= og_wbase_q + ogstr_q;              // the next og's parameters
    else if (go && p_end && t_last) wp_q <= og_wbase_q;
    else if (p_step || (go && wstep)) wp_q <= wp_q + 1'b1;
    if (p_step) og_wbase_q <= wp_q + 1'b1;                      // after the 8th word: tile 0

    // parameter words and the og's start values
    if (p_step) pidx_q <= pidx_q + 3'd1;
    else if (!in_param) pidx_q <= 3'd0;
    if (in_param) begin
      case (pidx_q)
        3'd5: begin spp_q <= d[AW-1:0]; rem_q <= d[16 +: RW]; end
        3'd6: begin siy_q <= d[CW-1:0]; six_q <= d[16 +: CW]; ixrow_q <= d[16 +: CW]; end
        3'd7: begin x_q <= d[XW-1:0]; sox_q <= d[16 +: ExtW]; owm1_q <= d[16 +: ExtW]; end
        default: ;
      endcase
      ky_q <= {ExtW{1'b0}};  kx_q <= {ExtW{1'b0}};  cg_q <= {AW{1'b0}};
      koff_q <= kbase;  krow_q <= kbase;
      b_q <= {RowAw{1'b0}};
      bq_q <= {BqW{1'b0}};
      t0_q <= 1'b1;
      neg_q <= wm1_q;
      sq_q <= {RowAw{1'b0}} - wm1_q;                    // (1 - W) mod Dim
      nprev_q <= 2'd1;
      k_q <= {{(XW-RowAw){1'b0}}, wm1_q} + 1'b1 - wmk_q;
    end

    if (go) begin
      b_q <= b_q + 1'b1;
      bq_q <= p_end ? {BqW{1'b0}} : bq_q + 1'b1;
      if (p_end) begin
        x_q <= x_q + (slide2 ? wmk_q - k_q : slide ? wmk_q : {{(XW-RowAw){1'b0}}, wm1_q} + 1'b1);
        nprev_q <= nsl;
        t0_q <= t_last;
        // a block moves on by B pixels after its last tile (the window by its slides)
        rem_q <= rem_q - ((blk && t_last) ? {{(RW-BqW){1'b0}}, bmx_q} + 1'b1 : {{(RW-2){1'b0}}, nsl});
        sq_q  <= sq_q + {{(RowAw-2){1'b0}}, nsl};
        neg_q <= (neg_q <= {{(RowAw-2){1'b0}}, nsl}) ? {RowAw{1'b0}} : neg_q - {{(RowAw-2){1'b0}}, nsl};
        // next tile; back to tile 0 after the last
        if (cg_end) begin
          cg_q <= {AW{1'b0}};
          if (kx_end) begin
            kx_q <= {ExtW{1'b0}};
            ky_q <= ky_end ? {ExtW{1'b0}} : ky_q + 1'b1;
            koff_q <= ky_end ? kbase : krow_q + rowstr_q;
            krow_q <= ky_end ? kbase : krow_q + rowstr_q;
          end else begin
            kx_q <= kx_q + 1'b1;
            koff_q <= koff_q + kxstep_q;
          end
        end else begin
          cg_q <= cg_q + 1'b1;
          koff_q <= koff_q + 1'b1;
        end
      end
    end

    // the walker: the og's start (the window start's position, loaded above; its column
    // arrives with word 14 in the last parameter cycle), each real beat the next pixel,
    // each period's end back to the window start
    if (in_param && pidx_q == 3'd7) begin
      ox_q <= d[16 +: ExtW];  iy_q <= siy_q;  ix_q <= six_q;  pp_q <= spp_q;
    end else if (restore) begin
      ox_q <= sox_q;  iy_q <= siy_q;  ix_q <= six_q;  pp_q <= spp_q;
    end else if (feed) begin
      ox_q <= nx_ox;  iy_q <= nx_iy;  ix_q <= nx_ix;  pp_q <= nx_pp;
    end
    // the window start moves on to pixel s + nsl (where the walker is after beats 0 ..
    // nsl - 1) when that is past pixel 0
    if (go && nsl != 2'd0 && b_q == {{(RowAw-2){1'b0}}, nsl} && neg_q < {{(RowAw-2){1'b0}}, nsl}) begin
      sox_q <= ox_q;  siy_q <= iy_q;  six_q <= ix_q;  spp_q <= pp_q;
    end
    // a block's last period ends: the next block starts at the pixel after its last
    if (blk && go && p_end && t_last) begin
      sox_q <= nx_ox;  siy_q <= nx_iy;  six_q <= nx_ix;  spp_q <= nx_pp;
    end
  end

  // The requantizer takes a vector every interval cycles (word 9); its inputs come a fixed
  // number of cycles after the issue.
  // With two pipelines they take the vectors in turn, each at its own interval.
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      gap0_q <= 5'd0;
      gap1_q <= 5'd0;
      sel_q  <= 1'b0;
    end else begin
      if (rq_issue && !rq_pipe)  gap0_q <= rq_gap_q;
      else if (gap0_q != 5'd0)   gap0_q <= gap0_q - 5'd1;
      if (rq_issue && rq_pipe)   gap1_q <= rq_gap_q;
      else if (gap1_q != 5'd0)   gap1_q <= gap1_q - 5'd1;
      if (rq_issue && RqPipes > 1) sel_q <= !sel_q;
    end
  end

  // ---------------------------------------------------------------- counters
  // Synchronous clears only (state_q is StIdle after reset; the counters are read only
  // at the end of a run): iCE40 flip-flops have no asynchronous and synchronous reset
  // together, so an asynchronous one would cost a multiplexer per bit.
  always @(posedge clk_i) begin
    if (state_q == StIdle || state_q == StCnt1) begin
      cyc_layer_q <= 32'd0;
      cyc_feed_q  <= 32'd0;
    end else begin
      cyc_layer_q <= cyc_layer_q + 32'd1;
      if (feed) cyc_feed_q <= cyc_feed_q + 32'd1;
    end
  end
  wire [31:0] cnt_a = {27'd0, layer_q, state_q == StCnt1};
  assign cnt_we_o    = (state_q == StCnt0) || (state_q == StCnt1);
  assign cnt_waddr_o = cnt_a[CntAw-1:0];
  assign cnt_wdata_o = (state_q == StCnt0) ? cyc_layer_q : cyc_feed_q;

  // ---------------------------------------------------------------- read issue
  assign amem_raddr_o = pp_q + koff_q;
  assign wmem_raddr_o = wp_q;

  // Issue -> data stage (one-cycle RAM latency).
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      f_valid_q <= 1'b0;
      f_wload_q <= 1'b0;
      f_param_q <= 1'b0;
      f_swap_q  <= 1'b0;
    end else begin
      f_valid_q <= feed;
      f_wload_q <= go && wstep;
      f_param_q <= p_step;
      f_swap_q  <= go && b_zero;
    end
  end
  always @(posedge clk_i) begin
    f_pad_q   <= pad;
    f_first_q <= c_first;
    f_last_q  <= c_last;
    f_wrow_q  <= blk ? bq_q[RowAw-1:0] : b_q;
    f_pidx_q  <= pidx_q;
  end
  assign f_valid_o = f_valid_q;
  assign f_pad_o   = f_pad_q;
  assign f_swap_o  = f_swap_q;
  assign f_first_o = f_first_q;
  assign f_last_o  = f_last_q;
  assign f_p_o     = f_p_q;
  assign f_wload_o = f_wload_q;
  assign f_wrow_o  = f_wrow_q;
  assign f_param_o = f_param_q;
  assign f_pidx_o  = f_pidx_q;
  assign obase_o   = obase_q;
  // the accumulator entry: the window's pixel mod Dim, or AccDepth/2 + b in a block
  if (Block != 0) begin : g_blk_p
    always @(posedge clk_i)
      f_p_q <= blk ? {1'b1, bq_q} : {{(PW-RowAw){1'b0}}, sq_q + b_q};
  end else begin : g_win_p
    always @(posedge clk_i) f_p_q <= sq_q + b_q;   // pixel mod Dim
  end
  // The output step OG << osh, minus one (word 0 bits 7:6; without OutShift: OG - 1).
  if (OutShift != 0) begin : g_osh
    reg [1:0]    osh_q;
    reg [AW-1:0] ostep_q;
    always @(posedge clk_i) begin
      if (fetching && fword == 5'd0) osh_q <= d[7:6];
      // OG - 1 with osh ones shifted in
      if (fetching && fword == 5'd4)
        case (osh_q)
          2'd0:    ostep_q <= d[16 +: AW];
          2'd1:    ostep_q <= {d[16 +: AW-1], 1'b1};
          2'd2:    ostep_q <= {d[16 +: AW-2], 2'b11};
          default: ostep_q <= {d[16 +: AW-3], 3'b111};
        endcase
    end
    assign ostep_o = ostep_q;
  end else begin : g_no_osh
    assign ostep_o = ogm1_q;
  end

  assign busy_o        = (state_q != StIdle);
  assign done_o        = (state_q == StDone);
  assign max_o         = (op_q == OpMax);
  assign pad_o         = pad_q;
  assign y_zp_o        = y_zp_q;
  assign lo_o          = lo_q;
  assign hi_o          = hi_q;
  assign rq_steps_m1_o = steps_m1_q;

  wire unused_ctrl = ^{cnt_a[31:CntAw], dmem_a[31:DmAw]};

`ifndef SYNTHESIS
  // Rules of the loops above, for any descriptor (verilator --assert; proven by
  // formal/ctrl.ys): the state is a named one; a fetch stays within its descriptor's
  // words 0-12; a vector goes to the requantizer only when the interval of the one before
  // has passed and the requantizer holds its og's parameters; after an abort nothing is issued and the run
  // ends without done_o; outside a run nothing is issued.
  reg a_live_q;                              // out of reset: the checks skip reset
  always @(posedge clk_i or negedge rst_ni)
    if (!rst_ni) a_live_q <= 1'b0;
    else         a_live_q <= 1'b1;
  always @(posedge clk_i) if (a_live_q) begin
    assert (state_q <= StAbort);
    if (fetching) assert (fidx_q <= 5'd12);
    if (rq_issue) assert ((rq_pipe ? gap1_q : gap0_q) == 5'd0 && !rq_hold_i);
    if (state_q == StAbort || state_q == StIdle) assert (!go && !feed && !done_o);
  end
`endif
endmodule
`default_nettype wire
