`default_nettype none
// npu_acc: the accumulator stage behind the array (docs/ARCHITECTURE.md section 1).
//
// For each sum vector leaving the array (in_valid_i with in_psum_i, Lanes lanes of
// PsumWidth bits) it reads entry in_p_i of an AccDepth x Lanes x int32 RAM and, one
// cycle later, forms
//
//   sum = (in_first_i ? acc[BiasEntry] : acc[in_p_i]) + psum   (int32, wraps like | 0)
//
// or, with max_i (max pooling: the array passes the activations through identity
// weights), the int8 maximum of the two in bits 7:0 (the bits above are not defined; the
// requantizer reads only the low 2*Steps = 8 bits of a pooled value).
// Entry BiasEntry = Lanes (the sums use entries 0 .. Lanes-1, so AccDepth > Lanes) holds
// the output group's bias, written word by word through bias_* while no sum is in
// flight (byte-masked: word k is lanes k*Lanes/4 .. (k+1)*Lanes/4-1).
//
// Word port (wp_*): 32-bit words at word address entry*Lanes + lane, for memories that
// npu_core keeps in the other entries (DMEM, CNT): they are read and written only while
// no sum is in flight (descriptor fetch, counter writes, host access while idle), so the
// accumulators' EBRs serve them too. A read's word comes in the next cycle.
// If in_last_i the sum leaves on out_* (to the requantizer) and is not written back;
// otherwise it is written to acc[in_p_i] one cycle after its read. Rule for the driver:
// no two sums to one address in consecutive cycles (the read would see the old word).
// npu_ctrl's sliding window meets it (consecutive beats are different pixels mod Dim,
// and a period's last beat and the next period's first are different pixels or at
// least one bubble apart); simulation reports a violation (fatal with +npu_strict).
// busy_o: a sum is in this stage.
module npu_acc #(
  parameter integer Lanes     = 8,
  parameter integer PsumWidth = 19,
  parameter integer AccDepth  = 1024,
  parameter integer AccAw     = (AccDepth > 1) ? $clog2(AccDepth) : 1,
  parameter integer LaneAw    = (Lanes > 1) ? $clog2(Lanes) : 1
) (
  input  wire                       clk_i,
  input  wire                       rst_ni,
  input  wire                       max_i,
  input  wire                       in_valid_i,
  input  wire                       in_first_i,
  input  wire                       in_last_i,
  input  wire [AccAw-1:0]           in_p_i,
  input  wire [PsumWidth*Lanes-1:0] in_psum_i,
  // bias vector of the og: 4 words of Lanes bytes, word k = lanes k*Lanes/4 ..
  input  wire                       bias_we_i,
  input  wire [1:0]                 bias_idx_i,
  input  wire [8*Lanes-1:0]         bias_word_i,
  input  wire                       wp_we_i,
  input  wire                       wp_re_i,
  input  wire [AccAw+LaneAw-1:0]    wp_addr_i,
  input  wire [31:0]                wp_wdata_i,
  output wire [31:0]                wp_rdata_o,
  output wire                       out_valid_o,
  output wire [32*Lanes-1:0]        out_sum_o,
  output wire                       busy_o
);
  reg                       s1_valid_q;
  reg                       s1_last_q;
  reg [AccAw-1:0]           s1_p_q;
  reg [PsumWidth*Lanes-1:0] s1_psum_q;
  wire [32*Lanes-1:0]       rdata;
  wire [32*Lanes-1:0]       sum;

  wire acc_we = s1_valid_q && !s1_last_q;

  // The og's bias lives in entry BiasEntry (written while no sum is in flight); a first
  // tile reads it instead of its own entry, so every sum is rdata + psum.
  localparam [31:0] BiasEntry32 = Lanes;
  localparam [AccAw-1:0] BiasEntry = BiasEntry32[AccAw-1:0];
  localparam [31:0] HalfDepth = AccDepth / 2;   // a block's entries (npu_ctrl) from here on
  wire [4*Lanes-1:0] bias_mask = {{(3*Lanes){1'b0}}, {Lanes{1'b1}}} << (Lanes * bias_idx_i);
  wire [AccAw-1:0]   wp_entry  = wp_addr_i[LaneAw +: AccAw];
  wire [LaneAw-1:0]  wp_lane   = wp_addr_i[LaneAw-1:0];
  wire [4*Lanes-1:0] wp_mask   = {{(4*Lanes-4){1'b0}}, 4'hF} << (4 * wp_lane);
  npu_ram #(
    .Width(32 * Lanes),
    .Depth(AccDepth)
  ) u_ram (
    .clk_i  (clk_i),
    .we_i   (acc_we || bias_we_i || wp_we_i),
    .waddr_i(acc_we ? s1_p_q : bias_we_i ? BiasEntry : wp_entry),
    .wdata_i(acc_we ? sum : bias_we_i ? {4{bias_word_i}} : {Lanes{wp_wdata_i}}),
    .wmask_i(acc_we ? {(4 * Lanes){1'b1}} : bias_we_i ? bias_mask : wp_mask),
    .raddr_i(wp_re_i ? wp_entry : in_first_i ? BiasEntry : in_p_i),
    .rdata_o(rdata)
  );
  reg [LaneAw-1:0] wp_lane_q;
  always @(posedge clk_i) wp_lane_q <= wp_lane;
  assign wp_rdata_o = rdata[32*wp_lane_q +: 32];

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) s1_valid_q <= 1'b0;
    else         s1_valid_q <= in_valid_i;
  end
  reg s1_max_q;
  always @(posedge clk_i) begin
    s1_max_q      <= max_i;
    s1_last_q     <= in_last_i;
    s1_p_q        <= in_p_i;
    s1_psum_q     <= in_psum_i;
  end

  genvar l;
  generate
    for (l = 0; l < Lanes; l = l + 1) begin : g_lane
      wire [31:0] base = rdata[32*l +: 32];
      wire [PsumWidth-1:0] ps = s1_psum_q[PsumWidth*l +: PsumWidth];
      wire [31:0] add = base + {{(32-PsumWidth){ps[PsumWidth-1]}}, ps};
      wire        ps_wins = $signed(ps[7:0]) > $signed(base[7:0]);
      assign sum[32*l +: 32] = {add[31:8], (s1_max_q && !ps_wins) ? base[7:0] :
                                           s1_max_q ? ps[7:0] : add[7:0]};
    end
  endgenerate

`ifndef SYNTHESIS
  // Driver rules, reported (fatal with +npu_strict, as in the core benches).
  always @(posedge clk_i) begin
    if (in_valid_i && !in_first_i && acc_we && (s1_p_q == in_p_i)) begin
      $display("npu_acc: read of entry %0d in the cycle it is written", in_p_i);
      if ($test$plusargs("npu_strict")) $stop;
    end
    if ((bias_we_i || wp_we_i || wp_re_i) && (in_valid_i || s1_valid_q)) begin
      $display("npu_acc: bias or word port used while sums are in flight");
      if ($test$plusargs("npu_strict")) $stop;
    end
    // the window's entries are 0 .. Lanes-1, a block's AccDepth/2 on (npu_ctrl); the
    // bias, CNT and DMEM entries lie between
    if (in_p_i >= BiasEntry && {{(32-AccAw){1'b0}}, in_p_i} < HalfDepth && in_valid_i) begin
      $display("npu_acc: entry %0d is the bias, CNT or DMEM entry", in_p_i);
      if ($test$plusargs("npu_strict")) $stop;
    end
  end
`endif

  assign out_valid_o = s1_valid_q && s1_last_q;
  assign out_sum_o   = sum;
  assign busy_o      = s1_valid_q;
endmodule
