`default_nettype none
// npu_core: the int8 accelerator (docs/ARCHITECTURE.md sections 1-5).
//
//   host port --> AMEM (activations) / WMEM (weights + params) / DMEM (descriptors)
//                 CNT (performance counters, read-only); DMEM and CNT are words of the
//                 accumulator RAM (npu_acc's word port)
//   npu_ctrl: descriptor fetch, the sliding-window loops of every layer (max pooling is a
//             convolution whose accumulators take the maximum), im2col address
//             generation, requantizer pacing
//   AMEM word --(pad mux)--> npu_array (Dim x Dim, weight-stationary) --> npu_acc (sum
//     or max) --(last tile)--> npu_requant --> AMEM
//
// Host port (ARCHITECTURE section 5): a one-cycle bus_req_i with space/addr/we/wdata,
// which stay as they are until bus_ack_o; bus_ack_o pulses three cycles after the request
// (with bus_rdata_o for a read). Addresses are
// 32-bit words in every space; host word a of AMEM/WMEM is byte lanes 4(a mod Dim/4)..+3
// of memory word a div (Dim/4). The core does not range-check (npu_link refuses
// requests outside a space before they get here): address bits above a space's size
// are ignored. Writes to CNT and any request while busy_o is high are acknowledged
// without effect (reads return 0).
// start_i runs the program in DMEM; busy_o is high until done_o pulses. abort_i ends a
// run: busy_o falls within the datapath's depth (a few tens of cycles) with no done_o;
// AMEM keeps the outputs written so far, WMEM and DMEM are untouched, and the next
// start_i runs the program from its first layer.
//
// AMEM extension (AmemExtWords > 0, ARCHITECTURE section 3): AMEM words [AmemWords,
// AmemWords + AmemExtWords) are the upper half of WMEM, AMEM word a being WMEM word
// WmemWords/2 + (a mod WmemWords/2). Each half of WMEM is then its own RAM (on the UP5K a
// pair of single-ported SPRAMs); the upper one serves, in a cycle, one request: the host's
// (idle), else an output written to the extension, else the weight read when it is in
// the upper half, else the activation read. So a program that uses the extension keeps
// its weights in the lower half and never reads and writes the extension in one
// descriptor (the compiler's rules; a run that breaks them computes wrong outputs).
module npu_core #(
  parameter integer Dim       = 8,      // array side N, power of two >= 4
  parameter integer AmemWords = 16384,  // AMEM words of Dim bytes (its own RAM)
  parameter integer AmemExtWords = 0,   // AMEM words after those in WMEM's upper half (0: none)
  parameter integer WmemWords = 65536,  // WMEM words of Dim bytes
  parameter integer DmemWords = 256,    // DMEM 32-bit words
  parameter integer AccDepth  = 1024,   // accumulator entries (max pixels per tile)
  parameter integer MaxLayers = 16,     // CNT holds 2*MaxLayers+1 words
  parameter integer RqUnits   = 1,      // requantizer Booth units, 1 or 2 (npu_requant)
  parameter integer RqPipes   = 1,      // requantizer pipelines taking vectors in turn, 1 or 2
  parameter integer OutShift  = 0,      // 1: descriptor word 0's output shift (npu_ctrl)
  parameter integer Block     = 0       // 1: the block schedule (npu_ctrl) and a vector requantizer
) (
  input  wire        clk_i,
  input  wire        rst_ni,
  input  wire        bus_req_i,
  input  wire        bus_we_i,
  input  wire [1:0]  bus_space_i,   // 0 AMEM, 1 WMEM, 2 DMEM, 3 CNT
  input  wire [23:0] bus_addr_i,
  input  wire [31:0] bus_wdata_i,
  output wire        bus_ack_o,
  output wire [31:0] bus_rdata_o,
  input  wire        start_i,
  input  wire        abort_i,
  output wire        busy_o,
  output wire        done_o
);
  localparam integer Sub       = Dim / 4;                  // host words per memory word
  localparam integer LaneW     = (Sub > 1) ? $clog2(Sub) : 1;
  localparam integer AmemAll   = AmemWords + AmemExtWords;
  localparam integer AmAw      = $clog2(AmemAll);       // AMEM addresses, extension included
  localparam integer AbAw      = $clog2(AmemWords);     // the AMEM RAM's own
  localparam integer WmAw      = $clog2(WmemWords);
  localparam integer HfAw      = WmAw - 1;              // a half of WMEM
  localparam integer DmAw      = $clog2(DmemWords);
  localparam integer AccAw     = (AccDepth > 1) ? $clog2(AccDepth) : 1;
  localparam integer RowAw     = $clog2(Dim);
  localparam integer CntWords  = 2 * MaxLayers;
  localparam integer CntAw     = $clog2(CntWords);
  // |w*x| <= 127*128 < 2^14 (weights are int8 in [-127, 127], SPEC section 3; the
  // compiler refuses -128), so a column sum of Dim products fits 15 + log2(Dim) bits.
  localparam integer PsumWidth = 15 + $clog2(Dim);
  localparam integer PW        = (Block != 0) ? AccAw : RowAw;   // accumulator entry of a beat
  localparam integer TagWidth  = 2 + PW;      // first, last, accumulator entry
  localparam integer InflW     = (Block != 0) ? 6 : 3;   // block: a sum every beat in flight
  localparam [1:0] SpAmem = 2'd0, SpWmem = 2'd1, SpDmem = 2'd2, SpCnt = 2'd3;

  // ---------------------------------------------------------------- controller
  wire              busy;
  wire              pipe_busy, front_busy, rq_hold;
  wire              c_dmem_re;
  wire [DmAw-1:0]   c_dmem_raddr;
  wire [AmAw-1:0]   c_amem_raddr;
  wire [WmAw-1:0]   c_wmem_raddr;
  wire              f_valid, f_pad, f_swap, f_first, f_last, f_wload, f_param;
  wire [2:0]        f_pidx;
  wire [PW-1:0]     f_p;
  wire [AmAw-1:0]   obase, ostep;
  wire [RowAw-1:0]  f_wrow;
  wire              is_max;
  wire [7:0]        pad_v, y_zp, lo, hi;
  wire [3:0]        rq_steps_m1;   // npu_requant Steps - 1, per layer (descriptor word 9)
  wire              cnt_we;
  wire [CntAw-1:0]  cnt_waddr;
  wire [31:0]       cnt_wdata;
  wire [31:0]       dmem_rdata;

  npu_ctrl #(
    .Dim(Dim), .AmemWords(AmemAll), .WmemWords(WmemWords), .DmemWords(DmemWords),
    .MaxLayers(MaxLayers), .RqPipes(RqPipes), .OutShift(OutShift), .Block(Block),
    .AccDepth(AccDepth)
  ) u_ctrl (
    .clk_i(clk_i), .rst_ni(rst_ni), .start_i(start_i), .abort_i(abort_i),
    .pipe_busy_i(pipe_busy), .front_busy_i(front_busy), .rq_hold_i(rq_hold),
    .busy_o(busy), .done_o(done_o),
    .dmem_re_o(c_dmem_re), .dmem_raddr_o(c_dmem_raddr), .dmem_rdata_i(dmem_rdata),
    .amem_raddr_o(c_amem_raddr), .wmem_raddr_o(c_wmem_raddr),
    .f_valid_o(f_valid), .f_pad_o(f_pad), .f_swap_o(f_swap), .f_first_o(f_first),
    .f_last_o(f_last), .f_p_o(f_p), .f_wload_o(f_wload), .f_wrow_o(f_wrow),
    .f_param_o(f_param), .f_pidx_o(f_pidx), .obase_o(obase), .ostep_o(ostep),
    .max_o(is_max), .pad_o(pad_v), .y_zp_o(y_zp), .lo_o(lo), .hi_o(hi),
    .rq_steps_m1_o(rq_steps_m1),
    .cnt_we_o(cnt_we), .cnt_waddr_o(cnt_waddr), .cnt_wdata_o(cnt_wdata)
  );
  assign busy_o = busy;

  // ---------------------------------------------------------------- host port
  // The request is taken in the cycle after bus_req_i (the memories' ports are free then),
  // from the request fields, which the requester holds until the acknowledge.
  reg        h1_req_q;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) h1_req_q <= 1'b0;
    else         h1_req_q <= bus_req_i;
  end
  wire        h_we    = bus_we_i;
  wire [1:0]  h_space = bus_space_i;
  wire [23:0] h_addr  = bus_addr_i;
  wire [31:0] h_wdata32 = bus_wdata_i;
  wire [31:0] h_addr32 = {8'd0, h_addr};
  wire        h_bytes  = (h_space == SpAmem) || (h_space == SpWmem);
  wire [31:0] h_word   = h_bytes ? h_addr32 / Sub : h_addr32;  // DMEM/CNT: 32-bit words
  wire [31:0] h_lane32 = h_addr32 % Sub;
  wire [LaneW-1:0] h_lane = h_lane32[LaneW-1:0];
  wire        h_ok     = h1_req_q && !busy;
  wire        h_wr     = h_ok && h_we;
  wire [31:0]      h_mask32 = 32'hF << (4 * h_lane);   // Dim <= 32
  wire [Dim-1:0]   h_mask   = h_mask32[Dim-1:0];
  wire [8*Dim-1:0] h_wdata = {Sub{h_wdata32}};

  reg             h2_ack_q, h2_rd_q;
  reg [1:0]       h2_space_q;
  reg [LaneW-1:0] h2_lane_q;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) h2_ack_q <= 1'b0;
    else         h2_ack_q <= h1_req_q;
  end
  always @(posedge clk_i) begin
    h2_rd_q    <= h_ok && !h_we;
    h2_space_q <= h_space;
    h2_lane_q  <= h_lane;
  end

  // ---------------------------------------------------------------- memories
  wire [8*Dim-1:0] amem_rdata, wmem_rdata;   // this cycle's read data of either owner
  wire             rq_valid;
  wire [AmAw-1:0]  rq_addr;
  wire [8*Dim-1:0] rq_y;

  // trailing zero bits of v (v > 0)
  function integer ctz(input integer v);
    integer k;
    begin
      ctz = 0;
      for (k = 0; k < 30; k = k + 1)
        if (ctz == k && ((v >> k) & 1) == 0) ctz = k + 1;
    end
  endfunction

  // Both AMEM owners' requests: the host's while idle, the controller's and the
  // requantizer's while busy.
  wire [AmAw-1:0]  am_raddr = busy ? c_amem_raddr : h_word[AmAw-1:0];
  wire [AmAw-1:0]  am_waddr = busy ? rq_addr : h_word[AmAw-1:0];
  wire             am_we    = busy ? rq_valid : (h_wr && h_space == SpAmem);
  wire [8*Dim-1:0] am_wdata = busy ? rq_y : h_wdata;
  wire [Dim-1:0]   am_wmask = busy ? {Dim{1'b1}} : h_mask;
  wire [8*Dim-1:0] ebr_rdata;

  if (AmemExtWords == 0) begin : g_wmem
    assign amem_rdata = ebr_rdata;

    npu_ram #(.Width(8 * Dim), .Depth(AmemWords)) u_amem (
      .clk_i  (clk_i),
      .we_i   (am_we),
      .waddr_i(am_waddr),
      .wdata_i(am_wdata),
      .wmask_i(am_wmask),
      .raddr_i(am_raddr),
      .rdata_o(ebr_rdata)
    );

    npu_ram #(.Width(8 * Dim), .Depth(WmemWords)) u_wmem (
      .clk_i  (clk_i),
      .we_i   (h_wr && h_space == SpWmem),
      .waddr_i(h_word[WmAw-1:0]),
      .wdata_i(h_wdata),
      .wmask_i(h_mask),
      .raddr_i(busy ? c_wmem_raddr : h_word[WmAw-1:0]),
      .rdata_o(wmem_rdata)
    );
  end else begin : g_wmem_ext
    // AMEM word a is in the extension when AmemWords <= a < AmemAll (a write past it is
    // dropped, as past the end of any AMEM); there it is upper-half word a mod 2^HfAw.
    // AmemWords = Lo * 2^Tz: the bounds compare the bits above the Tz low ones.
    localparam integer Tz   = ctz(AmemWords);
    localparam integer HiW  = AmAw - Tz;
    localparam [31:0]  Lo32 = AmemWords >> Tz;
    localparam [31:0]  Hi32 = AmemAll >> Tz;       // AmemAll is a multiple of 2^Tz too
    localparam [HiW:0] Lo   = Lo32[HiW:0];
    localparam [HiW:0] Hi   = Hi32[HiW:0];
    localparam         Full = (AmemAll == (1 << AmAw));   // no address past the extension
    wire [HiW:0] w_hi = {1'b0, am_waddr[AmAw-1:Tz]};
    wire [HiW:0] r_hi = {1'b0, am_raddr[AmAw-1:Tz]};
    wire am_w_ebr = (w_hi < Lo);
    wire am_w_ext = !am_w_ebr && (Full || w_hi < Hi);
    wire am_r_ext = !(r_hi < Lo);
    wire [WmAw-1:0] wm_raddr = busy ? c_wmem_raddr : h_word[WmAw-1:0];
    wire            wm_hi_we = h_wr && h_space == SpWmem && h_word[WmAw-1];
    wire            wm_lo_we = h_wr && h_space == SpWmem && !h_word[WmAw-1];
    // AMEM addresses in the upper half (a mod 2^HfAw)
    wire [31:0]     rq_a32   = {{(32-AmAw){1'b0}}, rq_addr};
    wire [31:0]     c_a32    = {{(32-AmAw){1'b0}}, c_amem_raddr};
    // the upper half's one request (see the header)
    wire            up_we    = (am_we && am_w_ext) || wm_hi_we;
    // Its address is chosen by busy a cycle late (busy_q) and from registers, so that busy
    // reaches the SPRAM's write enable only: a run issues no AMEM/WMEM request in its first
    // cycle (a fetch) nor after its last, and the host's request fields are read at least a
    // cycle after the request, which comes only while idle (the host port's rule).
    reg             busy_q;
    always @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) busy_q <= 1'b0;
      else         busy_q <= busy;
    end
    wire [HiW:0]    rq_hi    = {1'b0, rq_addr[AmAw-1:Tz]};
    wire            rq_up    = busy_q && rq_valid && !(rq_hi < Lo) && (Full || rq_hi < Hi);
    wire [HfAw-1:0] up_addr  = rq_up                 ? rq_a32[HfAw-1:0] :
                               !busy_q               ? h_word[HfAw-1:0] :
                               c_wmem_raddr[HfAw]    ? c_wmem_raddr[HfAw-1:0] : c_a32[HfAw-1:0];
    wire            unused_ext = ^{rq_a32, c_a32};
    wire [8*Dim-1:0] lo_rdata, up_rdata;
    reg             am_ext_q, wm_hi_q;   // where this cycle's read data come from
    always @(posedge clk_i) begin
      am_ext_q <= am_r_ext;
      wm_hi_q  <= wm_raddr[HfAw];
    end
    assign amem_rdata = am_ext_q ? up_rdata : ebr_rdata;
    assign wmem_rdata = wm_hi_q ? up_rdata : lo_rdata;

    npu_ram #(.Width(8 * Dim), .Depth(AmemWords)) u_amem (
      .clk_i  (clk_i),
      .we_i   (am_we && am_w_ebr),
      .waddr_i(am_waddr[AbAw-1:0]),
      .wdata_i(am_wdata),
      .wmask_i(am_wmask),
      .raddr_i(am_raddr[AbAw-1:0]),
      .rdata_o(ebr_rdata)
    );

    npu_ram #(.Width(8 * Dim), .Depth(WmemWords / 2)) u_wmem_lo (
      .clk_i  (clk_i),
      .we_i   (wm_lo_we),
      .waddr_i(h_word[HfAw-1:0]),
      .wdata_i(h_wdata),
      .wmask_i(h_mask),
      .raddr_i(wm_raddr[HfAw-1:0]),
      .rdata_o(lo_rdata)
    );

    // One address for both ports: what a single-ported RAM sees.
    npu_ram #(.Width(8 * Dim), .Depth(WmemWords / 2)) u_wmem_hi (
      .clk_i  (clk_i),
      .we_i   (up_we),
      .waddr_i(up_addr),
      .wdata_i(am_wdata),
      .wmask_i(am_wmask),
      .raddr_i(up_addr),
      .rdata_o(up_rdata)
    );

`ifndef SYNTHESIS
    initial begin
      if (AmemExtWords > WmemWords / 2 || (WmemWords & (WmemWords - 1)) != 0 ||
          AmemExtWords % (1 << Tz) != 0)
        $fatal(1, "npu_core: the AMEM extension (%0d words, a multiple of AmemWords' lowest power of two) must fit the upper half of WMEM (%0d words, a power of two)",
               AmemExtWords, WmemWords);
    end
    // The upper half serves one request a cycle: the datapath never uses a read of it
    // from a cycle in which it was written (checked with +npu_legal, like the AMEM rule).
    reg up_we_q, x_legal;
    initial x_legal = $test$plusargs("npu_legal");
    always @(posedge clk_i) up_we_q <= busy && up_we;
    always @(posedge clk_i) if (x_legal && up_we_q) begin
      assert (!(f_valid && !f_pad && am_ext_q));
      assert (!((f_wload || f_param) && wm_hi_q));
    end
