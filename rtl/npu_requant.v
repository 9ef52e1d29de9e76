`default_nettype none
// npu_requant: the requantizer of npu_core (docs/ARCHITECTURE.md section 2):
//
//   r = (acc * M0 + 2^(S-1)) >>> S      exact 64-bit product, arithmetic shift (floor),
//                                       i.e. round half toward +infinity; 1 <= S <= 62
//   y = clamp(y_zp + r, lo, hi)         int8
//
// bit for bit the requant()/requantClamp() of host/quant/requant.ts. acc is int32, M0 an
// unsigned 31-bit value (the int32 in [2^30, 2^31) or 0), S 6 bits; zp/lo/hi are int8
// shared by all lanes.
//
// Sequential, to stay small on an iCE40 (no hard multiplier is left for it): one vector
// of Lanes accumulators every Interval = 16 + Lanes cycles.
//   load   (in_valid_i): lane l's A <- acc_l, U <- 0.
//   16 steps, all lanes at once: radix-4 Booth on acc (two bits of A per step, LSB
//          first) times M0: t = U + d*M0 (d in -2..2), the two low bits of t are final
//          product bits and shift into the top of A, U <- t >>> 2. After 16 steps
//          {U, A} = acc * M0 exactly (|p| < 2^62).
//   window, one lane per cycle (one shared, pipelined unit): w = (p >>> (S-1)) as an
//          11-bit window and whether it overflowed; then y = zp + (w + 1) >>> 1, clamp.
//          Only 11 bits are needed because zp + r is clamped to int8: |r| > 256
//          saturates whatever its exact value (see the window comment).
// The output vector leaves on out_valid_o / y_o with the tag given at the load,
// 20 + Lanes cycles after in_valid_i (4 + Lanes for a bypass vector): the window and
// clamp are a pipeline of three stages behind the steps, for timing.
// Rules for the driver: in_valid_i at most once every Interval cycles (Lanes cycles
// after a bypass vector); m0_i, s_i, zp_i, lo_i, hi_i change only while no vector is
// in flight (from in_valid_i to out_valid_o: the steps read M0, the window S, the clamp
// zp/lo/hi; npu_core keeps them per output group or layer). in_bypass_i (max
// pooling: M = 1) skips the steps: w = 2*acc, so r = acc; valid for |acc| < 512 (the
// pool's int8 maxima).
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
  input  wire [32*Lanes-1:0]   m0_i,     // bit 31 ignored (M0 < 2^31)
  input  wire [6*Lanes-1:0]    s_i,
  input  wire [7:0]            zp_i,
  input  wire [7:0]            lo_i,
  input  wire [7:0]            hi_i,
  output wire                  out_valid_o,
  output wire [TagWidth-1:0]   out_tag_o,
  output wire [8*Lanes-1:0]    y_o
);
  localparam integer Steps = 16;
  localparam integer LaneW = (Lanes > 1) ? $clog2(Lanes) : 1;
  localparam integer CntW  = $clog2(Steps + Lanes + 1);
  localparam [CntW-1:0] StepsC = Steps[CntW-1:0];
  localparam [CntW-1:0] LastC  = Steps[CntW-1:0] + Lanes[CntW-1:0] - 1'b1;

  // ---------------------------------------------------------------- control
  // cnt_q counts the cycles after a load: steps while cnt < Steps, then lane cnt-Steps
  // goes through the window unit (a bypass vector starts at cnt = Steps).
  reg                busy_q, byp_q, out_v_q;
  reg [CntW-1:0]     cnt_q;
  reg [TagWidth-1:0] tag_q, tag_y_q;
  wire               stepping  = busy_q && (cnt_q < StepsC);
  wire               windowing = busy_q && !stepping;
  wire               last_win  = (cnt_q == LastC);
  wire [CntW-1:0]    wl_full   = cnt_q - StepsC;
  wire [LaneW-1:0]   wl        = wl_full[LaneW-1:0];

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      busy_q  <= 1'b0;
    end else begin
      if (in_valid_i)    busy_q <= 1'b1;
      else if (last_win) busy_q <= 1'b0;
    end
  end
  always @(posedge clk_i) begin
    if (in_valid_i) begin
      cnt_q <= in_bypass_i ? StepsC : {CntW{1'b0}};
      byp_q <= in_bypass_i;
      tag_q <= in_tag_i;
    end else if (busy_q) begin
      cnt_q <= cnt_q + 1'b1;
    end
  end

  // ---------------------------------------------------------------- multiplier lanes
  wire [64*Lanes-1:0] p_all;
  genvar l;
  generate
    for (l = 0; l < Lanes; l = l + 1) begin : g_lane
      reg         [31:0] u_q;    // upper product bits, signed (|U| < 3*2^30)
      reg         [31:0] a_q;    // multiplier bits not yet used, then the low product bits
      reg                prev_q; // the bit below a_q[0] (Booth)
      wire        [30:0] m0 = m0_i[32*l +: 31];
      // Booth digit of {a_q[1:0], prev_q}: 0, +-1, +-2
      wire        neg = a_q[1];
      wire        one = a_q[0] ^ prev_q;
      wire        two = (a_q[1] & ~a_q[0] & ~prev_q) | (~a_q[1] & a_q[0] & prev_q);
      wire [33:0] mag = two ? {2'b00, m0, 1'b0} : one ? {3'b000, m0} : 34'd0;
      // t = U + d*M0 as U + (mag ^ -neg) + neg in one adder
      wire [34:0] sum = {{2{u_q[31]}}, u_q, 1'b1} + {mag ^ {34{neg}}, neg};
      wire [33:0] t   = sum[34:1];
      always @(posedge clk_i) begin
        if (in_valid_i) begin
          u_q    <= 32'd0;
          a_q    <= acc_i[32*l +: 32];
          prev_q <= 1'b0;
        end else if (stepping) begin
          u_q    <= t[33:2];   // |t| < 2^33: t >>> 2 fits 32 bits
          a_q    <= {t[1:0], a_q[31:2]};
          prev_q <= a_q[1];
        end
      end
      // p = U * 2^32 + A exactly after the steps
      assign p_all[64*l +: 64] = {u_q, a_q};
      wire unused_lane = ^{m0_i[32*l + 31], sum[0]};
    end
  endgenerate

  // ---------------------------------------------------------------- window (one lane)
  // r = floor((p + 2^(S-1)) / 2^S) = floor((w + 1) / 2) with w = floor(p / 2^(S-1)):
  // write p = w*2^(S-1) + f, 0 <= f < 2^(S-1); then (p + 2^(S-1)) / 2^S =
  // (w+1)/2 + f/2^S and f/2^S < 1/2 never carries past the next integer. Only
  // |r| <= 256 matters (zp + r is clamped to int8 anyway), so w is needed exactly
  // only inside 11 bits; outside, its sign decides.
  //   window of m = p ^ sign (m >= 0): (m >> (S-1))[10:0], shifting by the large amounts
  //   first so every stage only carries the bits the window can still reach; then
  //   w = window ^ sign.
  //   overflow: |w| >= 1024  <=>  m >> (S+9) != 0: the bits a stage drops above what it
  //   keeps (when it does not shift) and the window's top bit.
  // Three register stages (timing): A picks the lane and shifts by 32/16 (S-1 comes
  // registered from the cycle before), C shifts by 8/4/2/1 (w, overflow), D adds the
  // zero point; then the clamp.
  reg        a_v_q, a_last_q, a_ovf_q, a_sgn_q;
  reg [TagWidth-1:0] a_tag_q, c_tag_q, d_tag_q;
  reg [5:0]  pre_sh_q;                          // S-1 of the lane windowed next cycle
  reg [25:0] a_st2_q;
  reg [3:0]  a_sh_q;
  wire [LaneW-1:0] wn = wl + 1'b1;              // Steps is a multiple of Lanes
  reg  [5:0] s_nx;                              // a plain multiplexer: a part-select at
  integer    k;                                 // 6*wn would synthesise a multiplier
  always @* begin
    s_nx = s_i[5:0];
    for (k = 1; k < Lanes; k = k + 1) if ({1'b0, wn} == k[LaneW:0]) s_nx = s_i[6*k +: 6];
  end
  always @(posedge clk_i) pre_sh_q <= s_nx - 6'd1;

  wire [63:0] p   = p_all[64*wl +: 64];
  wire [5:0]  sh  = pre_sh_q;
  wire        sgn = p[63];
  wire [62:0] m   = p[62:0] ^ {63{sgn}};
  wire [41:0] st1 = sh[5] ? {11'd0, m[62:32]} : m[41:0];           // by 32
  wire [25:0] st2 = sh[4] ? st1[41:16] : st1[25:0];                // by 16
  wire        ovf_a = (!sh[5] && (|m[62:42])) || (!sh[4] && (|st1[41:26]));
  // bypass (w = 2*acc, r = acc: acc is p[9:0]): the window {p[9:0], 0} with shift 0
  wire [10:0] byp_w = {p[9:0], 1'b0};
  always @(posedge clk_i) begin
    a_st2_q <= byp_q ? {15'd0, byp_w ^ {11{p[9]}}} : st2;
    a_sgn_q <= byp_q ? p[9] : sgn;
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
      a_v_q <= windowing;  c_v_q <= a_v_q;  d_v_q <= c_v_q;
      out_v_q <= d_v_q && d_last_q;
    end
  end
  always @(posedge clk_i) begin
    a_last_q <= last_win;   c_last_q <= a_last_q;  d_last_q <= c_last_q;
    a_tag_q  <= tag_q;      c_tag_q  <= a_tag_q;   d_tag_q  <= c_tag_q;
    if (d_v_q && d_last_q) tag_y_q <= d_tag_q;
  end

  assign out_valid_o = out_v_q;
  assign out_tag_o   = tag_y_q;
  assign y_o         = y_q;

  wire unused_rq = ^{wl_full, d_y2_q[0]};
endmodule
