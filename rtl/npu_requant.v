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
//   window, one lane per cycle (one shared unit): w = (p >>> (S-1)) as an 11-bit window
//          and whether it overflowed; then r = (w + 1) >>> 1, zero point and clamp.
//          Only 11 bits are needed because zp + r is clamped to int8: |r| > 256
//          saturates whatever its exact value (see the window comment).
// The output vector leaves on out_valid_o / y_o with the tag given at the load,
// 18 + Lanes cycles after in_valid_i (2 + Lanes for a bypass vector).
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
  reg                busy_q, byp_q, win_v_q, win_last_q, out_v_q;
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
      win_v_q <= 1'b0;
      out_v_q <= 1'b0;
    end else begin
      if (in_valid_i)    busy_q <= 1'b1;
      else if (last_win) busy_q <= 1'b0;
      win_v_q <= windowing;
      out_v_q <= win_v_q && win_last_q;
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
    win_last_q <= last_win;
    if (windowing && last_win) tag_y_q <= tag_q;   // before a new load replaces tag_q
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
  wire [63:0] p   = p_all[64*wl +: 64];
  wire [5:0]  s   = s_i[6*wl +: 6];
  wire [5:0]  sh  = s - 6'd1;
  wire        sgn = p[63];
  wire [62:0] m   = p[62:0] ^ {63{sgn}};
  wire [41:0] st1 = sh[5] ? {11'd0, m[62:32]} : m[41:0];           // by 32
  wire [25:0] st2 = sh[4] ? st1[41:16] : st1[25:0];                // by 16
  wire [17:0] st3 = sh[3] ? st2[25:8]  : st2[17:0];                // by 8
  wire [13:0] st4 = sh[2] ? st3[17:4]  : st3[13:0];                // by 4
  wire [11:0] st5 = sh[1] ? st4[13:2]  : st4[11:0];                // by 2
  wire [10:0] st6 = sh[0] ? st5[11:1]  : st5[10:0];                // by 1
  wire        ovf = (!sh[5] && (|m[62:42])) || (!sh[4] && (|st1[41:26])) ||
                    (!sh[3] && (|st2[25:18])) || (!sh[2] && (|st3[17:14])) ||
                    (!sh[1] && (|st4[13:12])) || (!sh[0] && st5[11]) || st6[10];

  reg [10:0] w_q;
  reg        ovf_q, neg_q;
  always @(posedge clk_i) begin
    w_q   <= byp_q ? {p[9:0], 1'b0} : st6 ^ {11{sgn}};   // bypass: w = 2*acc, r = acc
    ovf_q <= !byp_q && ovf;
    neg_q <= sgn;
  end

  // ---------------------------------------------------------------- clamp (one lane)
  // saturate w, r = (w + 1) >>> 1, y = clamp(zp + r), into lane win_l_q of y
  wire [10:0] w_sat = ovf_q ? (neg_q ? 11'h400 : 11'h3ff) : w_q;
  wire [11:0] w_p1  = {w_sat[10], w_sat} + 12'd1;
  wire [10:0] r     = w_p1[11:1];                                    // [-512, 512]
  wire [11:0] y_w   = {r[10], r} + {{4{zp_i[7]}}, zp_i};
  wire [11:0] lo_w  = {{4{lo_i[7]}}, lo_i};
  wire [11:0] hi_w  = {{4{hi_i[7]}}, hi_i};
  wire [7:0]  y_c   = ($signed(y_w) < $signed(lo_w)) ? lo_i :
                      ($signed(y_w) > $signed(hi_w)) ? hi_i : y_w[7:0];
  reg  [8*Lanes-1:0] y_q;
  always @(posedge clk_i) begin
    if (win_v_q) y_q <= {y_c, y_q[8*Lanes-1:8]};   // lanes arrive 0, 1, ...: shift in
  end

  assign out_valid_o = out_v_q;
  assign out_tag_o   = tag_y_q;
  assign y_o         = y_q;

  wire unused_rq = ^{w_p1[0], wl_full, y_w[11:8]};
endmodule
