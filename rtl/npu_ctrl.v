`default_nettype none
// npu_ctrl: the sequencer of npu_core (docs/ARCHITECTURE.md sections 1, 3, 4).
//
// After start_i it fetches 16-word descriptors from DMEM (layer l at word 16 l) and
// runs each layer until op = 0 END (or MaxLayers / the end of DMEM), then pulses done_o.
// Per cycle it issues at most one AMEM read (an activation word, i.e. im2col done as
// address generation) and one WMEM read (a weight-tile row or a parameter word). The
// f_* outputs describe what the RAM read data of the NEXT cycle is (they are the issue
// signals delayed by the one-cycle RAM latency), so the datapath consumes rdata and
// f_* together.
//
// CONV schedule (ARCHITECTURE section 1): for og: load 12 param words, then periods of
// Dim beats. Period j uses weight tile t = j mod K (K = KH*KW*CG tiles (ky, kx, cg));
// beat b reads weight row b of it (the first beat carries the swap token: tiles are
// Dim beats apart, the array's double-buffering rule) and feeds pixel s_j + b of a
// sliding window of W = min(K, Dim) consecutive output pixels (pad -> x_zp; pixels
// outside [0, P) are bubbles). Pixel q is in the window for exactly K periods, so it
// meets every tile once: it enters at period floor(q*K/W) (its first tile: bias + psum)
// and leaves after K periods (its last tile: the sum goes to the requantizer). The
// window slides by at most one pixel per period (Bresenham: x += W, slide when x >= 0,
// x -= K), so outputs are spread evenly, at most one per period, on average one per K
// periods * Dim/W, and the requantizer (one vector per max(Steps, Dim) cycles, word 9)
// only stalls the period start of a leaving pixel when outputs come closer than that. Accumulator
// entry of pixel q: q mod Dim. After each og the pipeline drains before the next og's
// parameters replace the current ones.
// Addresses, all kept incrementally (no multiplier; the per-layer products W*CG, sw*CG,
// sh*W*CG, OH*OW, P(0, 0) and K come computed in descriptor words 11-13):
//   AMEM  = in_base + ((oy*sh - pt + ky) * W + (ox*sw - pl + kx)) * CG + cg
//         = P(oy, ox) + koff(ky, kx, cg),  koff = (ky*W + kx)*CG + cg
//   pad   = input row/column outside [0, H) x [0, W)
//   out   = out_base + (oy*OW + ox) * OG + og
//   WMEM  = w_base + og*(12 + K*Dim) + 12 + ((ky*KW + kx)*CG + cg)*Dim + row
// POOL loop: for pixel: for g: for ky, kx: one beat (AMEM = P + (ky*W + kx)*CG + g);
//   out = out_base + pixel*CG + g.
// Counters (CNT space): per layer total cycles and array-feed cycles.
module npu_ctrl #(
  parameter integer Dim       = 8,
  parameter integer AmemWords = 16384,
  parameter integer WmemWords = 65536,
  parameter integer DmemWords = 256,
  parameter integer AccDepth  = 1024,
  parameter integer MaxLayers = 16,
  parameter integer RqInterval = 17 + Dim,   // npu_requant: latency bound (Steps <= 16)
  parameter integer DrainCycles = 3 * Dim + RqInterval + 10,
  parameter integer AmAw  = $clog2(AmemWords),
  parameter integer WmAw  = $clog2(WmemWords),
  parameter integer DmAw  = $clog2(DmemWords),
  parameter integer RowAw = $clog2(Dim),
  parameter integer CntAw = $clog2(2 * MaxLayers)
) (
  input  wire              clk_i,
  input  wire              rst_ni,
  input  wire              start_i,
  output wire              busy_o,
  output wire              done_o,
  // memories (read addresses; data comes back one cycle later)
  output wire              dmem_re_o,
  output wire [DmAw-1:0]   dmem_raddr_o,
  input  wire [31:0]       dmem_rdata_i,
  output wire [AmAw-1:0]   amem_raddr_o,
  output wire [WmAw-1:0]   wmem_raddr_o,
  // what this cycle's AMEM/WMEM read data is
  output wire              f_valid_o,   // an activation beat (conv or pool)
  output wire              f_pad_o,     // ... outside the input: substitute the pad value
  output wire              f_swap_o,    // first beat of a weight tile
  output wire              f_first_o,   // conv: first tile of the pixel; pool: window start
  output wire              f_last_o,    // conv: last tile; pool: window end
  output wire [RowAw-1:0]  f_p_o,       // accumulator entry (pixel mod Dim)
  output wire              f_q0_o,      // the og's (pool: layer's) first output: at obase_o
  output wire [AmAw-1:0]   obase_o,     // AMEM word of the og's first output (out_base + og)
  output wire [AmAw-1:0]   ostep_o,     // AMEM words from one output to the next, minus 1 (OG-1; 0)
  output wire              f_wload_o,   // WMEM data is weight row f_wrow_o of a tile
  output wire [RowAw-1:0]  f_wrow_o,
  output wire              f_param_o,   // WMEM data is parameter word f_pidx_o
  output wire [3:0]        f_pidx_o,
  // layer configuration
  output wire [1:0]        mode_o,      // 1 conv, 2 maxpool (= op)
  output wire [7:0]        x_zp_o,
  output wire [7:0]        y_zp_o,
  output wire [7:0]        lo_o,
  output wire [7:0]        hi_o,
  output wire [3:0]        rq_steps_m1_o, // npu_requant Steps - 1 (descriptor word 9)
  // performance counters
  output wire              cnt_we_o,
  output wire [CntAw-1:0]  cnt_waddr_o,
  output wire [31:0]       cnt_wdata_o
);
  // op 0 (END) and unknown ops (3, the former AVGPOOL, included) end the program.
  localparam [3:0] OpConv = 4'd1, OpMax = 4'd2;   // 3 (AVGPOOL) is compiled to CONV
  localparam integer LayerLimit = (MaxLayers < DmemWords / 16) ? MaxLayers : DmemWords / 16;
  // Between output groups only the parameters must outlive the group's last beat: that
  // beat (issued in cycle c) reaches the requantizer in cycle c + 2*Dim + 2 (AMEM read,
  // input register, array latency 2*Dim-1, accumulator), which reads M0/S until cycle
  // c + 2*Dim + 2 + RqInterval; the next group's first parameter word is written at the
  // end of cycle c + OgDrain + 3, so OgDrain >= 2*Dim + RqInterval; one cycle of margin.
  // The og's last output is written with obase_q of its og (when it is the og's only
  // output: a dense layer), 7 cycles after the requantizer has read M0/S (its window
  // and clamp pipeline): 6 more.
  localparam [31:0] OgDrain32 = 2 * Dim + RqInterval + 7;
  localparam [31:0] ByGap32 = Dim - 1;
  localparam [4:0]  ByGap = ByGap32[4:0];
  localparam [31:0] Drain32 = DrainCycles;
  localparam [31:0] LayerLimit32 = LayerLimit;
  localparam [7:0] OgDrain8 = OgDrain32[7:0];
  localparam [7:0] Drain8 = Drain32[7:0];
  localparam [7:0] LayerLimit8 = LayerLimit32[7:0];
  // Datapath widths: AMEM/WMEM address arithmetic is modulo the memory size (addresses
  // only ever leave through the RAM ports, truncated), pixel coordinates are signed.
  localparam integer AW = AmAw;
  localparam integer WW = WmAw;
  // Every extent the loops count (H, W, OH, OW, CG, OG, pixels) fits in AMEM, so AW
  // bits hold it (the descriptor fields are truncated to that); input coordinates
  // oy*sh - pt + ky are signed and may reach W + 255: CW = AW + 2.
  localparam integer DW = AW;
  localparam integer CW = AW + 2;
  localparam integer PW = AW + 1;                              // pixel counts
  localparam integer SW = PW + 1;                              // window start, signed
  localparam integer XW = WW + 2;                              // Bresenham term, signed
  localparam [31:0] Dim32 = Dim;
  localparam [WW-1:0] DimW = Dim32[WW-1:0];
  localparam [RowAw:0] DimR = Dim32[RowAw:0];

  // ---------------------------------------------------------------- FSM
  localparam [3:0] StIdle    = 4'd0,
                   StFetch   = 4'd1,
                   StDecode  = 4'd2,
                   StParam   = 4'd5,
                   StConv    = 4'd6,
                   StOgDrain = 4'd7,
                   StPool    = 4'd8,
                   StDrain   = 4'd9,
                   StCnt0    = 4'd10,
                   StCnt1    = 4'd11,
                   StFinish  = 4'd12,
                   StSetup3  = 4'd13;

  reg [3:0]  state_q, state_d;

  // descriptor fields
  reg [3:0]  op_q;
  reg [AW-1:0] out_base_q;
  reg [DW-1:0] in_h_q, in_w_q, og_m1_q, out_w_q;
  reg [7:0]  sh_q, sw_q, pt_q, pl_q;
  // CG, OG, KH and KW minus one (decremented at the fetch): the loop ends compare the
  // counters themselves, no incrementer before the compare (timing)
  reg [DW-1:0] cg_m1_q;
  reg [7:0]  kh_m1_q, kw_m1_q;
  reg [7:0]  x_zp_q, y_zp_q, lo_q, hi_q;
  // requantizer: Steps - 1 and the cycles between two of its vectors minus one,
  // max(Steps, Dim) - 1 (descriptor word 9, from the compiler's accumulator bound)
  reg [3:0]  rq_steps_m1_q;
  reg [4:0]  rq_gap_q;

  // layer constants, computed by the compiler (descriptor words 11-13)
  reg [AW-1:0] wcg_q;      // W*CG: AMEM words per input row
  reg [AW-1:0] swcg_q;     // sw*CG: step of P per output column
  reg [PW-1:0] npix_m1_q;  // OH*OW - 1 (decremented at the fetch: the last pixel)
  reg [AW-1:0] stepy_q;    // sh*W*CG: step of P per output row
  reg [AW-1:0] p_init_q;   // P at (oy, ox) = (0, 0)
  reg [WW-1:0] kt_q;       // K = KH*KW*CG: weight tiles per output pixel

  // loop counters
  reg [4:0]  fidx_q;                 // descriptor word being fetched
  reg [7:0]    layer_q;
  reg [DW-1:0] og_q;
  // WMEM per og: 12 parameter words, then the K tiles; wt_base walks both, og_wbase is
  // the og's first tile
  reg [WW-1:0] og_wbase_q, wt_base_q;
  reg [7:0]    ky_q, kx_q;
  reg [DW-1:0] cg_q;
  reg [AW-1:0] koff_q, koff_row_q;
  reg [RowAw-1:0] b_q;               // beat in period
  reg [SW-1:0] s_q;                  // conv: window start (signed); pool: pixel
  reg [XW-1:0] x_q;                  // Bresenham term: the window slides when x >= 0
  reg          dprev_q;              // it slid after the previous period
  reg [4:0]    gap_q;                // cycles until the requantizer takes a vector
  reg [3:0]    pidx_q;               // parameter word
  reg [7:0]    drain_q;
  // pixel position (current) and the saved one of the window start (pixel max(s, 0)):
  // ox counts the columns left in the row, OW - ox (down to 1: no adder before the
  // row-end compare), oxs = ox*sw - pl, oys = oy*sh - pt (signed), pp = AMEM word of
  // (oys, oxs, channel 0), prow = pp at the row's first column
  reg [DW-1:0] ox_q, ps_ox_q;
  reg [CW-1:0] oxs_q, oys_q, ps_oxs_q, ps_oys_q;
  reg [AW-1:0] pp_q, prow_q, ps_pp_q, ps_prow_q;
  // outputs leave in address order: npu_core counts their AMEM words from obase
  reg [AW-1:0] obase_q;
  reg          ofirst_q;               // no output of this og (pool: layer) issued yet
  // counters
  reg [31:0] cyc_layer_q, cyc_feed_q;

  // ---------------------------------------------------------------- per-beat datapath
  wire        is_conv = (op_q == OpConv);
  wire [CW-1:0] ky_c  = {{(CW-8){1'b0}}, ky_q};
  wire [CW-1:0] kx_c  = {{(CW-8){1'b0}}, kx_q};
  wire [CW-1:0] iy    = oys_q + ky_c;
  wire [CW-1:0] ix    = oxs_q + kx_c;
  wire        pad     = iy[CW-1] || (iy[CW-2:0] >= {1'b0, in_h_q}) ||
                        ix[CW-1] || (ix[CW-2:0] >= {1'b0, in_w_q});
  wire [31:0]   b32   = {{(32-RowAw){1'b0}}, b_q};
  wire [AW-1:0] cg_a  = cg_q;
  wire [AW-1:0] cgm1_a = cg_m1_q;
  wire [AW-1:0] ogm1_a = og_m1_q;
  wire [AW-1:0] amem_a = pp_q + koff_q;   // pool: koff includes g (timing: one adder)
  // next counter values (the loop ends compare the counters with CG-1, KH-1, KW-1)
  wire [7:0]    ky_inc  = ky_q + 8'd1;
  wire [7:0]    kx_inc  = kx_q + 8'd1;
  wire [DW-1:0] cg_inc  = cg_q + 1'b1;
  wire [DW-1:0] og_inc  = og_q + 1'b1;
  wire [DW-1:0] ox_dec  = ox_q - 1'b1;
  wire [SW-1:0] s_inc   = s_q + 1'b1;
  wire        kx_end  = (kx_q == kw_m1_q);
  wire        k_last  = (ky_q == kh_m1_q) && kx_end;
  wire        k_first = (ky_q == 8'd0) && (kx_q == 8'd0);
  wire        cg_last = (cg_q == cg_m1_q);
  wire        t_last  = k_last && cg_last;
  // sliding window (see the header): K tiles per pixel, W pixels per period
  wire [WW-1:0] kt     = kt_q;
  wire [WW-1:0] og_wstr = kt_q << RowAw;                       // WMEM words per og
  // W = min(K, Dim), registered when the descriptor is decoded (timing)
  wire [RowAw:0] wwin_d = (kt < {{(WW-RowAw-1){1'b0}}, DimR}) ? kt[RowAw:0] : DimR;
  reg  [RowAw:0] wwin_q;
  always @(posedge clk_i) if (state_q == StDecode) wwin_q <= wwin_d;
  wire [RowAw:0] wwin  = wwin_q;
  wire [RowAw-1:0] qpix_lo = s_q[RowAw-1:0] + b_q;             // pixel of this beat mod Dim
  wire        slide    = !x_q[XW-1];                           // pixel s leaves after this period
  // Whether this beat's pixel s + b is real (b < W, 0 <= s + b < P) comes registered
  // (timing): in StConv real_q is computed for the beat after this one (b + 1, or b = 0
  // and s + slide after the period's last beat) and taken when the beat goes. A group
  // starts with s = 1 - W, b = 0: real iff W = 1 (P >= 1).
  wire [RowAw:0] b_up  = {1'b0, b_q} + 1'b1;
  wire [RowAw:0] b_ev  = p_end ? {(RowAw+1){1'b0}} : b_up;
  wire [RowAw:0] d_ev  = p_end ? {{RowAw{1'b0}}, slide} : b_up;
  // s + d <= P - 1 as (P - 1 - s) - d >= 0: the first subtraction starts from registers
  // while d is still being selected (timing); s + d < 0 only when s < 0 (s >= 1 - Dim):
  // a few low bits decide it.
  wire [SW:0]   rem_s  = {2'b00, npix_m1_q} - {s_q[SW-1], s_q};
  wire [SW:0]   rem_d  = rem_s - {{(SW-RowAw){1'b0}}, d_ev};
  wire [RowAw+1:0] q_lo = s_q[RowAw+1:0] + {1'b0, d_ev};
  wire        real_ev  = (b_ev < wwin) && !(s_q[SW-1] && q_lo[RowAw+1]) && !rem_d[SW];
  reg         real_q;
  always @(posedge clk_i) begin
    if (state_q != StConv) real_q <= (wwin == {{RowAw{1'b0}}, 1'b1});
    else if (conv_go)      real_q <= real_ev;
  end
  wire        real_px  = real_q;
  wire        p_end    = (b_q == {RowAw{1'b1}});              // last beat of the period
  wire        c_first  = ({1'b0, b_q} == wwin - 1'b1) && dprev_q;
  wire        c_last   = (b_q == {RowAw{1'b0}}) && slide;
  // a leaving pixel's beat waits until the requantizer can take its sum
  wire        c_stall  = c_last && !s_q[SW-1] && (gap_q != 5'd0);
  wire        p_stall  = (state_q == StPool) && k_last && (gap_q != 5'd0);
  wire        conv_go  = (state_q == StConv) && !c_stall;
  wire        feed     = (state_q == StConv) ? (real_px && !c_stall) : ((state_q == StPool) && !p_stall);
  wire        wload    = conv_go;
  wire        rq_issue = (state_q == StConv) ? (c_last && !s_q[SW-1] && !c_stall)
                                             : ((state_q == StPool) && k_last && !p_stall);
  wire        og_end   = conv_go && p_end && slide && (s_q == {1'b0, npix_m1_q});
  wire        last_og  = (og_q == og_m1_q);         // the layer ends: full drain
  wire        pool_end = !p_stall && k_last && cg_last && (s_q[PW-1:0] == npix_m1_q);

  // next pixel position (raster order)
  wire [CW-1:0] pl_c   = {{(CW-8){1'b0}}, pl_q};
  wire [CW-1:0] pt_c   = {{(CW-8){1'b0}}, pt_q};
  wire        row_end  = (ox_q == {{(DW-1){1'b0}}, 1'b1});   // a constant compare (timing)
  wire [DW-1:0] nx_ox   = row_end ? out_w_q : ox_dec;
  wire [CW-1:0] nx_oxs  = row_end ? {CW{1'b0}} - pl_c : oxs_q + {{(CW-8){1'b0}}, sw_q};
  wire [CW-1:0] nx_oys  = row_end ? oys_q + {{(CW-8){1'b0}}, sh_q} : oys_q;
  wire [AW-1:0] nx_prow = row_end ? prow_q + stepy_q : prow_q;
  wire [AW-1:0] nx_pp   = row_end ? prow_q + stepy_q : pp_q + swcg_q;
  // pixel position after this beat (conv: only feed beats move it)
  wire        mv       = (state_q == StConv) && feed;
  wire [XW-1:0] x_step = {{(XW-RowAw-1){1'b0}}, wwin} - (slide ? {2'b00, kt} : {XW{1'b0}});
  wire [XW-1:0] x_init = {{(XW-RowAw-2){1'b0}}, wwin, 1'b0} - 1'b1 - {2'b00, kt};  // 2W-1-K
  wire [SW-1:0] s_init = {{(SW-1){1'b0}}, 1'b1} - {{(SW-RowAw-1){1'b0}}, wwin};   // 1-W
  wire [DW-1:0] av_ox   = mv ? nx_ox   : ox_q;
  wire [CW-1:0] av_oxs  = mv ? nx_oxs  : oxs_q;
  wire [CW-1:0] av_oys  = mv ? nx_oys  : oys_q;
  wire [AW-1:0] av_prow = mv ? nx_prow : prow_q;
  wire [AW-1:0] av_pp   = mv ? nx_pp   : pp_q;

  // ---------------------------------------------------------------- FSM next state
  always @* begin
    state_d = state_q;
    case (state_q)
      StIdle:    if (start_i) state_d = StFetch;
      StFetch:   if (fidx_q == 5'd16) state_d = StDecode;
      StDecode:  begin
        if (op_q == OpConv || op_q == OpMax) state_d = StSetup3;
        else state_d = StFinish;
      end
      StSetup3:  state_d = is_conv ? StParam : StPool;
      StParam:   if (pidx_q == 4'd11) state_d = StConv;
      StConv:    if (og_end) state_d = StOgDrain;
      StOgDrain: begin
        if (last_og ? (drain_q == Drain8) : (drain_q == OgDrain8)) state_d = last_og ? StCnt0 : StParam;
      end
      StPool:    if (pool_end) state_d = StDrain;
      StDrain:   if (drain_q == Drain8) state_d = StCnt0;
      StCnt0:    state_d = StCnt1;
      StCnt1:    state_d = (layer_q == LayerLimit8 - 8'd1) ? StFinish : StFetch;
      StFinish:  state_d = StIdle;
      default:   state_d = StIdle;
    endcase
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) state_q <= StIdle;
    else         state_q <= state_d;
  end

  // ---------------------------------------------------------------- descriptor fetch
  // Word fidx-1 arrives while word fidx is being addressed.
  always @(posedge clk_i) begin
    if (state_q == StIdle) fidx_q <= 5'd0;
    else if (state_q == StFetch) fidx_q <= fidx_q + 5'd1;
    else if (state_q == StCnt1) fidx_q <= 5'd0;
    if (state_q == StFetch && fidx_q != 5'd0) begin
      case (fidx_q - 5'd1)
        5'd0:  op_q <= dmem_rdata_i[3:0];
        5'd2:  out_base_q <= dmem_rdata_i[AW-1:0];
        5'd3:  begin in_h_q <= dmem_rdata_i[DW-1:0]; in_w_q <= dmem_rdata_i[16 +: DW]; end
        5'd4:  begin cg_m1_q <= dmem_rdata_i[DW-1:0] - 1'b1; og_m1_q <= dmem_rdata_i[16 +: DW] - 1'b1; end
        5'd5:  out_w_q <= dmem_rdata_i[16 +: DW];   // out_h: only in npix
        5'd6:  begin
          kh_m1_q <= dmem_rdata_i[7:0] - 8'd1;  kw_m1_q <= dmem_rdata_i[15:8] - 8'd1;
          sh_q <= dmem_rdata_i[23:16]; sw_q <= dmem_rdata_i[31:24];
        end
        5'd7:  begin pt_q <= dmem_rdata_i[7:0]; pl_q <= dmem_rdata_i[15:8]; end
        // word 8 (w_base) goes straight to the WMEM pointer (below)
        5'd9:  begin rq_steps_m1_q <= dmem_rdata_i[3:0]; rq_gap_q <= dmem_rdata_i[12:8]; end
        5'd10: begin
          x_zp_q <= dmem_rdata_i[7:0];   y_zp_q <= dmem_rdata_i[15:8];
          lo_q   <= dmem_rdata_i[23:16]; hi_q   <= dmem_rdata_i[31:24];
        end
        5'd11: begin wcg_q <= dmem_rdata_i[AW-1:0];   swcg_q <= dmem_rdata_i[16 +: AW]; end
        5'd12: begin stepy_q <= dmem_rdata_i[AW-1:0]; npix_m1_q <= dmem_rdata_i[16 +: PW] - 1'b1; end
        5'd13: begin p_init_q <= dmem_rdata_i[AW-1:0]; kt_q <= dmem_rdata_i[16 +: WW]; end
        default: ;
      endcase
    end
  end
  // (fidx = 16, the cycle after the last word, reads word 0 again: not used)
  wire [31:0] dmem_a = {20'd0, layer_q, fidx_q[3:0]};
  assign dmem_raddr_o = dmem_a[DmAw-1:0];
  assign dmem_re_o    = (state_q == StFetch);

  // ---------------------------------------------------------------- loops

  always @(posedge clk_i) begin
    case (state_q)
      StIdle: begin
        layer_q <= 8'd0;
      end
      StFetch: begin
        // descriptor word k arrives while fidx = k + 1
        if (fidx_q == 5'd9) wt_base_q <= dmem_rdata_i[WW-1:0];
      end
      StSetup3: begin
        og_q       <= {DW{1'b0}};
        pidx_q     <= 4'd0;
        // restart: window before pixel 0, tile 0, position of pixel 0
        ky_q <= 8'd0;  kx_q <= 8'd0;  cg_q <= {DW{1'b0}};
        koff_q <= {AW{1'b0}};  koff_row_q <= {AW{1'b0}};
        b_q <= {RowAw{1'b0}};
        s_q <= is_conv ? s_init : {SW{1'b0}};
        x_q <= x_init;
        dprev_q <= 1'b1;
        drain_q <= 8'd0;
        ox_q   <= out_w_q;            ps_ox_q   <= out_w_q;
        oxs_q  <= {CW{1'b0}} - pl_c;  ps_oxs_q  <= {CW{1'b0}} - pl_c;
        oys_q  <= {CW{1'b0}} - pt_c;  ps_oys_q  <= {CW{1'b0}} - pt_c;
        pp_q   <= p_init_q;           ps_pp_q   <= p_init_q;
        prow_q <= p_init_q;           ps_prow_q <= p_init_q;
        obase_q <= out_base_q;
      end
      StParam: begin
        pidx_q <= pidx_q + 4'd1;
        wt_base_q <= wt_base_q + 1'b1;           // after 12 words: the og's first tile
        if (pidx_q == 4'd11) og_wbase_q <= wt_base_q + 1'b1;
        drain_q <= 8'd0;
      end
      StConv: if (conv_go) begin
        if (mv) begin
          ox_q <= nx_ox;  oxs_q <= nx_oxs;  oys_q <= nx_oys;
          prow_q <= nx_prow;  pp_q <= nx_pp;
        end
        // the window start moves on to the pixel after beat 0's
        if (c_last) begin
          ps_ox_q <= av_ox;  ps_oxs_q <= av_oxs;  ps_oys_q <= av_oys;
          ps_prow_q <= av_prow;  ps_pp_q <= av_pp;
        end
        b_q <= b_q + 1'b1;
        if (p_end) begin
          if (slide) s_q <= s_inc;
          x_q <= x_q + x_step;
          dprev_q <= slide;
          // next tile, back to tile 0 after the last
          if (t_last) begin
            wt_base_q <= og_wbase_q;
            ky_q <= 8'd0;  kx_q <= 8'd0;  cg_q <= {DW{1'b0}};
            koff_q <= {AW{1'b0}};  koff_row_q <= {AW{1'b0}};
          end else begin
            wt_base_q <= wt_base_q + DimW;
            if (cg_last) begin
              cg_q <= {DW{1'b0}};
              if (kx_end) begin
                kx_q <= 8'd0;
                ky_q <= ky_inc;
                koff_row_q <= koff_row_q + wcg_q;
                koff_q <= koff_row_q + wcg_q;
              end else begin
                kx_q <= kx_inc;
                koff_q <= koff_q + 1'b1;
              end
            end else begin
              cg_q <= cg_inc;
              koff_q <= koff_q + 1'b1;
            end
          end
          // the walk restarts at the window start (moved on at beat 0 if it slid)
          ox_q <= ps_ox_q;  oxs_q <= ps_oxs_q;  oys_q <= ps_oys_q;
          prow_q <= ps_prow_q;  pp_q <= ps_pp_q;
        end
      end
      StOgDrain: begin
        drain_q <= drain_q + 8'd1;
        if (!last_og && drain_q == OgDrain8) begin
          // next output group: back to the first pixel
          og_q       <= og_inc;
          wt_base_q  <= og_wbase_q + og_wstr;      // the next og's parameters
          pidx_q     <= 4'd0;
          // restart: window before pixel 0, tile 0, position of pixel 0
          ky_q <= 8'd0;  kx_q <= 8'd0;  cg_q <= {DW{1'b0}};
          koff_q <= {AW{1'b0}};  koff_row_q <= {AW{1'b0}};
          b_q <= {RowAw{1'b0}};
          s_q <= is_conv ? s_init : {SW{1'b0}};
          x_q <= x_init;
          dprev_q <= 1'b1;
          drain_q <= 8'd0;
          ox_q   <= out_w_q;            ps_ox_q   <= out_w_q;
          oxs_q  <= {CW{1'b0}} - pl_c;  ps_oxs_q  <= {CW{1'b0}} - pl_c;
          oys_q  <= {CW{1'b0}} - pt_c;  ps_oys_q  <= {CW{1'b0}} - pt_c;
          pp_q   <= p_init_q;           ps_pp_q   <= p_init_q;
          prow_q <= p_init_q;           ps_prow_q <= p_init_q;
          obase_q <= out_base_q + og_inc;
        end
      end
      StPool: if (!p_stall) begin
        if (!k_last) begin
          if (kx_end) begin
            kx_q <= 8'd0;
            ky_q <= ky_inc;
            koff_row_q <= koff_row_q + wcg_q;
            koff_q <= koff_row_q + wcg_q;
          end else begin
            kx_q <= kx_inc;
            koff_q <= koff_q + cgm1_a + 1'b1;   // + CG
          end
        end else begin
          ky_q <= 8'd0;  kx_q <= 8'd0;
          // the next window's koff starts at its group g
          koff_q <= cg_last ? {AW{1'b0}} : cg_a + 1'b1;
          koff_row_q <= cg_last ? {AW{1'b0}} : cg_a + 1'b1;
          if (cg_last) begin
            cg_q <= {DW{1'b0}};
            s_q <= s_inc;
            ox_q <= nx_ox;  oxs_q <= nx_oxs;  oys_q <= nx_oys;
            prow_q <= nx_prow;  pp_q <= nx_pp;
          end else begin
            cg_q <= cg_inc;
          end
        end
        drain_q <= 8'd0;
      end
      StDrain: drain_q <= drain_q + 8'd1;
      StCnt1: layer_q <= layer_q + 8'd1;
      default: ;
    endcase
  end

  // The requantizer takes a vector every RqInterval cycles (a max-pool bypass vector:
  // every Dim cycles); its inputs come a fixed number of cycles after the issue.
  always @(posedge clk_i) begin
    if (state_q == StSetup3 || (state_q == StOgDrain && drain_q == OgDrain8)) ofirst_q <= 1'b1;
    else if (rq_issue) ofirst_q <= 1'b0;
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni)       gap_q <= 5'd0;
    else if (rq_issue) gap_q <= (op_q == OpMax) ? ByGap : rq_gap_q;
    else if (gap_q != 5'd0) gap_q <= gap_q - 5'd1;
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
      if (state_q == StConv && feed) cyc_feed_q <= cyc_feed_q + 32'd1;
    end
  end
  // (No run total here: the link counts the run, npu_link cycles_q, as does the core
  // bench; it equals sum(layer cycles) + 2 per layer + 19.)
  wire [31:0] cnt_a = {23'd0, layer_q, state_q == StCnt1};
  assign cnt_we_o    = (state_q == StCnt0) || (state_q == StCnt1);
  assign cnt_waddr_o = cnt_a[CntAw-1:0];
  assign cnt_wdata_o = (state_q == StCnt0) ? cyc_layer_q : cyc_feed_q;

  // ---------------------------------------------------------------- read issue
  wire [WW-1:0] wmem_a = wt_base_q + b32[WW-1:0];   // b = 0 while loading parameters
  assign amem_raddr_o = amem_a;
  assign wmem_raddr_o = wmem_a;

  // Issue -> data stage (one-cycle RAM latency).
  reg             f_valid_q, f_pad_q, f_swap_q, f_first_q, f_last_q, f_wload_q, f_param_q;
  reg [3:0]       f_pidx_q;
  reg [RowAw-1:0] f_p_q;
  reg             f_q0_q;
  reg [RowAw-1:0] f_wrow_q;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      f_valid_q <= 1'b0;
      f_wload_q <= 1'b0;
      f_param_q <= 1'b0;
      f_swap_q  <= 1'b0;
    end else begin
      f_valid_q <= feed;
      f_wload_q <= wload;
      f_param_q <= (state_q == StParam);
      f_swap_q  <= conv_go && (b_q == {RowAw{1'b0}});
    end
  end
  always @(posedge clk_i) begin
    f_pad_q   <= pad;
    f_first_q <= is_conv ? c_first : k_first;
    f_last_q  <= is_conv ? c_last : k_last;
    f_p_q     <= qpix_lo;           // pixel mod Dim
    f_q0_q    <= ofirst_q;
    f_wrow_q  <= b_q[RowAw-1:0];
    f_pidx_q  <= pidx_q;
  end
  assign f_valid_o = f_valid_q;
  assign f_pad_o   = f_pad_q;
  assign f_swap_o  = f_swap_q;
  assign f_first_o = f_first_q;
  assign f_last_o  = f_last_q;
  assign f_p_o     = f_p_q;
  assign f_q0_o    = f_q0_q;
  assign obase_o   = obase_q;
  assign ostep_o   = is_conv ? ogm1_a : {AW{1'b0}};
  assign f_wload_o = f_wload_q;
  assign f_wrow_o  = f_wrow_q;
  assign f_param_o = f_param_q;
  assign f_pidx_o  = f_pidx_q;

`ifndef SYNTHESIS
  // Descriptor rules (ARCHITECTURE section 4) the compiler guarantees.
  localparam [31:0] AccDepth32 = AccDepth;
  always @(posedge clk_i) begin
    if (state_q == StParam && pidx_q == 4'd0 &&
        (cg_m1_q == {DW{1'b1}} || og_m1_q == {DW{1'b1}} || AccDepth32 < Dim32)) begin
      $display("npu_ctrl: layer %0d: bad CONV descriptor (AccDepth %0d, CG %0d, OG %0d)",
               layer_q, AccDepth, cg_m1_q + 1'b1, og_m1_q + 1'b1);
      $stop;
    end
  end
`endif

  assign busy_o     = (state_q != StIdle);
  assign done_o     = (state_q == StFinish);
  assign mode_o     = op_q[1:0];
  assign x_zp_o     = x_zp_q;
  assign y_zp_o     = y_zp_q;
  assign lo_o       = lo_q;
  assign hi_o       = hi_q;
  assign rq_steps_m1_o = rq_steps_m1_q;

  // Address bits above the memory sizes (the compiler keeps addresses in range).
  wire unused_ctrl = ^{op_q[3:2], dmem_a[31:DmAw], cnt_a[31:CntAw], b32[31:WW]};
endmodule
