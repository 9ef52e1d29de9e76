`default_nettype none
// npu_link_rx: frame receiver of the link protocol (docs/ARCHITECTURE.md section 6).
//
//   0xA5 | cmd | seq | len_lo len_hi | payload[len] | crc_lo crc_hi
//
// Bytes come from npu_uart_rx (byte_valid_i pulses, frame_err_i on a bad stop bit);
// byte_i must already hold the byte the cycle before byte_valid_i (npu_uart_rx's data
// is stable for the whole stop bit), and two bytes are at least two cycles apart.
// The receiver hunts for 0xA5, then writes the frame into the frame-buffer bank its
// owner offers (wr_* port): its header at bank bytes 0-3 (cmd, seq, len_lo, and len_hi
// with bit 7 set when the payload is longer than a bank holds) and the payload from
// byte 4, while it folds every byte after 0xA5 into a CRC-16/CCITT-FALSE. Only when the
// CRC matches does commit_o pulse; the owner then finds the whole request in the bank.
// Nothing else is ever acted on:
//   - a bad CRC or a UART framing error drops the frame (crc_err_o / frame_err_o pulse);
//   - a frame stalled mid-way drops back to hunting (timeout_o pulses) at the fourth
//     wd_tick_i pulse without a byte, so a truncated frame cannot swallow the next one
//     for long (the owner's free-running prescaler supplies the ticks: with one every
//     P cycles, a stall ends after 3P to 4P cycles);
//   - a payload longer than MaxPayload - 4 is still received and checked, but not
//     stored: it commits with the flag in its header, so that the owner can answer
//     BAD_LEN;
//   - when the owner offers no bank at the start of a frame (bank_free_i low), the frame
//     is parsed but dropped (drop_o pulses); the host retransmits it;
//   - a good RESET frame (cmd 0x06, no payload) never commits: reset_o pulses instead,
//     with its seq on reset_seq_o (held until the next RESET), whether a bank was offered
//     or not, so that a RESET is seen even while both banks are taken.
module npu_link_rx #(
  parameter integer MaxPayload   = 1024,   // bytes of a bank: header and payload
  parameter integer PayW         = $clog2(MaxPayload)
) (
  input  wire            clk_i,
  input  wire            rst_ni,
  input  wire [7:0]      byte_i,
  input  wire            byte_valid_i,
  input  wire            frame_err_i,
  input  wire            wd_tick_i,
  // frame buffer write port (the bank is supplied by the owner)
  input  wire            bank_free_i,
  output wire            wr_en_o,
  output wire [PayW-1:0] wr_addr_o,
  output wire [7:0]      wr_data_o,
  // a good frame is in the bank
  output wire            commit_o,
  // a good RESET frame
  output wire            reset_o,
  output wire [7:0]      reset_seq_o,
  // status
  output wire            idle_o,
  output wire            crc_err_o,
  output wire            frame_err_o,
  output wire            timeout_o,
  output wire            drop_o
);
  localparam [7:0] Sync = 8'hA5;
  localparam [7:0] CmdReset = 8'h06;

  localparam [2:0] StHunt = 3'd0, StCmd = 3'd1, StSeq = 3'd2, StLenLo = 3'd3,
                   StLenHi = 3'd4, StPayload = 3'd5, StCrcLo = 3'd6, StCrcHi = 3'd7;

  reg [2:0]     state_q, state_d;
  reg [15:0]    rem_q, rem_d;        // payload bytes still to come (len_lo while parsing)
  reg           store_q, store_d;    // a bank was offered when the frame started
  reg           crc_lo_ok_q, crc_lo_ok_d;
  reg [1:0]     wd_q, wd_d;          // watchdog ticks since the last byte
  reg [PayW-1:0] wa_q, wa_d;         // bank byte written next
  reg           long_q, long_d;      // the payload does not fit the bank
  reg           rst_q, rst_d;        // the frame is a RESET without payload (so far)
  reg [7:0]     rseq_q, rseq_d;      // its seq
  reg           reset_d;
  reg           commit_d, crc_err_d, timeout_d, drop_d, wr_en;
  reg [7:0]     wr_data;
  reg           crc_clear, crc_en;

  wire [15:0] crc;
  wire [15:0] len_in = {byte_i, rem_q[7:0]};
  // len_in > MaxPayload - 4 (MaxPayload a power of two) without a 16-bit comparator
  wire        len_long = (|len_in[15:PayW]) || ((&len_in[PayW-1:2]) && len_in[1:0] != 2'd0);

  // The byte's tests, registered a cycle ahead (timing): byte_i is stable the cycle
  // before byte_valid_i, and the CRC and rem_q change only with a byte, so every test
  // is current when the byte is taken.
  reg is_sync_q, is_rst_q, crc_lo_eq_q, crc_hi_eq_q, len_zero_q, len_long_q, rem_one_q;
  always @(posedge clk_i) begin
    is_sync_q   <= (byte_i == Sync);
    is_rst_q    <= (byte_i == CmdReset);
    crc_lo_eq_q <= (byte_i == crc[7:0]);
    crc_hi_eq_q <= (byte_i == crc[15:8]);
    len_zero_q  <= (len_in == 16'd0);
    len_long_q  <= len_long;
    rem_one_q   <= (rem_q == 16'd1);
  end

  npu_crc16 u_crc (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .clear_i(crc_clear),
    .en_i   (crc_en),
    .data_i (byte_i),
    .crc_o  (crc)
  );

  always @(*) begin
    state_d     = state_q;
    rem_d       = rem_q;
    store_d     = store_q;
    crc_lo_ok_d = crc_lo_ok_q;
    wa_d        = wa_q;
    long_d      = long_q;
    rst_d       = rst_q;
    rseq_d      = rseq_q;
    reset_d     = 1'b0;
    commit_d    = 1'b0;
    crc_err_d   = 1'b0;
    timeout_d   = 1'b0;
    drop_d      = 1'b0;
    wr_en       = 1'b0;
    wr_data     = byte_i;
    crc_clear   = 1'b0;
    crc_en      = 1'b0;
    // Watchdog: counts ticks without a byte while a frame is open.
    wd_d        = (state_q == StHunt || byte_valid_i) ? 2'd0 : wd_q + {1'b0, wd_tick_i};

    // npu_uart_rx never reports a byte and a framing error in the same cycle; a byte
    // that arrives with the fourth tick is not a stall.
    if (byte_valid_i) begin
      crc_en = (state_q != StHunt && state_q != StCrcLo && state_q != StCrcHi);
      case (state_q)
        StHunt: if (is_sync_q) begin
          crc_clear = 1'b1;
          store_d   = bank_free_i;
          wa_d      = {PayW{1'b0}};
          state_d   = StCmd;
        end
        StCmd: begin
          wr_en   = store_q;
          wa_d    = wa_q + 1'b1;
          rst_d   = is_rst_q;
          state_d = StSeq;
        end
        StSeq: begin
          wr_en   = store_q;
          wa_d    = wa_q + 1'b1;
          if (rst_q) rseq_d = byte_i;
          state_d = StLenLo;
        end
        StLenLo: begin
          wr_en      = store_q;
          wa_d       = wa_q + 1'b1;
          rem_d[7:0] = byte_i;
          state_d    = StLenHi;
        end
        StLenHi: begin
          wr_en       = store_q;
          wr_data     = {len_long_q, byte_i[6:0]};
          wa_d        = wa_q + 1'b1;
          rem_d[15:8] = byte_i;
          long_d      = len_long_q;
          rst_d       = rst_q && len_zero_q;
          state_d     = len_zero_q ? StCrcLo : StPayload;
        end
        StPayload: begin
          rem_d = rem_q - 16'd1;
          if (!long_q) begin
            wr_en = store_q;
            wa_d  = wa_q + 1'b1;
          end
          if (rem_one_q) state_d = StCrcLo;
        end
        StCrcLo: begin
          crc_lo_ok_d = crc_lo_eq_q;
          state_d     = StCrcHi;
        end
        default: begin  // StCrcHi
          state_d = StHunt;
          if (!crc_lo_ok_q || !crc_hi_eq_q) crc_err_d = 1'b1;
          else if (rst_q)                   reset_d   = 1'b1;
          else if (store_q)                 commit_d  = 1'b1;
          else                              drop_d    = 1'b1;
        end
      endcase
    end else if (frame_err_i && state_q != StHunt) begin
      state_d = StHunt;
    end else if (state_q != StHunt && wd_tick_i && wd_q == 2'd3) begin
      state_d   = StHunt;
      timeout_d = 1'b1;
    end
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= StHunt;
    end else begin
      state_q <= state_d;
    end
  end

  // No reset: the watchdog is cleared while hunting (the state after reset), the rest is
  // loaded by the frame before it is used.
  always @(posedge clk_i) begin
    rem_q       <= rem_d;
    store_q     <= store_d;
    crc_lo_ok_q <= crc_lo_ok_d;
    wd_q        <= wd_d;
    wa_q        <= wa_d;
    long_q      <= long_d;
    rst_q       <= rst_d;
    rseq_q      <= rseq_d;
  end

  // The frame goes straight into the bank; an overlong payload is not stored.
  assign wr_en_o     = wr_en;
  assign wr_addr_o   = wa_q;
  assign wr_data_o   = wr_data;
  assign commit_o    = commit_d;
  assign reset_o     = reset_d;
  assign reset_seq_o = rseq_q;
  assign idle_o      = (state_q == StHunt);
  assign crc_err_o   = crc_err_d;
  assign frame_err_o = frame_err_i;
  assign timeout_o   = timeout_d;
  assign drop_o      = drop_d;

`ifndef SYNTHESIS
  initial if ((1 << PayW) != MaxPayload || PayW > 14)
    $fatal(1, "npu_link_rx: MaxPayload must be a power of two up to 16384");
  // Bank bounds (verilator --assert; proven by formal/link.ys): byte 0 of the bank is
  // written by a frame's cmd byte only, so a payload never wraps past the bank's end onto
  // its own header (the overlong one is not stored).
  reg a_live_q;                              // out of reset: the checks skip reset
  always @(posedge clk_i or negedge rst_ni)
    if (!rst_ni) a_live_q <= 1'b0;
    else         a_live_q <= 1'b1;
  always @(posedge clk_i) if (a_live_q && wr_en)
    assert ((state_q == StCmd) == (wa_q == {PayW{1'b0}}));
`endif
endmodule
`default_nettype wire
