`default_nettype none
// npu_requant_vec: a requantizer that takes one output vector every cycle, every lane at
// once (docs/ARCHITECTURE.md section 2), for a core with multipliers to spare (sim8's
// block schedule: a block's last tile hands it one vector per beat).
//
// It gives, bit for bit and for every input, what npu_requant gives: lane l's
//   acc_k = acc sign-extended from its low 2*Steps bits (the Booth digits npu_requant
//           runs: a max pool's accumulators hold the maximum in their low byte only, the
//           bits above are the adder's)
//   U   = floor(acc_k * m / 4^Steps)            (-2^15 <= U < 2^15)
//   ovf = acc does not fit 2*Steps bits, and s <= 5: y saturates by the sign of acc
//   w   = floor(U / 2^s), overflowing when |w| >= 2^10 (or ovf)
//   y   = clamp(zp + (w + 1) >>> 1, lo, hi), lo or hi by the sign on an overflow
// which is r = (acc * M0 + 2^(S-1)) >>> S, y = clamp(y_zp + r), as in npu_requant's header.
// Three register stages: the product, the window, the zero point; then y_o.
// Timing: a vector on in_valid_i leaves on out_valid_o / y_o Latency = 4 cycles later, one
// a cycle. busy_o: a vector is inside. Rule for the driver: m_i, s_i, steps_m1_i, zp_i,
// lo_i, hi_i stay as they are while busy_o is high (npu_core changes them per output
// group or layer, after the vectors before have left).
module npu_requant_vec #(
  parameter integer Lanes = 8
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
  reg        a_v_q, c_v_q, d_v_q, out_v_q;
  wire [5:0] two_k = {1'b0, steps_m1_i, 1'b1} + 6'd1;      // 2*Steps, 2..32

  genvar l;
  generate
    for (l = 0; l < Lanes; l = l + 1) begin : g_lane
      wire        [31:0] acc = acc_i[32*l +: 32];
      wire        [15:0] m   = m_i[16*l +: 16];
      wire        [3:0]  s   = s_i[4*l +: 4];
      // acc_k: the low 2*Steps bits, sign-extended; acc fits them when acc_k == acc
      wire        [31:0] acck = $unsigned($signed(acc << (6'd32 - two_k)) >>> (6'd32 - two_k));
      wire               fits = (acck == acc);
      // product stage
      reg  signed [48:0] p_q;
      reg                ovf_q, asg_q;
      reg         [3:0]  s_q;
      always @(posedge clk_i) begin
        p_q   <= $signed(acck) * $signed({1'b0, m});
        ovf_q <= !fits && !s[3] && !(s[2] && s[1]);
        asg_q <= acc[31];
        s_q   <= s;
      end
      // window stage: U = p >>> 2*Steps (16 bits), w = U >>> s inside 11 bits
      wire signed [48:0] ush = p_q >>> two_k;
      wire        [15:0] u   = ush[15:0];
      wire               sgn = ovf_q ? asg_q : u[15];
      wire        [14:0] mm  = u[14:0] ^ {15{sgn}};
      wire        [14:0] st  = mm >> s_q;
      reg         [10:0] c_w_q;
      reg                c_ovf_q, c_neg_q;
      always @(posedge clk_i) begin
        c_w_q   <= {1'b0, st[9:0]} ^ {11{sgn}};
        c_ovf_q <= ovf_q || (|st[14:10]);
        c_neg_q <= sgn;
      end
      // zero point: y = zp + (w + 1) >>> 1 = (w + 2*zp + 1) >>> 1, then the clamp
      reg  [11:0] d_y2_q;
      reg         d_ovf_q, d_neg_q;
      always @(posedge clk_i) begin
        d_y2_q  <= {c_w_q[10], c_w_q} + {{3{zp_i[7]}}, zp_i, 1'b1};
        d_ovf_q <= c_ovf_q;
        d_neg_q <= c_neg_q;
      end
      wire [10:0] y_w   = d_y2_q[11:1];
      wire [10:0] lo_w  = {{3{lo_i[7]}}, lo_i};
      wire [10:0] hi_w  = {{3{hi_i[7]}}, hi_i};
      wire        to_lo = d_ovf_q ? d_neg_q  : ($signed(y_w) < $signed(lo_w));
      wire        to_hi = d_ovf_q ? !d_neg_q : ($signed(y_w) > $signed(hi_w));
      reg  [7:0]  y_q;
      always @(posedge clk_i) y_q <= to_lo ? lo_i : to_hi ? hi_i : y_w[7:0];
      assign y_o[8*l +: 8] = y_q;
      wire unused_lane = ^{ush[48:16], d_y2_q[0]};
    end
  endgenerate

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      a_v_q <= 1'b0;  c_v_q <= 1'b0;  d_v_q <= 1'b0;  out_v_q <= 1'b0;
    end else begin
      a_v_q <= in_valid_i;  c_v_q <= a_v_q;  d_v_q <= c_v_q;  out_v_q <= d_v_q;
    end
  end
  assign out_valid_o = out_v_q;
  assign busy_o      = a_v_q || c_v_q || d_v_q || out_v_q;

`ifndef SYNTHESIS
  // Driver rule (header), checked in simulation (verilator --assert): the settings stay
  // as they are while a vector is inside.
  reg         a_busy_q, a_live_q;
  reg  [3:0]  a_steps_q;
  reg  [7:0]  a_zp_q, a_lo_q, a_hi_q;
  reg  [16*Lanes-1:0] a_m_q;
  reg  [4*Lanes-1:0]  a_s_q;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      a_busy_q <= 1'b0;
      a_live_q <= 1'b0;
    end else begin
      a_busy_q <= busy_o;
      a_live_q <= 1'b1;
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
  always @(posedge clk_i) if (a_live_q && a_busy_q && busy_o)
    assert ({a_steps_q, a_zp_q, a_lo_q, a_hi_q, a_m_q, a_s_q} ==
            {steps_m1_i, zp_i, lo_i, hi_i, m_i, s_i});
`endif
endmodule
`default_nettype wire
