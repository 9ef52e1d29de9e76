`default_nettype none
// npu_requant: Lanes parallel requantizers (docs/ARCHITECTURE.md section 2):
//
//   r = (acc * M0 + 2^(S-1)) >>> S      exact 64-bit product, arithmetic shift (floor),
//                                       i.e. round half toward +infinity; 1 <= S <= 62
//   y = clamp(y_zp + r, lo, hi)         int8
//
// bit for bit the requant()/requantClamp() of host/quant/requant.ts. acc is int32, M0 an
// unsigned 31-bit value (the int32 in [2^30, 2^31) or 0), S 6 bits; zp/lo/hi are int8
// shared by all lanes. Five register stages: inputs; two 32x16 partial products; their
// exact 64-bit sum p; an 11-bit window of p >>> (S-1) plus an overflow flag; rounding,
// zero point and clamp. Only an 11-bit window is needed because zp + r is clamped to
// int8: |r| > 256 saturates whatever its exact value (see the lane comment). in_tag_i
// rides along to out_tag_o. Fully pipelined: one vector per cycle, Latency cycles from
// in_valid_i to out_valid_o.
module npu_requant #(
  parameter integer Lanes    = 8,
  parameter integer TagWidth = 16
) (
  input  wire                  clk_i,
  input  wire                  rst_ni,
  input  wire                  in_valid_i,
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
  localparam integer Latency = 5;

  // Shared pipeline bookkeeping (flat shift registers).
  reg  [Latency-1:0]              valid_q;
  reg  [TagWidth*Latency-1:0]     tag_q;
  reg  [24*4-1:0]                 cfg_q;     // {zp, lo, hi} per stage 1..4
  wire [Latency:0]                valid_next = {valid_q, in_valid_i};
  wire [TagWidth*(Latency+1)-1:0] tag_next   = {tag_q, in_tag_i};
  wire [24*5-1:0]                 cfg_next   = {cfg_q, zp_i, lo_i, hi_i};
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) valid_q <= {Latency{1'b0}};
    else         valid_q <= valid_next[Latency-1:0];
  end
  always @(posedge clk_i) begin
    tag_q <= tag_next[TagWidth*Latency-1:0];
    cfg_q <= cfg_next[24*4-1:0];
  end
  assign out_valid_o = valid_q[Latency-1];
  assign out_tag_o   = tag_q[TagWidth*Latency-1 -: TagWidth];
  // stage-4 copies, aligned with r_q
  wire [7:0] zp4 = cfg_q[95:88];
  wire [7:0] lo4 = cfg_q[87:80];
  wire [7:0] hi4 = cfg_q[79:72];
  wire unused_bk = ^{valid_next[Latency], tag_next[TagWidth*(Latency+1)-1 -: TagWidth],
                     cfg_next[24*5-1:24*4]};

  genvar l;
  generate
    for (l = 0; l < Lanes; l = l + 1) begin : g_lane
      // stage 1: inputs
      reg signed [31:0] acc_q;
      reg        [30:0] m0_q;
      reg        [5:0]  s1_q;
      // stage 2: partial products acc*M0[15:0] and acc*M0[30:16]
      reg signed [48:0] plo_q;   // 32 x 17 signed
      reg signed [47:0] phi_q;   // 32 x 16 signed
      reg        [5:0]  s2_q;
      // stage 3: p = acc*M0 (exact, |p| < 2^62)
      reg signed [63:0] p_q;
      reg        [5:0]  s3_q;
      // stage 4: w = floor(p / 2^(S-1)) as an 11-bit window, and whether it overflowed
      reg        [10:0] w_q;
      reg               ovf_q, neg_q;
      // stage 5: y
      reg        [7:0]  y_q;

      wire signed [63:0] plo_ext = {{15{plo_q[48]}}, plo_q};
      wire signed [63:0] phi_ext = {{16{phi_q[47]}}, phi_q};

      // r = floor((p + 2^(S-1)) / 2^S) = floor((w + 1) / 2) with w = floor(p / 2^(S-1)):
      // write p = w*2^(S-1) + f, 0 <= f < 2^(S-1); then (p + 2^(S-1)) / 2^S =
      // (w+1)/2 + f/2^S and f/2^S < 1/2 never carries past the next integer. Only
      // |r| <= 256 matters (zp + r is clamped to int8 anyway), so w is needed exactly
      // only inside 11 bits; outside, its sign decides.
      //   window: (p >>> (S-1))[10:0], shifting by the large amounts first so every
      //   stage only carries the bits the window can still reach;
      //   overflow: |w| >= 1024  <=>  (p ^ sign) >> (S+9) != 0.
      wire [5:0]  sh = s3_q - 6'd1;
      wire [41:0] st1 = sh[5] ? {{10{p_q[63]}}, p_q[63:32]} : p_q[41:0];  // by 32
      wire [25:0] st2 = sh[4] ? st1[41:16] : st1[25:0];                     // by 16
      wire [17:0] st3 = sh[3] ? st2[25:8]  : st2[17:0];                     // by 8
      wire [13:0] st4 = sh[2] ? st3[17:4]  : st3[13:0];                     // by 4
      wire [11:0] st5 = sh[1] ? st4[13:2]  : st4[11:0];                     // by 2
      wire [10:0] st6 = sh[0] ? st5[11:1]  : st5[10:0];                     // by 1
      wire [63:0] mag = p_q ^ {64{p_q[63]}};
      wire [6:0]  k   = {1'b0, s3_q} + 7'd9;
      wire [63:0] thr = (k[6]) ? 64'd0 : ({64{1'b1}} << k[5:0]);         // bits >= S+9
      wire        ovf = |(mag & thr);

      // stage 5 arithmetic: saturate w, r = (w + 1) >>> 1, y = clamp(zp + r)
      wire [10:0] w_sat = ovf_q ? (neg_q ? 11'h400 : 11'h3ff) : w_q;
      wire [11:0] w_p1  = {w_sat[10], w_sat} + 12'd1;
      wire [10:0] r     = w_p1[11:1];                                    // [-512, 512]
      wire [11:0] y_w   = {r[10], r} + {{4{zp4[7]}}, zp4};
      wire [11:0] lo_w  = {{4{lo4[7]}}, lo4};
      wire [11:0] hi_w  = {{4{hi4[7]}}, hi4};

      always @(posedge clk_i) begin
        acc_q <= acc_i[32*l +: 32];
        m0_q  <= m0_i[32*l +: 31];
        s1_q  <= s_i[6*l +: 6];

        plo_q <= acc_q * $signed({1'b0, m0_q[15:0]});
        phi_q <= acc_q * $signed({1'b0, m0_q[30:16]});
        s2_q  <= s1_q;

        p_q   <= plo_ext + (phi_ext <<< 16);
        s3_q  <= s2_q;

        w_q   <= st6;
        ovf_q <= ovf;
        neg_q <= p_q[63];

        if ($signed(y_w) < $signed(lo_w))      y_q <= lo4;
        else if ($signed(y_w) > $signed(hi_w)) y_q <= hi4;
        else                                   y_q <= y_w[7:0];
      end
      assign y_o[8*l +: 8] = y_q;

      wire unused_lane = ^{m0_i[32*l + 31], w_p1[0], y_w[11:8]};
    end
  endgenerate
endmodule
