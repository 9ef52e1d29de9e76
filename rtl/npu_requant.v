`default_nettype none
// npu_requant: the requantizer of npu_core (docs/ARCHITECTURE.md section 2):
//
//   r = (acc * M0 + 2^(S-1)) >>> S      exact product, arithmetic shift (floor),
//                                       i.e. round half toward +infinity
//   y = clamp(y_zp + r, lo, hi)         int8
//
// bit for bit the requant()/requantClamp() of host/quant/requant.ts, for accumulators
// that fit Steps (= steps_m1_i + 1, 2..16) radix-4 digits, i.e. 2*Steps bits signed, and
// window shifts s_i = S - 1 - 2*Steps in [0, 31] (the compiler guarantees both, per layer:
// it bounds every output's accumulator from its weights and bias, and clamps a larger
// shift to 31, which gives the same result because |U| < 2^30 below). M0 is an unsigned
// 31-bit value; zp/lo/hi are int8 shared by all lanes.
//
// Sequential, to stay small on an iCE40 (no hard multiplier is left for it):
//   load   (in_valid_i): lane l's A <- acc_l. It may coincide with the previous
//          vector's last digit, which reads A for the last time in that cycle.
//   steps  radix-4 Booth on acc (two bits of A per step, LSB first) times M0, all lanes
//          at once, in two stages one cycle apart: the digit stage (the Steps cycles
//          after the load) forms d in -2..2 from A and registers the addend d*M0 (as
//          mag ^ -neg and neg); the adder stage (one cycle later) computes
//          t = U + d*M0, U <- t >>> 2, U = 0 before the first step. Registering the
//          addend keeps the digit decode and multiplicand select out of the 35-bit
//          carry chain's cycle (the UP5K's critical path before, 31.3 ns).
//          After k steps U = floor(acc_k * M0 / 4^k) exactly, acc_k the Booth value of the
//          digits used (the signed value of acc's low 2k bits), so -2^30 <= U < 2^30:
//          31 bits. When acc fits 2*Steps bits, acc_Steps = acc, so after the last
//          step U = floor(acc * M0 / 2^(2*Steps)). The product bits that
//          shift out below U are never needed: floor(P / 2^(S-1)) = floor(U / 2^s_i).
//   chain  the last step writes every lane's U into the result chain R (and clears U, so
//          the next vector's first step can follow in the next cycle); the chain shifts
//          one lane per cycle into the window unit while the next vector steps.
//   window one lane per cycle (one shared, pipelined unit): w = U >>> s_i as an 11-bit
//          window and whether it overflowed; then y = zp + (w + 1) >>> 1, clamp.
//          Only 11 bits are needed because zp + r is clamped to int8: |r| > 256
//          saturates whatever its exact value (see the window comment).
// Timing: in_valid_i at most once every max(Steps, Lanes) cycles (every Lanes cycles for
// bypass vectors); the output vector leaves on out_valid_o / y_o with the tag given at
// the load, Steps + Lanes + 5 cycles after in_valid_i (Lanes + 4 for a bypass vector).
// Rules for the driver: steps_m1_i, m0_i, s_i, zp_i, lo_i, hi_i change only while no
// vector is in flight (from in_valid_i to out_valid_o; npu_core keeps them per output
// group or layer). in_bypass_i (max pooling: M = 1) skips the steps and takes byp_i
// (the pool's int8 maxima) instead of acc_i: w = 2*x, so r = x.
module npu_requant #(
  parameter integer Lanes    = 8,
  parameter integer TagWidth = 16
) (
  input  wire                  clk_i,
  input  wire                  rst_ni,
  input  wire                  in_valid_i,
  input  wire                  in_bypass_i,
  input  wire [TagWidth-1:0]   in_tag_i,
  input  wire [32*Lanes-1:0]   acc_i,    // int32 per lane
  input  wire [8*Lanes-1:0]    byp_i,    // int8 per lane, for in_bypass_i
  input  wire [32*Lanes-1:0]   m0_i,     // bit 31 ignored (M0 < 2^31)
  input  wire [5*Lanes-1:0]    s_i,      // window shift S - 1 - 2*Steps, 0..31
  input  wire [3:0]            steps_m1_i,
  input  wire [7:0]            zp_i,
  input  wire [7:0]            lo_i,
  input  wire [7:0]            hi_i,
  output wire                  out_valid_o,
  output wire [TagWidth-1:0]   out_tag_o,
  output wire [8*Lanes-1:0]    y_o
);
  localparam integer LaneW = (Lanes > 1) ? $clog2(Lanes) : 1;
  localparam [31:0]  LastLane32 = Lanes - 1;
  localparam [LaneW-1:0] LastLane = LastLane32[LaneW-1:0];

  // ---------------------------------------------------------------- step control
  // st_busy_q: the digit stage runs in this cycle (the Steps cycles after a load), its
  // last digit with st_last_q; u_busy_q/u_last_q: the same for the adder stage, one
  // cycle later (registered: u_last_q drives every U's clear and every R's load). No
  // step depends on in_valid_i combinationally (timing: it comes from the accumulator's
  // adder).
  wire               load  = in_valid_i && !in_bypass_i;
  wire               byp_load = in_valid_i && in_bypass_i;
  reg                st_busy_q, st_last_q;   // digit stage: busy, and its last digit
  reg                u_busy_q, u_last_q;     // adder stage, one cycle behind
  reg  [3:0]         scnt_q;                 // index of the next digit
  wire               dig   = st_busy_q;
  wire               dlast = st_busy_q && st_last_q;
  wire               last  = u_last_q;       // the adder's last step (u_busy_q too)
  wire               load_r = last || byp_load;
  reg  [TagWidth-1:0] tag_q, tag_u_q, tag_y_q;
  reg                out_v_q;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      st_busy_q <= 1'b0;  u_busy_q <= 1'b0;  u_last_q <= 1'b0;
    end else begin
      st_busy_q <= load || (dig && !dlast);
      u_busy_q  <= dig;
      u_last_q  <= dlast;
    end
  end
  always @(posedge clk_i) begin
    if (load) begin
      scnt_q    <= 4'd0;
      st_last_q <= (steps_m1_i == 4'd0);
      tag_q     <= in_tag_i;
    end else if (st_busy_q) begin
      scnt_q    <= scnt_q + 4'd1;
      st_last_q <= (scnt_q + 4'd1 == steps_m1_i);
    end
    if (dlast) tag_u_q <= tag_q;   // the next load may overwrite tag_q in this cycle
  end

  // ---------------------------------------------------------------- multiplier lanes
  // R: the result chain; lane l's R shifts into lane l-1's, lane 0's is the window's.
  wire [31*(Lanes+1)-1:0] r_all;
  reg  win_q;                                  // the chain holds a vector being windowed
  assign r_all[31*Lanes +: 31] = 31'd0;
  genvar l;
  generate
    for (l = 0; l < Lanes; l = l + 1) begin : g_lane
      reg         [30:0] u_q;    // upper product bits, signed (-2^30 <= U < 2^30)
      reg         [31:0] a_q;    // multiplier bits not yet used
      reg                prev_q; // the bit below a_q[0] (Booth)
      reg         [30:0] r_q;    // result chain
      wire        [30:0] m0 = m0_i[32*l +: 31];
      wire        [31:0] acc = acc_i[32*l +: 32];
      // digit stage: Booth digit of {a[1:0], prev} (0, +-1, +-2) and the addend of the
      // next cycle's step, d*M0 = (mag ^ -neg) + neg, registered (timing: the adder
      // starts from flip-flops)
      wire        neg = a_q[1];
      wire        one = a_q[0] ^ prev_q;
      wire        two = (a_q[1] & ~a_q[0] & ~prev_q) | (~a_q[1] & a_q[0] & prev_q);
      wire [33:0] mag = two ? {2'b00, m0, 1'b0} : one ? {3'b000, m0} : 34'd0;
      reg  [33:0] b_q;
      reg         bn_q;
      // adder stage: t = U + d*M0 in one adder
      wire [34:0] sum = {{3{u_q[30]}}, u_q, 1'b1} + {b_q, bn_q};
      wire [33:0] t   = sum[34:1];
      always @(posedge clk_i) begin
        b_q  <= mag ^ {34{neg}};
        bn_q <= neg;
        // U: the next step's partial product, 0 outside the steps and after the last
        if (u_busy_q && !last) u_q <= t[32:2];   // the next U, within 31 bits (above)
        else                   u_q <= 31'd0;
        if (load)          a_q <= acc;
        else if (dig)      a_q <= {2'b00, a_q[31:2]};
        if (load)          prev_q <= 1'b0;
        else if (dig)      prev_q <= a_q[1];
        if (last)          r_q <= t[32:2];
        else if (byp_load) r_q[7:0] <= byp_i[8*l +: 8];
        else if (win_q)    r_q <= r_all[31*(l+1) +: 31];
      end
      assign r_all[31*l +: 31] = r_q;
      wire unused_lane = ^{m0_i[32*l + 31], sum[0], t[33], t[1:0]};
    end
  endgenerate

  // ---------------------------------------------------------------- window (one lane)
  // r = floor((p + 2^(S-1)) / 2^S) = floor((w + 1) / 2) with w = floor(p / 2^(S-1)) =
  // floor(U / 2^s): write p = w*2^(S-1) + f, 0 <= f < 2^(S-1); then (p + 2^(S-1)) / 2^S =
  // (w+1)/2 + f/2^S and f/2^S < 1/2 never carries past the next integer. Only
  // |r| <= 256 matters (zp + r is clamped to int8 anyway), so w is needed exactly
  // only inside 11 bits; outside, its sign decides.
  //   window of m = U ^ sign (m >= 0): (m >> s)[10:0], shifting by the large amounts
  //   first so every stage only carries the bits the window can still reach; then
  //   w = window ^ sign.
  //   overflow: |w| >= 1024  <=>  m >> (s+10) != 0: the bits a stage drops above what it
  //   keeps (when it does not shift) and the window's top bit.
  // Three register stages (timing): A takes lane 0 of the chain and shifts by 16 (s comes
  // registered from the cycle before), C shifts by 8/4/2/1 (w, overflow), D adds the
  // zero point; then the clamp.
  reg        byp_q;                             // the chain holds a bypass vector
  reg [LaneW-1:0] wl_q;                         // lane at the head of the chain
  reg [TagWidth-1:0] w_tag_q;
  wire       wl_last = (wl_q == LastLane);
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni)           win_q <= 1'b0;
    else if (load_r)       win_q <= 1'b1;
    else if (wl_last)      win_q <= 1'b0;
  end
  always @(posedge clk_i) begin
    if (load_r) begin
      wl_q    <= {LaneW{1'b0}};
      byp_q   <= byp_load;
      w_tag_q <= byp_load ? in_tag_i : tag_u_q;
    end else if (win_q) begin
      wl_q    <= wl_q + 1'b1;
    end
  end

  reg        a_v_q, a_last_q, a_ovf_q, a_sgn_q;
  reg [TagWidth-1:0] a_tag_q, c_tag_q, d_tag_q;
  reg [4:0]  pre_sh_q;                          // s of the lane windowed next cycle
  reg [25:0] a_st2_q;
  reg [3:0]  a_sh_q;
  wire [LaneW-1:0] wn = load_r ? {LaneW{1'b0}} : wl_q + 1'b1;
  reg  [4:0] s_nx;                              // a plain multiplexer: a part-select at
  integer    k;                                 // 5*wn would synthesise a multiplier
  always @* begin
    s_nx = s_i[4:0];
    for (k = 1; k < Lanes; k = k + 1) if ({1'b0, wn} == k[LaneW:0]) s_nx = s_i[5*k +: 5];
  end
  always @(posedge clk_i) pre_sh_q <= s_nx;

  wire [30:0] p   = r_all[30:0];
  wire [4:0]  sh  = pre_sh_q;
  wire        sgn = p[30];
  wire [29:0] m   = p[29:0] ^ {30{sgn}};
  wire [25:0] st2 = sh[4] ? {12'd0, m[29:16]} : m[25:0];             // by 16
  wire        ovf_a = !sh[4] && (|m[29:26]);
  // bypass (w = 2*x, r = x: x is p[7:0]): the window {x, 0} with shift 0
  wire [10:0] byp_w = {{2{p[7]}}, p[7:0], 1'b0};
  always @(posedge clk_i) begin
    a_st2_q <= byp_q ? {15'd0, byp_w ^ {11{p[7]}}} : st2;
    a_sgn_q <= byp_q ? p[7] : sgn;
    a_ovf_q <= !byp_q && ovf_a;
    a_sh_q  <= byp_q ? 4'd0 : sh[3:0];
  end

  wire [17:0] st3 = a_sh_q[3] ? a_st2_q[25:8] : a_st2_q[17:0];     // by 8
  wire [13:0] st4 = a_sh_q[2] ? st3[17:4] : st3[13:0];             // by 4
  wire [11:0] st5 = a_sh_q[1] ? st4[13:2] : st4[11:0];             // by 2
  wire [10:0] st6 = a_sh_q[0] ? st5[11:1] : st5[10:0];             // by 1
  wire        ovf = a_ovf_q || (!a_sh_q[3] && (|a_st2_q[25:18])) ||
                    (!a_sh_q[2] && (|st3[17:14])) || (!a_sh_q[1] && (|st4[13:12])) ||
                    (!a_sh_q[0] && st5[11]) || st6[10];
  reg        c_v_q, c_last_q, c_ovf_q, c_neg_q;
  reg [10:0] c_w_q;
  always @(posedge clk_i) begin
    c_w_q   <= st6 ^ {11{a_sgn_q}};
    c_ovf_q <= ovf;
    c_neg_q <= a_sgn_q;
  end

  // ---------------------------------------------------------------- clamp (one lane)
  // y = zp + (w + 1) >>> 1 = (w + 2*zp + 1) >>> 1: one adder, registered; an overflowed
  // w (|r| >= 512) gives lo or hi whatever zp is. Then clamp into lane d of y.
  reg        d_v_q, d_last_q, d_ovf_q, d_neg_q;
  reg [11:0] d_y2_q;
  always @(posedge clk_i) begin
    d_y2_q  <= {c_w_q[10], c_w_q} + {{3{zp_i[7]}}, zp_i, 1'b1};
    d_ovf_q <= c_ovf_q;
    d_neg_q <= c_neg_q;
  end
  wire [10:0] y_w  = d_y2_q[11:1];                                    // zp + r
  wire [10:0] lo_w = {{3{lo_i[7]}}, lo_i};
  wire [10:0] hi_w = {{3{hi_i[7]}}, hi_i};
  wire        to_lo = d_ovf_q ? d_neg_q  : ($signed(y_w) < $signed(lo_w));
  wire        to_hi = d_ovf_q ? !d_neg_q : ($signed(y_w) > $signed(hi_w));
  wire [7:0]  y_c  = to_lo ? lo_i : to_hi ? hi_i : y_w[7:0];
  reg  [8*Lanes-1:0] y_q;
  always @(posedge clk_i) begin
    if (d_v_q) y_q <= {y_c, y_q[8*Lanes-1:8]};   // lanes arrive 0, 1, ...: shift in
  end

  // valid, last lane and tag of each stage
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      a_v_q <= 1'b0;  c_v_q <= 1'b0;  d_v_q <= 1'b0;  out_v_q <= 1'b0;
    end else begin
      a_v_q <= win_q;  c_v_q <= a_v_q;  d_v_q <= c_v_q;
      out_v_q <= d_v_q && d_last_q;
    end
  end
  always @(posedge clk_i) begin
    a_last_q <= wl_last;    c_last_q <= a_last_q;  d_last_q <= c_last_q;
    a_tag_q  <= w_tag_q;    c_tag_q  <= a_tag_q;   d_tag_q  <= c_tag_q;
    if (d_v_q && d_last_q) tag_y_q <= d_tag_q;
  end

  assign out_valid_o = out_v_q;
  assign out_tag_o   = tag_y_q;
  assign y_o         = y_q;

  wire unused_rq = d_y2_q[0];
endmodule
