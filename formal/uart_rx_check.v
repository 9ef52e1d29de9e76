`default_nettype none
// uart_rx_check: formal harness of npu_uart_rx (formal/uart_rx.ys). A transmitter model
// drives rx_i with any sequence of
//   - 8N1 frames of any byte at exactly ClksPerBit cycles per bit, back to back or
//     after any idle time, each with a good (high) or a bad (low) stop bit;
//   - glitches: the idle line low for 1 to ClksPerBit/2 cycles;
// keeping two rules: after a bad stop bit the line is high for at least a cycle, after a
// glitch for at least half a bit (ClksPerBit/2 cycles), before anything else starts.
// Proven: every frame is reported exactly once, exactly ReportAt cycles after its start
// bit began (two synchroniser flops, the half-bit start check, nine bits, the output
// register): a good frame as valid_o with its byte, a bad one as frame_err_o; nothing
// else is ever reported (a glitch never is). So the receiver decodes any correctly
// timed byte, never loses its alignment, and never gets stuck.
module uart_rx_check #(
  parameter integer ClksPerBit = 4
) (
  input wire       clk_i,
  input wire       rst_ni,
  input wire       go_i,       // free: start a frame when allowed
  input wire [7:0] byte_i,     // free: its byte
  input wire       bad_i,      // free: its stop bit is low
  input wire       glitch_i,   // free: a glitch instead, when idle
  input wire [7:0] glen_i      // free: its length
);
  localparam integer Half     = ClksPerBit / 2;
  localparam integer ReportAt = 9 * ClksPerBit + Half + 3;
  localparam [31:0]  Last32 = ClksPerBit - 1, Half32 = Half, At32 = ReportAt;
  localparam [7:0]   Last = Last32[7:0], HalfB = Half32[7:0];
  localparam [9:0]   At = At32[9:0];

  localparam [1:0] Idle = 2'd0, Frame = 2'd1, Glitch = 2'd2;
  reg [1:0] st_q;
  reg [3:0] bitn_q;            // frame: 0 start, 1..8 data, 9 stop
  reg [7:0] bc_q;              // cycles into the bit, or of the glitch
  reg [7:0] byte_q, glen_q;
  reg       bad_q;
  reg [7:0] gap_q, need_q;     // idle cycles so far, and needed before the next start

  wire line = (st_q == Idle) ? 1'b1 :
              (st_q == Glitch) ? 1'b0 :
              (bitn_q == 4'd0) ? 1'b0 :
              (bitn_q == 4'd9) ? !bad_q : byte_q[bitn_q[2:0] - 3'd1];
  wire may_start = (st_q == Idle && gap_q >= need_q) ||
                   (st_q == Frame && bitn_q == 4'd9 && bc_q == Last && !bad_q);
  wire start_frame  = may_start && go_i;
  wire start_glitch = st_q == Idle && gap_q >= need_q && !go_i && glitch_i;
  wire frame_end    = st_q == Frame && bitn_q == 4'd9 && bc_q == Last;

  always @(posedge clk_i) if (start_glitch) assume (glen_i >= 8'd1 && glen_i <= HalfB);

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      st_q   <= Idle;
      gap_q  <= 8'd0;
      need_q <= 8'd0;
      bitn_q <= 4'd0;
      bc_q   <= 8'd0;
    end else if (start_frame) begin
      st_q   <= Frame;
      bitn_q <= 4'd0;
      bc_q   <= 8'd0;
    end else if (start_glitch) begin
      st_q <= Glitch;
      bc_q <= 8'd1;
    end else begin
      case (st_q)
        Frame: if (bc_q == Last) begin
          bc_q <= 8'd0;
          if (bitn_q == 4'd9) begin
            st_q   <= Idle;
            gap_q  <= 8'd0;
            need_q <= bad_q ? 8'd1 : 8'd0;
          end else begin
            bitn_q <= bitn_q + 4'd1;
          end
        end else begin
          bc_q <= bc_q + 8'd1;
        end
        Glitch: if (bc_q == glen_q) begin
          st_q   <= Idle;
          gap_q  <= 8'd0;
          need_q <= HalfB;
        end else begin
          bc_q <= bc_q + 8'd1;
        end
        default: if (gap_q != 8'hFF) gap_q <= gap_q + 8'd1;
      endcase
    end
  end
  always @(posedge clk_i) begin
    if (start_frame) begin
      byte_q <= byte_i;
      bad_q  <= bad_i;
    end
    if (start_glitch) glen_q <= glen_i;
  end

  wire [7:0] data;
  wire       valid, ferr;
  npu_uart_rx #(.ClksPerBit(ClksPerBit)) dut (
    .clk_i      (clk_i),
    .rst_ni     (rst_ni),
    .rx_i       (line),
    .data_o     (data),
    .valid_o    (valid),
    .frame_err_o(ferr)
  );

  // Frames awaiting their report, oldest in slot a (at most two: a report comes before
  // the frame after next begins): byte, stop bit, cycles since the start bit began.
  reg       a_v_q, b_v_q;
  reg [7:0] a_byte_q, b_byte_q;
  reg       a_bad_q, b_bad_q;
  reg [9:0] a_age_q, b_age_q;
  wire      report = valid || ferr;
  wire      due    = a_v_q && a_age_q == At;
  // The frame that starts this cycle enters when its first bit is on the line.
  reg       new_q;
  always @(posedge clk_i or negedge rst_ni)
    if (!rst_ni) new_q <= 1'b0;
    else         new_q <= start_frame;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      a_v_q <= 1'b0;
      b_v_q <= 1'b0;
    end else begin
      if (a_v_q && a_age_q != 10'h3FF) a_age_q <= a_age_q + 10'd1;
      if (b_v_q && b_age_q != 10'h3FF) b_age_q <= b_age_q + 10'd1;
      if (due) begin                          // a reports: b moves up
        a_v_q    <= b_v_q || new_q;
        a_byte_q <= b_v_q ? b_byte_q : byte_q;
        a_bad_q  <= b_v_q ? b_bad_q : bad_q;
        a_age_q  <= b_v_q ? b_age_q + 10'd1 : 10'd1;
        b_v_q    <= b_v_q && new_q;
        b_byte_q <= byte_q;
        b_bad_q  <= bad_q;
        b_age_q  <= 10'd1;
      end else if (new_q) begin
        if (!a_v_q) begin
          a_v_q    <= 1'b1;
          a_byte_q <= byte_q;
          a_bad_q  <= bad_q;
          a_age_q  <= 10'd1;
        end else begin
          b_v_q    <= 1'b1;
          b_byte_q <= byte_q;
          b_bad_q  <= bad_q;
          b_age_q  <= 10'd1;
        end
      end
    end
  end

  // The receiver's own state, connected by formal/uart_rx.ys (connect -set), and the
  // lemmas that tie it to the line, so that induction closes in a few steps: the
  // synchroniser holds the last two line levels; while a frame is between its start
  // edge's detection and its report, the bit timer follows the sampling schedule (half a
  // bit, then ClksPerBit per bit: the model m_*), and the data bits sampled so far are
  // the frame's; while a glitch is checked the timer counts to the half-bit point; the
  // receiver waits for a high line only after a bad stop bit; otherwise it is idle.
  localparam integer CntW = $clog2(ClksPerBit + 1);
  localparam [31:0]  HalfClk32 = Half - 1;
  localparam [7:0]   HalfClk = HalfClk32[7:0];
  (* keep *) wire            p_meta, p_rxq, p_wait;
  (* keep *) wire [3:0]      p_left;
  (* keep *) wire [CntW-1:0] p_cnt;
  (* keep *) wire [7:0]      p_shift;
  reg       l1_q, l2_q;        // the line one and two cycles ago
  reg [3:0] m_left_q;
  reg [7:0] m_cnt_q;
  reg       w_q;
  reg       g_on_q, h_on_q;
  reg [7:0] g_age_q, h_age_q;  // cycles since the glitch (and the one before) began
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      l1_q     <= 1'b1;
      l2_q     <= 1'b1;
      m_left_q <= 4'd0;
      m_cnt_q  <= 8'd0;
      w_q      <= 1'b0;
      g_on_q   <= 1'b0;
      g_age_q  <= 8'd0;
      h_on_q   <= 1'b0;
      h_age_q  <= 8'd0;
    end else begin
      l1_q <= line;
      l2_q <= l1_q;
      if (a_v_q && a_age_q == 10'd2 && !due) begin
        m_left_q <= 4'd10;
        m_cnt_q  <= 8'd0;
      end else if (m_left_q != 4'd0) begin
        if (m_cnt_q == ((m_left_q == 4'd10) ? HalfClk : Last)) begin
          m_cnt_q  <= 8'd0;
          m_left_q <= m_left_q - 4'd1;
        end else begin
          m_cnt_q <= m_cnt_q + 8'd1;
        end
      end
      w_q <= w_q ? !l2_q : (a_v_q && a_age_q == At - 10'd1 && a_bad_q);
      // a glitch is followed while its check can last (its first three cycles and the
      // half bit); the next may begin before that ends
      if (start_glitch) begin
        g_on_q  <= 1'b1;
        g_age_q <= 8'd0;
        h_on_q  <= g_on_q && g_age_q != HalfB + 8'd3;
        h_age_q <= g_age_q + 8'd1;
      end else begin
        if (g_on_q) begin
          if (g_age_q == HalfB + 8'd3) g_on_q <= 1'b0;
          else                         g_age_q <= g_age_q + 8'd1;
        end
        if (h_on_q) begin
          if (h_age_q == HalfB + 8'd3) h_on_q <= 1'b0;
          else                         h_age_q <= h_age_q + 8'd1;
        end
      end
    end
  end
  wire       in_frame  = a_v_q && a_age_q >= 10'd3 && a_age_q < At;
  wire       g_chk     = g_on_q && g_age_q >= 8'd3 && g_age_q < HalfB + 8'd3;
  wire       h_chk     = h_on_q && h_age_q >= 8'd3 && h_age_q < HalfB + 8'd3;
  wire       in_glitch = g_chk || h_chk;
  wire [7:0] chk_age   = g_chk ? g_age_q : h_age_q;
  wire [3:0] sampled   = 4'd9 - p_left;          // data bits sampled (left 1..9)
  wire [7:0] have      = (sampled == 4'd0) ? 8'd0 : p_shift >> (4'd8 - sampled);
  wire [7:0] want      = (sampled == 4'd0) ? 8'd0 : a_byte_q & ~(8'hFF << sampled);

  // the harness's own consistency (so that induction starts from states it can reach)
  localparam [31:0] Cpb32 = ClksPerBit;
  localparam [9:0]  Cpb = Cpb32[9:0];
  localparam [9:0]  FrameLen = 10'd10 * Cpb;
  wire       y_v   = b_v_q ? 1'b1 : a_v_q;           // the youngest frame in flight
  wire [9:0] y_age = b_v_q ? b_age_q : a_age_q;
  wire [9:0] on_at = {6'd0, bitn_q} * Cpb + {2'd0, bc_q};  // cycles into the frame on the line
  wire [9:0] u     = a_age_q - 10'd3 - {2'd0, HalfB};
  always @(*) if (rst_ni) begin
    assert (st_q != 2'd3);
    assert (need_q == 8'd0 || need_q == 8'd1 || need_q == HalfB);
    if (st_q == Frame) begin
      assert (bitn_q <= 4'd9 && bc_q <= Last);
      if (on_at == 10'd0) assert (new_q);
      else if (on_at > At) assert (!a_v_q && !new_q);   // reported within its stop bit
      else                assert (y_v && y_age == on_at && !new_q &&
                                  (b_v_q ? b_byte_q : a_byte_q) == byte_q &&
                                  (b_v_q ? b_bad_q : a_bad_q) == bad_q);
      if (b_v_q) assert (a_age_q >= b_age_q + FrameLen);
    end else begin
      assert (!new_q && !b_v_q);
      assert (!a_v_q || a_age_q >= FrameLen);
    end
    if (st_q == Glitch) assert (bc_q >= 8'd1 && bc_q <= glen_q && glen_q <= HalfB &&
                                g_on_q && g_age_q == bc_q - 8'd1);
    if (st_q == Idle && g_on_q) assert (g_age_q == glen_q + gap_q && gap_q < need_q + 8'd3);
    if (g_on_q) assert (g_age_q <= HalfB + 8'd3);
    if (h_on_q) assert (g_on_q && h_age_q <= HalfB + 8'd3 && h_age_q > g_age_q + HalfB);
    assert ((m_left_q != 4'd0) == in_frame);
    if (in_frame) begin
      if (m_left_q == 4'd10) assert (a_age_q - 10'd3 == {2'd0, m_cnt_q} && m_cnt_q <= HalfClk);
      else assert (m_left_q <= 4'd9 && m_cnt_q <= Last &&
                   u == {6'd0, 4'd9 - m_left_q} * Cpb + {2'd0, m_cnt_q});
    end
    if (w_q) assert (!a_v_q || a_age_q < 10'd3 || a_age_q == At);
  end

  always @(*) if (rst_ni) begin
    assert (p_meta == l1_q && p_rxq == l2_q);
    assert (p_wait == w_q);
    assert (!(in_frame && in_glitch));
    if (in_frame) begin
      assert (p_left == m_left_q && {{(8 - CntW){1'b0}}, p_cnt} == m_cnt_q);
      assert (m_left_q != 4'd0);
      if (p_left <= 4'd9) assert (have == want);
    end else if (in_glitch) begin
      assert (!(g_chk && h_chk));
      assert (p_left == 4'd10 && {{(8 - CntW){1'b0}}, p_cnt} == chk_age - 8'd3);
    end else begin
      assert (p_left == 4'd0);
    end
  end

  always @(*) if (rst_ni) begin
    assert (report == due);                       // exactly once, exactly on time
    if (due) begin
      assert (valid == !a_bad_q && ferr == a_bad_q);
      if (valid) assert (data == a_byte_q);
    end
    assert (!(new_q && a_v_q && b_v_q));          // never three frames in flight
    assert (!b_v_q || a_v_q);
    assert (!a_v_q || a_age_q <= At);
    assert (!b_v_q || b_age_q < a_age_q);
  end
endmodule
`default_nettype wire
