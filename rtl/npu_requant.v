`default_nettype none
// npu_requant: Lanes parallel requantizers (docs/ARCHITECTURE.md section 2):
//
//   r = (acc * M0 + 2^(S-1)) >>> S      exact 64-bit product, arithmetic shift (floor),
//                                       i.e. round half toward +infinity; 1 <= S <= 62
//   y = clamp(y_zp + r, lo, hi)         int8
//
// bit for bit the requant()/requantClamp() of host/quant/requant.ts. acc is int32, M0 an
// unsigned 31-bit value (the int32 in [2^30, 2^31) or 0), S 6 bits; zp/lo/hi are int8
// shared by all lanes. Five register stages (inputs, two 32x16 partial products, sum
// with rounding constant, shift, zero point + clamp), so every stage is one adder or
// one small multiplier deep; in_tag_i rides along to out_tag_o. Fully pipelined: one
// vector per cycle, Latency cycles from in_valid_i to out_valid_o.
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
      // stage 2: partial products acc*M0[15:0] and acc*M0[30:16], rounding constant
      reg signed [48:0] plo_q;   // 32 x 17 signed
      reg signed [47:0] phi_q;   // 32 x 16 signed
      reg        [63:0] rnd_q;
      reg        [5:0]  s2_q;
      // stage 3: acc*M0 + 2^(S-1) (exact, |.| < 2^62)
      reg signed [63:0] sum_q;
      reg        [5:0]  s3_q;
      // stage 4: arithmetic shift
      reg signed [63:0] r_q;
      // stage 5: y
      reg        [7:0]  y_q;

      wire signed [63:0] plo_ext = {{15{plo_q[48]}}, plo_q};
      wire signed [63:0] phi_ext = {{16{phi_q[47]}}, phi_q};
      wire signed [63:0] zp_ext  = {{56{zp4[7]}}, zp4};
      wire signed [63:0] lo_ext  = {{56{lo4[7]}}, lo4};
      wire signed [63:0] hi_ext  = {{56{hi4[7]}}, hi4};
      wire signed [63:0] y_wide  = r_q + zp_ext;

      always @(posedge clk_i) begin
        acc_q <= acc_i[32*l +: 32];
        m0_q  <= m0_i[32*l +: 31];
        s1_q  <= s_i[6*l +: 6];

        plo_q <= acc_q * $signed({1'b0, m0_q[15:0]});
        phi_q <= acc_q * $signed({1'b0, m0_q[30:16]});
        rnd_q <= (s1_q == 6'd0) ? 64'd0 : (64'd1 << (s1_q - 6'd1));
        s2_q  <= s1_q;

        sum_q <= plo_ext + (phi_ext <<< 16) + $signed(rnd_q);
        s3_q  <= s2_q;

        r_q   <= sum_q >>> s3_q;

        if (y_wide < lo_ext)      y_q <= lo4;
        else if (y_wide > hi_ext) y_q <= hi4;
        else                      y_q <= y_wide[7:0];
      end
      assign y_o[8*l +: 8] = y_q;

      wire unused_m0_top = m0_i[32*l + 31];
    end
  endgenerate
endmodule
