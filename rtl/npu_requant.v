`default_nettype none
// npu_requant: the requantizer of npu_core (docs/ARCHITECTURE.md section 2):
//
//   r = (acc * M0 + 2^(S-1)) >>> S      exact product, arithmetic shift (floor),
//                                       i.e. round half toward +infinity
//   y = clamp(y_zp + r, lo, hi)         int8
//
// bit for bit the requant()/requantClamp() of host/quant/requant.ts for a 16-bit M0
// (M0 = m * 2^15, m_i = m < 2^16, SPEC section 3), so r = (acc * m + 2^(S-16)) >>> (S-15).
// The unit runs Steps (= steps_m1_i + 1, 1..16) radix-4 Booth digits of acc and takes
// the window shift s_i = S - 16 - 2*Steps in [0, 15] (a larger shift gives the same result
// as 15, because |U| < 2^15 below). Exact when acc fits 2*Steps bits signed; when it does
// not and s_i <= 5, |acc * m / 2^(S-16)| >= 2^(14-s) >= 512 and y saturates to lo or hi by
// the sign of acc, which is what the unit gives. The compiler picks the fewest Steps per
// layer for which every lane is one of the two (host/compiler/compile.ts: requantPlan).
// zp/lo/hi are int8 shared by all lanes.
//
// Sequential, to stay small on an iCE40 (no hard multiplier is left for it):
//   load   (in_valid_i): lane l's A <- acc_l. It may coincide with the previous
//          vector's last digit, which reads A for the last time in that cycle.
//   steps  radix-4 Booth on acc (two bits of A per step, LSB first) times m, all lanes
//          at once, in two stages one cycle apart: the digit stage (the Steps cycles
//          after the load) forms d in -2..2 from A and registers the addend d*m (as
//          mag ^ -neg and neg); the adder stage (one cycle later) computes
//          t = U + d*m, U <- t >>> 2, U = 0 before the first step (registering the
//          addend keeps the digit decode out of the adder's cycle).
//          After k steps U = floor(acc_k * m / 4^k) exactly, acc_k the Booth value of the
//          digits used (the signed value of acc's low 2k bits), so -2^15 <= U < 2^15:
//          16 bits. The product bits that shift out below U are never needed:
//          floor(acc * m / 2^(S-16)) = floor(U / 2^s) when acc_Steps = acc. The last
//          digit also tells whether acc fits 2*Steps bits (the bits A still holds all
//          equal the sign of the digits used).
//   chain  the last step writes every lane's U and that flag into the result chain R (and
//          clears U, so the next vector's first step can follow in the next cycle); the
//          chain shifts one lane per cycle into the window unit while the next vector
//          steps.
//   window one lane per cycle (one shared, pipelined unit): w = U >>> s as an 11-bit
//          window and whether it overflowed; then y = zp + (w + 1) >>> 1, clamp.
//          Only 11 bits are needed because zp + r is clamped to int8: |r| >= 512
//          saturates whatever its exact value (see the window comment).
// Units: the load, step and last-digit registers above (A, U, the addend, the flags and
// the step control) are one Booth unit. With RqUnits = 2 there are two, which take the
// vectors in turn (0, 1, 0, ...) and share the result chain and the window unit: each
// unit needs its loads Steps cycles apart, the chain a vector every Lanes cycles, and
// every vector takes the same Steps + 1 cycles to the chain, so the vectors enter it, and
// leave, in load order. A layer whose Steps exceed Lanes is then paced by the array or
// by ceil(Steps / 2) instead of Steps.
// Timing: in_valid_i at most once every max(ceil(Steps / RqUnits), Lanes) cycles; the
// output vector leaves on out_valid_o / y_o Steps + Lanes + 5 cycles after in_valid_i.
// busy_o: a vector is somewhere in the unit. Rule for the driver: steps_m1_i, m_i, s_i,
// zp_i, lo_i, hi_i change only while busy_o is low (npu_core keeps them per output group
// or layer).
module npu_requant #(
  parameter integer Lanes   = 8,
  parameter integer RqUnits = 1   // Booth lane sets taking vectors in turn (1 or 2)
) (
  input  wire                  clk_i,
  input  wire                  rst_ni,
  input  wire                  in_valid_i,
  input  wire [32*Lanes-1:0]   acc_i,    // int32 per lane
  input  wire [16*Lanes-1:0]   m_i,      // M0 / 2^15 per lane
  input  wire [4*Lanes-1:0]    s_i,      // window shift S - 16 - 2*Steps, 0..15
  input  wire [3:0]            steps_m1_i,
  input  wire [7:0]            zp_i,
  input  wire [7:0]            lo_i,
  input  wire [7:0]            hi_i,
  output wire                  out_valid_o,
  output wire [8*Lanes-1:0]    y_o,
  output wire                  busy_o
);
  localparam integer LaneW = (Lanes > 1) ? $clog2(Lanes) : 1;
  localparam [31:0]  LastLane32 = Lanes - 1;
  localparam [LaneW-1:0] LastLane = LastLane32[LaneW-1:0];
  localparam integer RW = 17;                  // chain entry: U and the overflow flag

  // ---------------------------------------------------------------- unit selection
  // With two units, loads go to unit 0, 1, 0, ... (sel: the unit of the next load).
  wire sel;
  generate
    if (RqUnits > 1) begin : g_sel
      reg sel_q;
      always @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni)         sel_q <= 1'b0;
        else if (in_valid_i) sel_q <= !sel_q;
      end
      assign sel = sel_q;
    end else begin : g_sel1
      assign sel = 1'b0;
    end
  endgenerate

  // ---------------------------------------------------------------- Booth units
  // Each unit u: the step control and every lane's multiplier. ul_all[u]: its adder's
  // last step in this cycle (its vector goes into the result chain); res_all: that
  // vector's chain entries, lane l at RW*(Lanes*u + l).
  wire [RqUnits-1:0]          ul_all, ub_all;
  wire [RW*Lanes*RqUnits-1:0] res_all;
  genvar u, l;
  generate
    for (u = 0; u < RqUnits; u = u + 1) begin : g_unit
      // st_busy_q: the digit stage runs in this cycle (the Steps cycles after a load), its
      // last digit with st_last_q; u_busy_q/u_last_q: the same for the adder stage, one
      // cycle later (registered: u_last_q drives every U's clear and every R's load). No
      // step depends on in_valid_i combinationally (timing: it comes from the
      // accumulator's adder).
      localparam [0:0]   Me    = u;
      wire               load  = in_valid_i && (sel == Me);
      reg                st_busy_q, st_last_q;   // digit stage: busy, and its last digit
      reg                u_busy_q, u_last_q;     // adder stage, one cycle behind
      reg  [3:0]         scnt_q;                 // index of the next digit
      wire               dig   = st_busy_q;
      wire               dlast = st_busy_q && st_last_q;
      wire               last  = u_last_q;       // the adder's last step (u_busy_q too)

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
        end else if (st_busy_q) begin
          scnt_q    <= scnt_q + 4'd1;
          st_last_q <= (scnt_q + 4'd1 == steps_m1_i);
        end
      end
      assign ul_all[u] = last;
      assign ub_all[u] = st_busy_q || u_busy_q;

      for (l = 0; l < Lanes; l = l + 1) begin : g_lane
        reg         [15:0] u_q;    // upper product bits, signed (-2^15 <= U < 2^15)
        reg         [31:0] a_q;    // multiplier bits not yet used (shifted arithmetically)
        reg                prev_q; // the bit below a_q[0] (Booth)
        reg                ovf_q;  // acc does not fit the digits used, and s <= 5
        reg                asg_q;  // the sign of acc
        wire        [15:0] m   = m_i[16*l +: 16];
        wire        [31:0] acc = acc_i[32*l +: 32];
        // digit stage: Booth digit of {a[1:0], prev} (0, +-1, +-2) and the addend of the
        // next cycle's step, d*m = (mag ^ -neg) + neg, registered
        wire        neg = a_q[1];
        wire        one = a_q[0] ^ prev_q;
        wire        two = (a_q[1] & ~a_q[0] & ~prev_q) | (~a_q[1] & a_q[0] & prev_q);
        wire [16:0] mag = two ? {m, 1'b0} : one ? {1'b0, m} : 17'd0;
        reg  [17:0] b_q;
        reg         bn_q;
        // adder stage: t = U + d*m in one adder
        wire [19:0] sum = {{3{u_q[15]}}, u_q, 1'b1} + {b_q[17], b_q, bn_q};
        wire [18:0] t   = sum[19:1];
        always @(posedge clk_i) begin
          b_q  <= {1'b0, mag} ^ {18{neg}};
          bn_q <= neg;
          // U: the next step's partial product, 0 outside the steps and after the last
          if (u_busy_q && !last) u_q <= t[17:2];   // the next U, within 16 bits (above)
          else                   u_q <= 16'd0;
          if (load)          a_q <= acc;
          else if (dig)      a_q <= {{2{a_q[31]}}, a_q[31:2]};
          if (load)          prev_q <= 1'b0;
          else if (dig)      prev_q <= a_q[1];
          // the last digit: acc fits its digits when the bits above them (a_q[31:2],
          // sign-extended) all equal the digits' sign a_q[1]; if not, and s <= 5, the
          // lane saturates by acc's sign (the header)
          if (dlast) begin
            ovf_q <= !(&a_q[31:1] || !(|a_q[31:1])) && !s_i[4*l+3] && !(s_i[4*l+2] && s_i[4*l+1]);
            asg_q <= a_q[31];
          end
        end
        // the chain entry of this unit's vector, taken when `last`
        assign res_all[RW*(Lanes*u + l) +: RW] = {ovf_q, ovf_q ? asg_q : t[17], t[16:2]};
        wire unused_lane = ^{sum[0], t[18], t[1:0]};
      end
    end
  endgenerate

  // ---------------------------------------------------------------- result chain
  // R: lane l's R shifts into lane l-1's, lane 0's is the window's. A unit's last step
  // loads its vector (the units' last steps are at least Lanes cycles apart, the rule).
  wire                    last = |ul_all;
  wire [RW*(Lanes+1)-1:0] r_all;
  reg  win_q;                                  // the chain holds a vector being windowed
  reg  out_v_q;
  wire [RW*Lanes-1:0] res;                     // the vector of the unit ending its steps
  generate
    if (RqUnits > 1) begin : g_res
      assign res = ul_all[1] ? res_all[RW*Lanes +: RW*Lanes] : res_all[0 +: RW*Lanes];
    end else begin : g_res1
      assign res = res_all;
    end
  endgenerate
  assign r_all[RW*Lanes +: RW] = {RW{1'b0}};
  generate
    for (l = 0; l < Lanes; l = l + 1) begin : g_chain
      reg [RW-1:0] r_q;    // result chain: {saturate, U (its sign: acc's if so)}
      always @(posedge clk_i) begin
        if (last)          r_q <= res[RW*l +: RW];
        else if (win_q)    r_q <= r_all[RW*(l+1) +: RW];
      end
      assign r_all[RW*l +: RW] = r_q;
    end
  endgenerate

  // ---------------------------------------------------------------- window (one lane)
  // r = floor((p + 2^(S-1)) / 2^S) = floor((w + 1) / 2) with w = floor(p / 2^(S-1)) =
  // floor(U / 2^s), p = acc * M0: write p = w*2^(S-1) + f, 0 <= f < 2^(S-1); then
  // (p + 2^(S-1)) / 2^S = (w+1)/2 + f/2^S and f/2^S < 1/2 never carries past the next
  // integer. Only |r| < 512 matters (zp + r is clamped to int8 anyway), so w is needed
  // exactly only inside 11 bits; outside, its sign decides.
  //   window of mm = U ^ sign (mm >= 0): (mm >> s)[9:0], overflow when (mm >> s) >= 2^10;
  //   then w = window ^ sign. A saturating lane (the chain's flag, its sign acc's) counts
  //   as an overflow too (the header).
  // Three register stages (timing): A takes lane 0 of the chain and shifts by 8 (s comes
  // registered from the cycle before), C shifts by 4/2/1 (w, overflow), D adds the
  // zero point; then the clamp.
  reg [LaneW-1:0] wl_q;                         // lane at the head of the chain
  wire       wl_last = (wl_q == LastLane);
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni)           win_q <= 1'b0;
    else if (last)         win_q <= 1'b1;
    else if (wl_last)      win_q <= 1'b0;
  end
  always @(posedge clk_i) begin
    if (last)       wl_q <= {LaneW{1'b0}};
    else if (win_q) wl_q <= wl_q + 1'b1;
  end

  reg        a_v_q, a_last_q, a_ovf_q, a_sgn_q;
  reg [3:0]  pre_sh_q;                          // s of the lane windowed next cycle
  reg [14:0] a_st_q;
  reg [2:0]  a_sh_q;
  wire [LaneW-1:0] wn = last ? {LaneW{1'b0}} : wl_q + 1'b1;
  reg  [3:0] s_nx;                              // a plain multiplexer: a part-select at
  integer    k;                                 // 4*wn would synthesise a multiplier
  always @* begin
    s_nx = s_i[3:0];
    for (k = 1; k < Lanes; k = k + 1) if ({1'b0, wn} == k[LaneW:0]) s_nx = s_i[4*k +: 4];
  end
  always @(posedge clk_i) pre_sh_q <= s_nx;

  wire [15:0] p   = r_all[15:0];
  wire        povf = r_all[16];
  wire [3:0]  sh  = pre_sh_q;
  wire        sgn = p[15];
  wire [14:0] mm  = p[14:0] ^ {15{sgn}};
  always @(posedge clk_i) begin
    a_st_q  <= sh[3] ? {8'd0, mm[14:8]} : mm;                            // by 8
    a_sgn_q <= sgn;
    a_ovf_q <= povf;
    a_sh_q  <= sh[2:0];
  end

  wire [14:0] st4 = a_sh_q[2] ? {4'd0, a_st_q[14:4]} : a_st_q;           // by 4
  wire [14:0] st5 = a_sh_q[1] ? {2'd0, st4[14:2]} : st4;                 // by 2
  wire [14:0] st6 = a_sh_q[0] ? {1'd0, st5[14:1]} : st5;                 // by 1
  wire        ovf = a_ovf_q || (|st6[14:10]);
  reg        c_v_q, c_last_q, c_ovf_q, c_neg_q;
  reg [10:0] c_w_q;
  always @(posedge clk_i) begin
    c_w_q   <= {1'b0, st6[9:0]} ^ {11{a_sgn_q}};
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

  // valid and last lane of each stage
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
  end

  assign out_valid_o = out_v_q;
  assign y_o         = y_q;
  assign busy_o      = (|ub_all) || win_q || a_v_q || c_v_q || d_v_q || out_v_q;

  wire unused_rq = d_y2_q[0];

`ifndef SYNTHESIS
  // Driver rules (the header's Timing), checked in simulation (verilator --assert):
  //   - the settings stay as they are while a vector is in the unit (npu_core changes them
  //     only after the datapath has drained, for any descriptor): always;
  //   - loads at least max(ceil(Steps / RqUnits), Lanes) cycles apart (so each unit's at
  //     least Steps apart): npu_ctrl paces them by descriptor word 9, which a compiled program sets right and a malformed one need not (only its
  //     own outputs then suffer), so this one is checked with +npu_legal only (the core
  //     benches running compiled programs).
  localparam [31:0] Lanes32 = Lanes;
  reg  [5:0]  a_since_q;                     // cycles since the last load, saturating
  reg         a_busy_q;
  reg  [3:0]  a_steps_q;
  reg  [7:0]  a_zp_q, a_lo_q, a_hi_q;
  reg  [16*Lanes-1:0] a_m_q;
  reg  [4*Lanes-1:0]  a_s_q;
  wire [5:0]  a_steps = {2'd0, steps_m1_i} + 6'd1;
  wire [5:0]  a_per   = (RqUnits > 1) ? (a_steps + 6'd1) >> 1 : a_steps;   // ceil(Steps/U)
  wire [5:0]  a_need  = (a_per > Lanes32[5:0]) ? a_per : Lanes32[5:0];
  initial if (RqUnits < 1 || RqUnits > 2) $fatal(1, "npu_requant: RqUnits is 1 or 2");
  reg         a_legal;
  initial a_legal = $test$plusargs("npu_legal");
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      a_since_q <= 6'h3F;
      a_busy_q  <= 1'b0;
    end else begin
      a_since_q <= in_valid_i ? 6'd1 : a_since_q + {5'd0, a_since_q != 6'h3F};
      a_busy_q  <= busy_o;
    end
  end
  always @(posedge clk_i) begin
    a_steps_q <= steps_m1_i;
    a_zp_q    <= zp_i;
    a_lo_q    <= lo_i;
    a_hi_q    <= hi_i;
    a_m_q     <= m_i;
    a_s_q     <= s_i;
  end
  reg a_live_q;                              // out of reset: the checks skip reset
  always @(posedge clk_i or negedge rst_ni)
    if (!rst_ni) a_live_q <= 1'b0;
    else         a_live_q <= 1'b1;
  always @(posedge clk_i) if (a_live_q) begin
    if (a_busy_q && busy_o)
      assert ({a_steps_q, a_zp_q, a_lo_q, a_hi_q, a_m_q, a_s_q} ==
              {steps_m1_i, zp_i, lo_i, hi_i, m_i, s_i});
    if (in_valid_i && a_legal)
      assert (a_since_q >= a_need);
  end
`endif
endmodule
`default_nettype wire