`endif
  end

  // DMEM and CNT live in the accumulator RAM (npu_acc's word port): word address
  // DmemBase + a and CntBase + a, entries the sums (0 .. Dim-1) and the bias (Dim) never
  // use. They are only accessed while no sum is in flight: descriptor fetches and counter
  // writes while the datapath is empty, the host while the core is idle. Both bases are
  // powers of two above their space's size, so the sums are concatenations.
  localparam integer WpAw = AccAw + RowAw;
  localparam [31:0] DmemBase32 = DmemWords;          // entries DmemWords/Dim ..
  localparam [31:0] CntBase32  = 2 * Dim * Dim;       // entries 2*Dim ..
  localparam [WpAw-1:0] DmemBase = DmemBase32[WpAw-1:0];
  localparam [WpAw-1:0] CntBase  = CntBase32[WpAw-1:0];
  wire [WpAw-1:0] h_dmem_a  = DmemBase | {{(WpAw-DmAw){1'b0}}, h_word[DmAw-1:0]};
  wire [WpAw-1:0] h_cnt_a   = CntBase | {{(WpAw-CntAw){1'b0}}, h_word[CntAw-1:0]};
  wire            h_word_sp = (h_space == SpDmem) || (h_space == SpCnt);
  wire [WpAw-1:0] h_wp_a    = (h_space == SpCnt) ? h_cnt_a : h_dmem_a;
  wire            wp_we     = busy ? cnt_we : (h_wr && h_space == SpDmem);
  wire            wp_re     = busy ? c_dmem_re : (h_ok && !h_we && h_word_sp);
  wire [WpAw-1:0] wp_addr   = !busy  ? h_wp_a :
                              cnt_we ? CntBase | {{(WpAw-CntAw){1'b0}}, cnt_waddr}
                                     : DmemBase | {{(WpAw-DmAw){1'b0}}, c_dmem_raddr};
  wire [31:0]     wp_wdata  = busy ? cnt_wdata : h_wdata32;
  wire [31:0]     wp_rdata;
  assign dmem_rdata = wp_rdata;

`ifndef SYNTHESIS
  initial begin
    if (CntBase32 < CntWords || DmemBase32 < CntBase32 + CntWords ||
        2 * DmemWords > AccDepth * Dim || (DmemWords & (DmemWords - 1)) != 0 ||
        (CntWords & (CntWords - 1)) != 0 || DmemWords < 16 * MaxLayers || MaxLayers > 16 ||
        (Block != 0 && 4 * DmemWords > AccDepth * Dim))   // a block's entries: AccDepth/2 on
      $fatal(1, "npu_core: DMEM/CNT do not fit the accumulator RAM (Dim %0d, DmemWords %0d, AccDepth %0d, MaxLayers %0d)",
             Dim, DmemWords, AccDepth, MaxLayers);
  end
`endif

  reg [31:0] rdata_q;
  reg        ack_q;
  wire [8*Dim+31:0] amem_sh = {32'd0, amem_rdata} >> (32 * h2_lane_q);
  wire [8*Dim+31:0] wmem_sh = {32'd0, wmem_rdata} >> (32 * h2_lane_q);
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) ack_q <= 1'b0;
    else         ack_q <= h2_ack_q;
  end
  always @(posedge clk_i) begin
    if (!h2_rd_q) rdata_q <= 32'd0;
    else begin
      case (h2_space_q)
        SpAmem:  rdata_q <= amem_sh[31:0];
        SpWmem:  rdata_q <= wmem_sh[31:0];
        default: rdata_q <= wp_rdata;           // DMEM, CNT
      endcase
    end
  end
  assign bus_ack_o   = ack_q;
  assign bus_rdata_o = rdata_q;

  // ---------------------------------------------------------------- activation feed
  wire [8*Dim-1:0] x_mux = f_pad ? {Dim{pad_v}} : amem_rdata;

  // The AMEM word (or the pad value) goes to the array in the cycle the controller's
  // read returns, as does the weight row it reads in step (the array's driver rule).
  wire [TagWidth-1:0] arr_tag = {f_first, f_last, f_p};

  // Per-output-group parameters: 8 WMEM words, little-endian int32 lanes:
  // m[Dim] + s[Dim] << 16 (words 0-3), m the requantizer's 16-bit multiplier
  // (M0 = m * 2^15) and s its window shift | bias[Dim] (words 4-7, into npu_acc); word k
  // holds lanes (k mod 4)*Dim/4 .. +Dim/4-1 of its field. The m | s words go to a shadow
  // (m_nx, s_nx); the requantizer's own (m_q, s_q) take them, and the output counter the
  // og's first output word, once the previous og's last output has left the requantizer
  // (rq_sw): nothing between the controller's last-tile beats and the requantizer's
  // output (infl_q counts the sums on their way to it). Until then rq_hold holds back
  // the og's first output (npu_ctrl), so the og's outputs all see its own m | s.
  reg  [16*Dim-1:0] m_q, m_nx;
  reg  [4*Dim-1:0]  s_q, s_nx;
  wire [8*Dim-1:0]  param_w = wmem_rdata;
  genvar pj, pt;
  generate
    for (pj = 0; pj < 4; pj = pj + 1) begin : g_pword
      for (pt = 0; pt < Sub; pt = pt + 1) begin : g_plane
        localparam integer Ln = pj * Sub + pt;
        always @(posedge clk_i) begin
          if (f_param && f_pidx == pj) begin
            m_nx[16*Ln +: 16] <= param_w[32*pt +: 16];
            s_nx[4*Ln +: 4]   <= param_w[32*pt + 16 +: 4];
          end
        end
      end
    end
  endgenerate
  reg        staged_q;      // m_nx, s_nx wait for the requantizer
  reg  [InflW-1:0] infl_q;  // last-tile sums between the f stage and the requantizer
  wire       rq_busy;
  wire       acc_valid;
  wire       f_out = f_valid && f_last;
  wire       rq_sw = staged_q && (infl_q == {InflW{1'b0}}) && !f_out && !rq_busy;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      staged_q <= 1'b0;
      infl_q   <= {InflW{1'b0}};
    end else begin
      staged_q <= busy && !rq_sw && (staged_q || (f_param && f_pidx == 3'd3));
      infl_q   <= infl_q + {{(InflW-1){1'b0}}, f_out} - {{(InflW-1){1'b0}}, acc_valid};
    end
  end
  always @(posedge clk_i) begin
    if (rq_sw) begin
      m_q <= m_nx;
      s_q <= s_nx;
    end
  end
  assign rq_hold = staged_q;

  // ---------------------------------------------------------------- array, accumulator
  wire                      a_valid, a_busy;
  wire [TagWidth-1:0]       a_tag;
  wire [PsumWidth*Dim-1:0]  a_psum;

  npu_array #(
    .Rows(Dim), .Cols(Dim), .TagWidth(TagWidth), .PsumWidth(PsumWidth)
  ) u_array (
    .clk_i      (clk_i),
    .rst_ni     (rst_ni),
    .w_load_i   (f_wload),
    .w_row_i    (f_wrow),
    .w_data_i   (wmem_rdata),
    .in_valid_i (f_valid),
    .in_swap_i  (f_swap),
    .in_tag_i   (arr_tag),
    .in_x_i     (x_mux),
    .out_valid_o(a_valid),
    .out_tag_o  (a_tag),
    .out_psum_o (a_psum),
    .busy_o     (a_busy)
  );

  wire              acc_busy;
  wire [32*Dim-1:0] acc_sum;
  wire [AccAw-1:0]  acc_p;
  if (Block != 0) begin : g_accp_blk
    assign acc_p = a_tag[PW-1:0];
  end else begin : g_accp_win
    assign acc_p = {{(AccAw-RowAw){1'b0}}, a_tag[RowAw-1:0]};
  end
  npu_acc #(
    .Lanes(Dim), .PsumWidth(PsumWidth), .AccDepth(AccDepth)
  ) u_acc (
    .clk_i      (clk_i),
    .rst_ni     (rst_ni),
    .max_i      (is_max),
    .in_valid_i (a_valid),
    .in_first_i (a_tag[TagWidth-1]),
    .in_last_i  (a_tag[TagWidth-2]),
    .in_p_i     (acc_p),   // the sliding window: Dim entries; a block: AccDepth/2 on
    .in_psum_i  (a_psum),
    .bias_we_i  (f_param && f_pidx[2]),    // words 4-7: bias, into npu_acc
    .bias_idx_i (f_pidx[1:0]),
    .bias_word_i(wmem_rdata),
    .wp_we_i    (wp_we),
    .wp_re_i    (wp_re),
    .wp_addr_i  (wp_addr),
    .wp_wdata_i (wp_wdata),
    .wp_rdata_o (wp_rdata),
    .out_valid_o(acc_valid),
    .out_sum_o  (acc_sum),
    .busy_o     (acc_busy)
  );

  // ---------------------------------------------------------------- requantization
  // RqPipes whole requantizers take the vectors in turn (npu_ctrl paces each at the
  // descriptor's interval and alternates them in the same order); their latencies are
  // equal, so the outputs leave in load order, at most one per cycle.
  // The requantizer: a vector one (Block), or RqPipes pipelines taking the vectors in turn.
  localparam integer RqN = (Block != 0) ? 1 : RqPipes;
  wire [RqN-1:0]           rq_v, rq_b;
  wire [8*Dim*RqN-1:0]     rq_ys;
  wire                     rq_sel;
  if (Block != 0) begin : g_rqvec
    assign rq_sel = 1'b0;
    assign rq_y   = rq_ys;
    wire unused_rqsel = rq_sel;
    npu_requant_vec #(.Lanes(Dim)) u_requant (
      .clk_i      (clk_i),
      .rst_ni     (rst_ni),
      .in_valid_i (acc_valid),
      .acc_i      (acc_sum),
      .m_i        (m_q),
      .s_i        (s_q),
      .steps_m1_i (rq_steps_m1),
      .zp_i       (y_zp),
      .lo_i       (lo),
      .hi_i       (hi),
      .out_valid_o(rq_v),
      .y_o        (rq_ys),
      .busy_o     (rq_b)
    );
  end else if (RqPipes > 1) begin : g_rqsel
    reg sel_q;
    always @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni)        sel_q <= 1'b0;
      else if (acc_valid) sel_q <= !sel_q;
    end
    assign rq_sel = sel_q;
    assign rq_y   = rq_v[1] ? rq_ys[8*Dim +: 8*Dim] : rq_ys[0 +: 8*Dim];
  end else begin : g_rqsel1
    assign rq_sel = 1'b0;
    assign rq_y   = rq_ys;
  end
  genvar rp;
  for (rp = 0; rp < RqN && Block == 0; rp = rp + 1) begin : g_rq
    npu_requant #(.Lanes(Dim), .RqUnits(RqUnits)) u_requant (
      .clk_i      (clk_i),
      .rst_ni     (rst_ni),
      .in_valid_i (acc_valid && (rq_sel == rp[0])),
      .acc_i      (acc_sum),
      .m_i        (m_q),
      .s_i        (s_q),
      .steps_m1_i (rq_steps_m1),
      .zp_i       (y_zp),
      .lo_i       (lo),
      .hi_i       (hi),
      .out_valid_o(rq_v[rp]),
      .y_o        (rq_ys[8*Dim*rp +: 8*Dim]),
      .busy_o     (rq_b[rp])
    );
  end
  assign rq_valid = |rq_v;
  assign rq_busy  = |rq_b;

  // Output words: outputs leave in address order, from obase (the og's first output
  // word, taken with its m | s, while the requantizer is empty) in steps of ostep + 1.
  reg  [AmAw-1:0] onext_q;
  assign rq_addr = onext_q;
  always @(posedge clk_i) begin
    if (rq_sw)         onext_q <= obase;
    else if (rq_valid) onext_q <= onext_q + ostep + 1'b1;
  end

  assign front_busy = a_busy || acc_busy;
  assign pipe_busy  = front_busy || rq_busy;

`ifndef SYNTHESIS
  // AMEM rule (npu_ram): the datapath never uses the read of the word written in the same
  // cycle. A compiled program's layers read and write disjoint regions, so it holds there;
  // a malformed descriptor may overlap them (only its own outputs then suffer): checked with
  // +npu_legal (the core benches running compiled programs), in simulation (--assert).
  reg a_coll_q, a_legal;
  initial a_legal = $test$plusargs("npu_legal");
  always @(posedge clk_i) a_coll_q <= busy && rq_valid && (rq_addr == c_amem_raddr);
  reg a_live_q;                              // out of reset: the checks skip reset
  always @(posedge clk_i or negedge rst_ni)
    if (!rst_ni) a_live_q <= 1'b0;
    else         a_live_q <= 1'b1;
  always @(posedge clk_i) if (a_live_q && a_legal)
    assert (!(a_coll_q && f_valid && !f_pad));
  // infl_q counts at most 6 sums on their way to the requantizer: they leave the f stage
  // at a period's first two beats (two only with RqPipes = 2), periods Dim cycles apart,
  // and reach it 2*Dim + 2 cycles later at most (the generic array's latency and the
  // accumulator stage); with the block schedule one a beat, at most 2*Dim + 3
  always @(posedge clk_i) if (a_live_q)
    assert (!(infl_q == {InflW{1'b1}} && f_out && !acc_valid));
`endif

  wire unused_core = ^{param_w, h_word[31:AmAw], h_lane32[31:LaneW], amem_sh[8*Dim+31:32],
                       wmem_sh[8*Dim+31:32], h_mask32};
endmodule
`default_nettype wire
