`default_nettype none
// npu_link: the device side of the host link, protocol version 2 (docs/ARCHITECTURE.md
// section 6). It turns request frames from the UART into npu_core host-bus transfers
// and program runs, and sends one reply frame per request.
//
// Structure: npu_link_rx writes each frame, its 4-byte header and its payload, into one
// bank of a two-bank frame buffer (npu_frame_buf, one block RAM) and commits it when the
// CRC checks. The executor below takes the oldest committed frame when it is idle, reads
// its header and fields once into registers, acts on it and streams the reply through
// npu_uart_tx, computing the reply CRC on the way. It releases the bank when the reply
// starts, or when the program starts for RUN and INFER, so that both banks can take the
// next requests while the core computes. A frame that starts while both banks are taken
// is dropped (and counted); the host retransmits it.
//
// Transfers are walks over bytes. Raw WRITE/READ move whole 32-bit host words. INFER
// moves packed AMEM data: L bytes per memory word of Dim lanes (lanes 0..L-1 of each
// word; the rest of the host words written is filled with don't-care bytes, which the
// layout allows, ARCHITECTURE section 3), so a tensor of C < Dim channels crosses the
// wire as its C real bytes per pixel. Every walk runs twice: a dry pass that only steps
// the address, so that a range leaving its space is refused with memory untouched (the
// end is compared with the space size, never wrapped), then the real one.
//
// INFER comes in parts (an input larger than a frame): byte 0 of each part holds a 2-bit
// tag (one per inference), a last flag and the part number. Part 0 carries the input's
// AMEM address and lanes, the last part the output's and the run's cycle limit; the
// device writes the parts in order from a cursor kept between frames, runs the program
// after the last, and answers it with the outputs and the cycles. A part that arrives
// before the one it follows, or a new input's part 0 while the previous input still
// lacks its last part, is answered BUSY (the host sends it again later); a part already
// written is answered OK again without writing; the last part of the inference that ran
// last is answered again from memory (its outputs are re-read) without running. So a
// host may stream the next input's parts while the device computes, and no lost or
// repeated frame ever writes an input over one that has not run yet.
//
// Every other request with the same cmd and seq as the last one answered is validated
// and answered again but not executed (WRITE data is not written again, RUN does not
// start the core). RESET (recognised by npu_link_rx without a bank) stops a run at once
// (core_rst_o, held until busy_i falls: npu_top holds the core in reset; its memories
// keep their contents), drops the frames waiting behind the current one, and forgets the
// repeat memory, the INFER parts and the error counters. RUN and INFER carry a cycle
// limit of L * 2^20 cycles (L = 0: none): a run still going then is stopped the same way
// and answered WATCHDOG. While a program runs, the oldest waiting frame is looked at: an
// IDENTIFY or RUN is answered BUSY at once (a host probing a busy device, or a second
// host); other requests wait for the run.
//
// Core side: the npu_core host port of ARCHITECTURE section 5 (bus_req_o is a one-cycle
// strobe; the link waits for bus_ack_i, which must come at least one cycle later).
// Sizes are in 32-bit host words per space. busy_i and done_i are registered on entry.
//
// Timing: the executor's states are one-hot, a request's header is decoded from a
// register, reply bytes pass a one-byte buffer on their way to the UART, the core's
// busy/done are registered and the range check takes a cycle.
module npu_link #(
  parameter integer Version      = 2,
  parameter integer Dim          = 8,
  parameter integer AccDepth     = 1024,
  parameter integer MaxLayers    = 16,
  parameter integer AmemWords    = 32768,   // host words (32 bit) of each space
  parameter integer AmemExtWords = 0,       // AMEM host words after AmemWords (in WMEM)
  parameter integer WmemWords    = 131072,
  parameter integer DmemWords    = 256,
  parameter integer CntWords     = 32,
  parameter integer ClockHz      = 12000000,
  parameter integer ClksPerBit   = 104,
  parameter integer MaxPayload   = 1024     // bytes of a frame-buffer bank: the request's
                                            // 4-byte header and up to MaxPayload - 4 bytes
                                            // of payload (IDENTIFY's max_payload)
) (
  input  wire        clk_i,
  input  wire        rst_ni,
  // from npu_uart_rx
  input  wire [7:0]  rx_byte_i,
  input  wire        rx_valid_i,
  input  wire        rx_frame_err_i,
  input  wire        wd_tick_i,     // receive watchdog: a stall ends at the 4th tick
  // to npu_uart_tx
  output wire [7:0]  tx_byte_o,
  output wire        tx_valid_o,
  input  wire        tx_ready_i,
  // npu_core host port
  output wire        bus_req_o,
  output wire        bus_we_o,
  output wire [1:0]  bus_space_o,
  output wire [23:0] bus_addr_o,
  output wire [31:0] bus_wdata_o,
  input  wire        bus_ack_i,
  input  wire [31:0] bus_rdata_i,
  output wire        start_o,
  input  wire        busy_i,
  input  wire        done_i,
  output wire        core_rst_o,    // stop the core (a RESET or the run watchdog): high
                                    // from the stop until busy_i has fallen
  // status
  output wire        idle_o,   // nothing received, queued, executing or being sent
  output wire        act_o,    // pulse: a good frame arrived or a reply started
  output wire        err_o     // pulse: bad CRC, framing error, watchdog or dropped frame
);
  localparam integer PayW   = $clog2(MaxPayload);
  localparam integer AmemAll = AmemWords + AmemExtWords;
  localparam integer MaxAW  = (AmemAll > WmemWords) ? AmemAll : WmemWords;
  localparam integer MaxDC  = (DmemWords > CntWords) ? DmemWords : CntWords;
  localparam integer MaxSp  = (MaxAW > MaxDC) ? MaxAW : MaxDC;
  localparam integer SpW    = $clog2(MaxSp);
  // Address registers: AW bits hold any address inside a space (and INFER's u16 fields),
  // one more bit the end of a walk past it.
  localparam integer AW     = (SpW < 16) ? 16 : SpW;
  localparam integer CW     = PayW + 1;           // byte counts: at most a frame's worth
  localparam integer LaneW  = $clog2(Dim);        // byte of a memory word
  localparam integer Sub    = Dim / 4;            // host words per memory word

  localparam [2:0] CmdIdentify = 3'd1, CmdWrite = 3'd2, CmdRead = 3'd3, CmdRun = 3'd4,
                   CmdInfer = 3'd5, CmdReset = 3'd6;
  localparam [2:0] StatOk = 3'd0, StatBadCmd = 3'd1, StatBadAddr = 3'd2, StatBadLen = 3'd3,
                   StatBusy = 3'd4, StatBadSpace = 3'd5, StatWatchdog = 3'd6;

  // 32-bit copies of the integer parameters, sliced to each field's width below
  localparam [31:0] Version32 = Version,   Dim32 = Dim,         Acc32 = AccDepth;
  localparam [31:0] Layers32  = MaxLayers, Cpb32 = ClksPerBit,  MaxPay32 = MaxPayload - 4;
  localparam [31:0] IdAmem    = AmemWords;
  localparam [31:0] IdAmemExt = AmemExtWords;
  localparam [31:0] IdAmemAll = AmemAll;
  localparam [31:0] IdWmem    = WmemWords;
  localparam [31:0] IdDmem    = DmemWords;
  localparam [31:0] IdCnt     = CntWords;
  localparam [31:0] IdClock   = ClockHz;
  localparam [31:0] SubM1     = Sub - 1;
  localparam [AW:0] SubMask   = SubM1[AW:0];

  localparam [AW:0] AmemSize = IdAmemAll[AW:0];
  localparam [AW:0] WmemSize = IdWmem[AW:0];
  localparam [AW:0] DmemSize = IdDmem[AW:0];
  localparam [AW:0] CntSize  = IdCnt[AW:0];

  localparam [4:0]  IdConstLast = 5'd28;   // the constant part of the IDENTIFY body

  // What a request still has to do, done lowest bit first: check the output range (dry
  // walk), check the input range, write the input, run, reply with the outputs.
  localparam integer TOutChk = 0, TInChk = 1, TInWr = 2, TRun = 3, TOut = 4;

  // Executor states, one-hot (timing: a state test is one flip-flop).
  localparam integer BIdle = 0, BField = 1, BLoad = 2, BWalk = 3, BCheck = 4, BWrFetch = 5,
                     BFill = 6, BWrBus = 7, BStart = 8, BRun = 9, BTxHdr = 10, BTxId = 11,
                     BTxCnt = 12, BTxRdBus = 13, BTxWord = 14, BTxCyc = 15, BTxCrc = 16,
                     BHdr = 17, BDecode = 18, BTag = 19;
  localparam integer NSt = 20;
  localparam [NSt-1:0] ExHdr = 1 << BHdr, ExDecode = 1 << BDecode, ExTag = 1 << BTag;
  localparam [NSt-1:0] ExIdle = 1 << BIdle, ExField = 1 << BField, ExLoad = 1 << BLoad,
                       ExWalk = 1 << BWalk, ExCheck = 1 << BCheck, ExWrFetch = 1 << BWrFetch,
                       ExFill = 1 << BFill, ExWrBus = 1 << BWrBus, ExStart = 1 << BStart,
                       ExRun = 1 << BRun, ExTxHdr = 1 << BTxHdr, ExTxId = 1 << BTxId,
                       ExTxCnt = 1 << BTxCnt, ExTxRdBus = 1 << BTxRdBus,
                       ExTxWord = 1 << BTxWord, ExTxCyc = 1 << BTxCyc, ExTxCrc = 1 << BTxCrc;

  // ---------------------------------------------------------------- receiver and banks
  wire            rx_wr_en, rx_commit, rx_idle, rx_reset;
  wire [PayW-1:0] rx_wr_addr;
  wire [7:0]      rx_wr_data, rx_reset_seq;
  wire            rx_crc_err, rx_frame_err, rx_timeout, rx_drop;

  // Banks: wr_ptr counts committed frames, rd_ptr released ones; the executor works on
  // the frame at rd_ptr while held_q. The receiver may store a frame when a bank is free
  // and no RESET is pending.
  reg  [1:0] wr_ptr_q, rd_ptr_q;
  reg        held_q, held_d;         // the executor owns bank rd_ptr_q[0]
  reg        rst_pend_q;             // a RESET arrived, not yet answered
  wire [1:0] queued    = wr_ptr_q - rd_ptr_q;
  wire       waiting   = (queued == 2'd2) || (queued == 2'd1 && !held_q);
  wire       bank_free = (queued != 2'd2) && !rst_pend_q;
  wire       rd_bank   = rd_ptr_q[0];
  reg        release_bank;

  npu_link_rx #(
    .MaxPayload  (MaxPayload)
  ) u_rx (
    .clk_i       (clk_i),
    .rst_ni      (rst_ni),
    .byte_i      (rx_byte_i),
    .byte_valid_i(rx_valid_i),
    .frame_err_i (rx_frame_err_i),
    .wd_tick_i   (wd_tick_i),
    .bank_free_i (bank_free),
    .wr_en_o     (rx_wr_en),
    .wr_addr_o   (rx_wr_addr),
    .wr_data_o   (rx_wr_data),
    .commit_o    (rx_commit),
    .reset_o     (rx_reset),
    .reset_seq_o (rx_reset_seq),
    .idle_o      (rx_idle),
    .crc_err_o   (rx_crc_err),
    .frame_err_o (rx_frame_err),
    .timeout_o   (rx_timeout),
    .drop_o      (rx_drop)
  );

  reg  [PayW-1:0] ptr_q, ptr_d;      // bank byte the executor reads next (payload from 4)
  wire [7:0]      fb_rdata;

  npu_frame_buf #(
    .Depth(2 << PayW)
  ) u_buf (
    .clk_i  (clk_i),
    .we_i   (rx_wr_en),
    .waddr_i({wr_ptr_q[0], rx_wr_addr}),
    .wdata_i(rx_wr_data),
    .raddr_i({rd_bank, ptr_q}),
    .rdata_o(fb_rdata)
  );

  // ---------------------------------------------------------------- executor registers
  reg [NSt-1:0] state_q, state_d;
  reg [6:0]    cmd_q, cmd_d;         // the request's cmd (bit 7 is the reply flag)
  reg [7:0]    seq_q, seq_d;
  reg [PayW:0] len_q, len_d;         // its payload length
  reg          rep_q, rep_d;         // a repeated request: answer, do not execute
  reg [2:0]    status_q, status_d;
  reg [4:0]    todo_q, todo_d;       // T* bits still to do
  reg          fb_wait_q, fb_wait_d; // frame-buffer read latency; bus request sent
  reg [4:0]    idx_q, idx_d;         // byte of the field layout or of the reply part
  reg [1:0]    space_q, space_d;
  reg          bad_sp_q, bad_sp_d;   // unknown space, or a write to CNT
  reg          bad_len_q, bad_len_d; // lanes, count or data length wrong
  reg          addr_hi_q, addr_hi_d; // an address field has bits at or above AW
  // descriptors: the output side (READ, INFER's outputs; WRITE's address too) and the
  // input side (INFER's cursor, which lasts from part to part)
  reg [AW:0]   oaddr_q, oaddr_d;
  reg [CW-1:0] ocount_q, ocount_d;
  reg [LaneW-1:0] olm1_q, olm1_d;
  reg [AW:0]   cur_q, cur_d;
  reg [LaneW-1:0] ilm1_q, ilm1_d;
  reg [PayW-1:0] dstart_q, dstart_d; // WRITE/INFER: where the frame's data start
  reg [7:0]    limit_q, limit_d;     // run cycle limit in units of 2^20 cycles (0: none)
  // the walk
  reg [AW:0]   addr_q, addr_d;       // host word
  reg [CW-1:0] count_q, count_d;     // bytes left
  reg          packed_q, packed_d;   // packed AMEM walk (else 4 bytes per host word)
  reg [LaneW-1:0] lm1_q, lm1_d;      // bytes per memory word - 1
  reg [LaneW-1:0] lane_q, lane_d;    // byte of the memory word (of the host word while
                                     // filling it up)
  reg          grp_q, grp_d;         // write walk: the memory word ended in this host word
  reg [31:0]   word_q, word_d;       // bus word; field bytes while parsing
  reg          ij_q, ij_d;           // answering BUSY to a request waiting during a run
  reg          peek_q, peek_d;       // the frame waiting during the run has been looked at
  // INFER parts: this request's tag/last/part, and the device's state
  reg [1:0]    tp_tag_q, tp_tag_d;
  reg          tp_last_q, tp_last_d;
  reg [4:0]    tp_part_q, tp_part_d;
  reg          asm_q, asm_d;         // parts 0 .. exp_q-1 of input asm_tag_q are written
  reg [1:0]    asm_tag_q, asm_tag_d;
  reg [4:0]    exp_q, exp_d;
  reg          done_v_q, done_v_d;   // the inference done_tag_q ran (its outputs are in AMEM)
  reg [1:0]    done_tag_q, done_tag_d;
  reg          wd_last_q, wd_last_d; // the last run was stopped by the watchdog
  reg          abort, start;         // stop the core / start it, this cycle

  // A RESET drops the frames waiting behind the executor's (they are stale: the host
  // that sent them has resynchronised), a cycle after it is received (reset_q; timing:
  // the executor's next state stays out of the pointers, and no frame can commit in
  // that cycle). The executor's frame then is the one it holds, or a probe it answers
  // BUSY during a run (ij), whose bank is released when that reply ends: it stays, or
  // that release would free a bank twice.
  reg reset_q;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wr_ptr_q <= 2'd0;
      rd_ptr_q <= 2'd0;
      reset_q  <= 1'b0;
    end else begin
      reset_q <= rx_reset;
      if (reset_q)        wr_ptr_q <= rd_ptr_q + {1'b0, held_q || ij_q};
      else if (rx_commit) wr_ptr_q <= wr_ptr_q + 2'd1;
      if (release_bank)   rd_ptr_q <= rd_ptr_q + 2'd1;
    end
  end

  reg [31:0]   cycles_q;             // cycles of the last run, start to done
  reg          run_q;                // the core runs (cycles counted)
  reg          wd_q;                 // ... and reached its limit
  reg          stop_q, stop_d;       // the run is being stopped: wait for busy to fall
  reg          busy_q, done_q;       // the core's busy and done, registered (timing)
  reg          last_valid_q;         // cmd_q/seq_q are remembered for repeats
  reg [15:0]   n_crc_q, n_frame_q, n_timeout_q, n_drop_q;  // error counters (IDENTIFY)

  reg        crc_en;
  reg [7:0]  tx_byte;
  reg        tx_valid;
  wire [15:0] tx_crc;
  // Reply bytes pass a one-byte buffer on their way to the UART (timing: the byte mux
  // ends in a register). The executor fills it when it is empty; the UART empties it
  // within a cycle when idle, otherwise as the byte before ends, so bytes still leave
  // back to back.
  reg [7:0]  tx_buf_q;
  reg        tx_full_q;
  wire       tx_fire = tx_valid && !tx_full_q;

  // The reply CRC folds each byte in the cycle after it entered the buffer. The CRC
  // bytes enter the buffer at least a cycle after the last body byte (the UART must
  // take that one first), when the last fold is done.
  reg        crc_clear_q, crc_en_q;

  npu_crc16 u_tx_crc (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .clear_i(crc_clear_q),
    .en_i   (crc_en_q),
    .data_i (tx_buf_q),
    .crc_o  (tx_crc)
  );

  wire [2:0] cmd      = cmd_q[2:0];
  wire       known    = (cmd_q[6:3] == 4'd0) && (cmd != 3'd0) && (cmd != 3'd7);
  reg        is_write, is_read, is_run, is_infer;   // cmd decoded at the dispatch (timing)

  // ---------------------------------------------------------------- dispatch
  // The waiting request's header, read from its bank into word_q by ExHdr:
  // {len_hi with the overlong flag, len_lo, seq, cmd}.
  wire [7:0]  h_cmd   = word_q[7:0];
  wire [7:0]  h_seq   = word_q[15:8];
  wire [14:0] h_len   = {word_q[30:24], word_q[23:16]};
  wire        h_long  = word_q[31];
  wire [2:0]  h_c     = h_cmd[2:0];
  wire        h_known = (h_cmd[7:3] == 5'd0) && (h_c != 3'd0) && (h_c != 3'd7);
  reg         h_len_ok;
  always @(*) begin
    case (h_c)
      CmdRead:  h_len_ok = (h_len == 15'd7);
      CmdWrite: h_len_ok = (h_len[1:0] == 2'd1) && (h_len[14:3] != 12'd0);  // 5 + 4k, k >= 1
      CmdRun:   h_len_ok = (h_len == 15'd1);
      CmdInfer: h_len_ok = (h_len != 15'd0);
      default:  h_len_ok = (h_len == 15'd0);
    endcase
  end
  wire h_repeat = last_valid_q && h_known && h_c == cmd && h_seq == seq_q;
  // During a run: the waiting frame's cmd and seq (bank bytes 0-1, in word_q[31:16] after
  // the look) ask for no data: answered BUSY at once.
  wire [6:0] pk_cmd   = word_q[22:16];
  wire       pk_probe = (fld[23:16] == {5'd0, CmdIdentify}) || (fld[23:16] == {5'd0, CmdRun});
  always @(posedge clk_i)
    if (state_q[BIdle] || state_q[BDecode]) {is_write, is_read, is_run, is_infer} <=
      {4{state_q[BDecode]}} & {h_c == CmdWrite, h_c == CmdRead, h_c == CmdRun, h_c == CmdInfer};

  // ---------------------------------------------------------------- fields
  // Header bytes shift into word_q from the top. The layouts, byte by byte (u16 fields
  // are followed by two steps that read nothing and shift zeros in, so that every
  // address ends in the low bits of word_q):
  //   WRITE 0 space, 1-4 addr            READ 0 space, 1-4 addr, 5-6 count (words)
  //   RUN   0 limit                      INFER 0 tag/last/part, then
  //     part 0:   1 lanes-1, 2-3 in addr (u16), 4-5 --
  //     the last: 6 lanes-1, 7-8 out addr (u16), 9-10 --, 11-12 out count (bytes), 13 limit
  wire        f_idle   = is_infer && (idx_q == 5'd4 || idx_q == 5'd5 ||
                                      idx_q == 5'd9 || idx_q == 5'd10);
  wire [31:0] fld      = {fb_rdata, word_q[31:8]};
  wire [31:0] fword    = f_idle ? {8'h00, word_q[31:8]} : fld;
  wire        f_space  = (is_write || is_read) && idx_q == 5'd0;
  wire        f_oaddr  = ((is_read || is_write) && idx_q == 5'd4) || (is_infer && idx_q == 5'd10);
  wire        f_iaddr  = is_infer && idx_q == 5'd5;
  wire        f_count  = (is_read && idx_q == 5'd6) || (is_infer && idx_q == 5'd12);
  wire        f_ilanes = is_infer && idx_q == 5'd1;
  wire        f_olanes = is_infer && idx_q == 5'd6;
  wire        f_limit  = (is_run && idx_q == 5'd0) || (is_infer && idx_q == 5'd13);
  wire        f_tp     = is_infer && idx_q == 5'd0;
  wire        f_end    = (is_write && idx_q == 5'd4) || (is_read && idx_q == 5'd6) ||
                         (is_run && idx_q == 5'd0) || (is_infer && idx_q == 5'd13) ||
                         (is_infer && idx_q == 5'd5 && !tp_last_q);
  wire [AW:0] fld_addr = {1'b0, fword[AW-1:0]};
  // READ counts words (4 bytes each), INFER counts bytes; beyond a frame's worth they
  // only mark the request BAD_LEN.
  wire [17:0] fld_cnt  = is_read ? {fld[31:16], 2'b00} : {2'b00, fld[31:16]};
  // INFER: the tag/last/part byte (registered in tp_*_q) decides what the part is
  wire        m_asm    = asm_q && tp_tag_q == asm_tag_q;
  wire        m_done   = done_v_q && tp_tag_q == done_tag_q;
  wire        tp_next  = (m_asm && tp_part_q == exp_q) ||
                         (!m_asm && !m_done && !asm_q && tp_part_q == 5'd0);
  wire [PayW-1:0] ptr_next = ptr_q + {{(PayW - 1){1'b0}}, !f_idle};
  // WRITE/INFER: the data bytes after the header (negative: the fields were too long)
  wire [PayW+1:0] data_n = {1'b0, len_q} - {2'b00, dstart_q};
  reg             no_data_q;          // data_n is 0, registered (timing; ready by the InWr load)
  wire [4:0]  todo_next = todo_q & (todo_q - 5'd1);          // the lowest bit done

  // ---------------------------------------------------------------- walks
  // A walk steps one byte at a time: lane_q counts the bytes of a memory word (lm1_q + 1
  // of them; raw walks: 4 per host word), and the address moves on when a host word is
  // done: by one, or at the end of a packed memory word to the next one's first host
  // word, (addr | (Sub - 1)) + 1.
  wire          grp_end  = (lane_q == lm1_q);
  wire          hw_end   = (lane_q[1:0] == 2'd3) || grp_end;
  wire          cnt_one  = (count_q == {{(CW - 1){1'b0}}, 1'b1});
  wire          cnt_zero = (count_q == {CW{1'b0}});
  reg           addr_grp;              // the step ends a memory word
  wire [AW:0]   addr_inc = (addr_q | (addr_grp && packed_q ? SubMask : {(AW + 1){1'b0}})) + 1'b1;
  wire [LaneW-1:0] lane_inc = lane_q + 1'b1;

  // The walk's end address, one more when it stopped inside a host word, must not pass
  // the space size (AW + 1 bits: no wrap). Checked a cycle after the walk ends.
  reg [AW:0] space_size;
  always @(*) begin
    case (space_q)
      2'd0:    space_size = AmemSize;
      2'd1:    space_size = WmemSize;
      2'd2:    space_size = DmemSize;
      default: space_size = CntSize;
    endcase
  end
  // size - (addr + partial) >= 0, as size + ~addr + !partial >= 2^(AW+1)
  wire [AW+1:0] room = {1'b0, space_size} + {1'b0, ~addr_q} +
                       {{(AW + 1){1'b0}}, lane_q[1:0] == 2'd0};
  reg        fits_q;

  // Reply payload length: status + body (no body after an error).
  wire          ok       = (status_q == StatOk);
  wire          out_body = todo_q[TOut];
  reg  [CW:0]   rsp_len_q;           // registered (timing): stable long before header byte 3
  wire [CW:0]   out_len  = {1'b0, count_q} + {{(CW - 2){1'b0}}, is_infer ? 3'd5 : 3'd1};
  wire [CW:0]   rsp_len  = (!ok || ij_q) ? 1 : is_run ? 5 : out_body ? out_len :
                           (cmd == CmdIdentify) ? 42 : 1;
  wire [15:0]   rsp_len16 = {{(15 - CW){1'b0}}, rsp_len_q};

  // what follows the status byte, and what follows the reply data
  wire [NSt-1:0] after_words = is_infer ? ExTxCyc : ExTxCrc;
  reg  [NSt-1:0] after_hdr;
  always @(*) begin
    after_hdr = ExTxCrc;
    if (ok && !ij_q) begin
      if (is_run)                  after_hdr = ExTxCyc;
      else if (out_body)           after_hdr = cnt_zero ? after_words : ExTxRdBus;
      else if (cmd == CmdIdentify) after_hdr = ExTxId;
    end
  end

  // IDENTIFY body: the constant part (a ROM), then the error counters (u16 each) and the
  // AMEM extension's size (u32)
  reg [7:0] id_byte;
  always @(*) begin
    case (idx_q)
      5'd0:  id_byte = Version32[7:0];
      5'd1:  id_byte = Dim32[7:0];
      5'd2:  id_byte = Acc32[7:0];
      5'd3:  id_byte = Acc32[15:8];
      5'd4:  id_byte = IdAmem[7:0];
      5'd5:  id_byte = IdAmem[15:8];
      5'd6:  id_byte = IdAmem[23:16];
      5'd7:  id_byte = IdAmem[31:24];
      5'd8:  id_byte = IdWmem[7:0];
      5'd9:  id_byte = IdWmem[15:8];
      5'd10: id_byte = IdWmem[23:16];
      5'd11: id_byte = IdWmem[31:24];
      5'd12: id_byte = IdDmem[7:0];
      5'd13: id_byte = IdDmem[15:8];
      5'd14: id_byte = IdDmem[23:16];
      5'd15: id_byte = IdDmem[31:24];
      5'd16: id_byte = IdCnt[7:0];
      5'd17: id_byte = IdCnt[15:8];
      5'd18: id_byte = IdCnt[23:16];
      5'd19: id_byte = IdCnt[31:24];
      5'd20: id_byte = IdClock[7:0];
      5'd21: id_byte = IdClock[15:8];
      5'd22: id_byte = IdClock[23:16];
      5'd23: id_byte = IdClock[31:24];
      5'd24: id_byte = Cpb32[7:0];
      5'd25: id_byte = Cpb32[15:8];
      5'd26: id_byte = MaxPay32[7:0];
      5'd27: id_byte = MaxPay32[15:8];
      5'd28: id_byte = Layers32[7:0];
      default: id_byte = 8'd0;
    endcase
  end
  reg [15:0] cnt_sel;
  always @(*) begin
    case (idx_q[2:1])
      2'd0:    cnt_sel = n_crc_q;
      2'd1:    cnt_sel = n_frame_q;
      2'd2:    cnt_sel = n_timeout_q;
      default: cnt_sel = n_drop_q;
    endcase
  end

  // the run watchdog: the count reached limit * 2^20 (the count starts at -1, whose
  // bit 31 is set; a limit of 0 never stops a run)
  wire wd_hit = (cycles_q[27:20] == limit_q) && limit_q != 8'd0 && !cycles_q[31];

  // Remember the request as its reply starts (RESET forgets instead; a BUSY refusal is
  // not remembered, so that its retransmission is executed; INFER parts are told apart
  // by their tags instead).
  wire reply_start = state_q[BTxHdr] && tx_fire && (idx_q == 5'd0) && !ij_q;
  reg  reply_start_q;                  // ... a cycle later (timing): what follows from it
  wire rst_clear   = reply_start_q && cmd == CmdReset;

  // ---------------------------------------------------------------- executor
  reg part_done;   // an INFER part or a WRITE is written: the request moves on
  reg part_done_q;
  reg fin;         // the header's last field
  always @(*) begin
    state_d      = state_q;
    cmd_d        = cmd_q;
    seq_d        = seq_q;
    len_d        = len_q;
    rep_d        = rep_q;
    held_d       = held_q;
    status_d     = status_q;
    todo_d       = todo_q;
    fb_wait_d    = 1'b0;
    idx_d        = idx_q;
    space_d      = space_q;
    bad_sp_d     = bad_sp_q;
    bad_len_d    = bad_len_q;
    addr_hi_d    = addr_hi_q;
    oaddr_d      = oaddr_q;
    ocount_d     = ocount_q;
    olm1_d       = olm1_q;
    cur_d        = cur_q;
    ilm1_d       = ilm1_q;
    dstart_d     = dstart_q;
    limit_d      = limit_q;
    addr_d       = addr_q;
    count_d      = count_q;
    packed_d     = packed_q;
    lm1_d        = lm1_q;
    lane_d       = lane_q;
    grp_d        = grp_q;
    word_d       = word_q;
    ptr_d        = ptr_q;
    ij_d         = ij_q;
    tp_tag_d     = tp_tag_q;
    tp_last_d    = tp_last_q;
    tp_part_d    = tp_part_q;
    asm_d        = asm_q;
    asm_tag_d    = asm_tag_q;
    exp_d        = exp_q;
    done_v_d     = done_v_q;
    done_tag_d   = done_tag_q;
    wd_last_d    = wd_last_q;
    stop_d       = stop_q;
    release_bank = 1'b0;
    peek_d       = peek_q;
    crc_en       = 1'b0;
    addr_grp     = grp_end;
    part_done    = 1'b0;
    fin          = 1'b0;
    abort        = 1'b0;
    start        = 1'b0;
    tx_byte      = 8'h00;
    tx_valid     = 1'b0;

    (* parallel_case *)
    case (1'b1)
      state_q[BIdle]: if (rst_pend_q) begin
        // RESET: answered once the request before it has ended (a run is stopped)
        cmd_d    = {4'd0, CmdReset};
        seq_d    = rx_reset_seq;
        status_d = StatOk;
        todo_d   = 5'd0;
        idx_d    = 5'd0;
        state_d  = ExTxHdr;
      end else if (waiting) begin
        held_d  = 1'b1;
        ptr_d   = {PayW{1'b0}};
        idx_d   = 5'd0;
        state_d = ExHdr;
      end

      // The request's header, bank bytes 0-3, into word_q; then what it is.
      state_q[BHdr]: begin
        fb_wait_d = !fb_wait_q;
        if (fb_wait_q) begin
          word_d = fld;
          ptr_d  = ptr_q + 1'b1;
          idx_d  = idx_q + 5'd1;
          if (idx_q[1:0] == 2'd3) state_d = ExDecode;
        end
      end
      state_q[BDecode]: begin
        cmd_d     = h_cmd[6:0];
        seq_d     = h_seq;
        len_d     = h_len[PayW:0] + {{(PayW - 2){1'b0}}, 3'd4};   // where the payload ends
        rep_d     = h_repeat;
        idx_d     = 5'd0;
        space_d   = 2'd0;
        bad_sp_d  = 1'b0;
        bad_len_d = 1'b0;
        addr_hi_d = 1'b0;
        todo_d    = 5'd0;
        state_d   = ExTxHdr;
        if (h_long)           status_d = StatBadLen;
        else if (!h_known)    status_d = StatBadCmd;
        else if (!h_len_ok)   status_d = StatBadLen;
        else if (h_c == CmdRun && h_repeat)
          status_d = wd_last_q ? StatWatchdog : StatOk;      // answered again, not run
        else begin
          status_d = StatOk;
          if (h_c == CmdWrite || h_c == CmdRead || h_c == CmdRun || h_c == CmdInfer)
            state_d = ExField;
        end
      end

      // One header byte per two cycles (frame-buffer latency); a field is taken with its
      // last byte; the layout's last byte sets what the request does.
      state_q[BField]: begin
        fb_wait_d = !fb_wait_q && !f_idle;
        if (fb_wait_q || f_idle) begin
          word_d = fword;
          ptr_d  = ptr_next;
          idx_d = idx_q + 5'd1;
          fin   = f_end;
          if (f_space) begin
            space_d  = fb_rdata[1:0];
            bad_sp_d = (fb_rdata[7:2] != 6'd0) || (is_write && fb_rdata[1:0] == 2'd3);
          end
          if (f_oaddr) begin
            oaddr_d   = fld_addr;
            addr_hi_d = !is_infer && (fword >> AW) != 32'd0;
          end
          if (f_iaddr) cur_d = fld_addr;
          if (f_count) begin
            ocount_d  = fld_cnt[CW-1:0];
            // READ: 4·count + 1 <= max_payload; INFER: count + 5 <= max_payload
            bad_len_d = bad_len_q || (fld_cnt >> (CW - 1)) != 18'd0 ||
                        (is_infer && (&fld_cnt[CW-2:2]));
          end
          if (f_ilanes || f_olanes) bad_len_d = bad_len_q || (fb_rdata >> LaneW) != 8'd0;
          if (f_ilanes) ilm1_d = fb_rdata[LaneW-1:0];
          if (f_olanes) olm1_d = fb_rdata[LaneW-1:0];
          if (f_limit) limit_d = fb_rdata;
          if (f_tp) begin             // what the part is: decided in ExTag
            tp_tag_d  = fb_rdata[7:6];
            tp_last_d = fb_rdata[5];
            tp_part_d = fb_rdata[4:0];
            state_d   = ExTag;
          end
          if (fin && state_d[BField]) begin
            idx_d    = 5'd0;
            state_d  = ExLoad;
            dstart_d = ptr_next;
            if (is_write) todo_d = {2'b00, !rep_q, 2'b10};
            if (is_read)  todo_d = 5'b10001;
            if (is_run)   todo_d = 5'b01000;
          end
        end
      end

      // What an INFER part is: the next one of the input being written (or part 0 of a
      // new input), a part written already, the last part of the inference that ran
      // (answered again from memory), or one that must wait (BUSY).
      state_q[BTag]: begin
        state_d = ExTxHdr;
        idx_d   = 5'd0;
        if (tp_next) begin
          todo_d  = {tp_last_q, tp_last_q, 1'b1, 1'b1, tp_last_q};
          state_d = ExField;
          idx_d   = 5'd1;                                   // the input fields (part 0)
          if (tp_part_q != 5'd0) begin
            idx_d = 5'd6;                                   // the output fields (last)
            if (!tp_last_q) begin                           // neither: the data follow
              state_d  = ExLoad;
              dstart_d = ptr_q;
            end
          end
        end else if (m_done && tp_last_q && !wd_last_q) begin
          todo_d  = 5'b10001;                               // its outputs again
          state_d = ExField;
          idx_d   = 5'd6;                                   // (not its input fields)
          if (tp_part_q == 5'd0) ptr_d = 8;
        end else if (m_done && tp_last_q) begin
          status_d = StatWatchdog;
        end else if (!(m_asm && tp_part_q < exp_q) && !m_done) begin
          status_d = StatBusy;                              // else: written already
        end
      end

      // Load the walk for the next thing to do (lowest todo bit): the output side
      // (READ, INFER's outputs) or the input side (WRITE, INFER's part).
      state_q[BLoad]: begin
        lane_d   = {LaneW{1'b0}};
        grp_d    = 1'b0;
        packed_d = is_infer;
        ptr_d    = dstart_q;
        idx_d    = 5'd0;
        if (todo_q[TOutChk] || !(todo_q[TInChk] || todo_q[TInWr])) begin
          addr_d  = oaddr_q;
          count_d = ocount_q;
          lm1_d   = is_infer ? olm1_q : 3;
        end else begin
          addr_d    = is_infer ? cur_q : oaddr_q;
          count_d   = data_n[CW-1:0];
          lm1_d     = is_infer ? ilm1_q : 3;
          bad_len_d = bad_len_q || data_n[PayW + 1];
        end
        if (todo_q[TOutChk] || todo_q[TInChk]) state_d = ExWalk;
        else if (todo_q[TInWr]) begin
          if (no_data_q) part_done = 1'b1;                       // nothing to write
          else         state_d = ExWrFetch;
        end else if (todo_q[TRun])    state_d = ExStart;
        else                          state_d = ExTxHdr;
      end

      // The dry walk: one byte per cycle, addresses only.
      state_q[BWalk]: begin
        if (cnt_zero) state_d = ExCheck;
        else begin
          count_d = count_q - 1'b1;
          lane_d  = grp_end ? {LaneW{1'b0}} : lane_inc;
          if (hw_end) addr_d = addr_inc;
        end
      end

      // Check: a cycle for fits_q to follow the walk.
      state_q[BCheck]: begin
        if (bad_sp_q)
          {status_d, state_d} = {StatBadSpace, ExTxHdr};
        else if (bad_len_q || (is_infer && todo_q[TInChk] && !todo_q[TOutChk] && !tp_last_q &&
                               lane_q != {LaneW{1'b0}}))        // a part ends mid-word
          {status_d, state_d} = {StatBadLen, ExTxHdr};
        else if (!fits_q || addr_hi_q)
          {status_d, state_d} = {StatBadAddr, ExTxHdr};
        else begin
          todo_d  = todo_next;
          state_d = ExLoad;
        end
      end

      // Write walk: bytes shift into the bus word; a host word goes out when it is full,
      // or, shifted into place by fill steps, when the memory word or the data ends.
      state_q[BWrFetch]: begin
        fb_wait_d = !fb_wait_q;
        if (fb_wait_q) begin
          word_d  = fld;
          ptr_d   = ptr_q + 1'b1;
          count_d = count_q - 1'b1;
          grp_d   = grp_q || grp_end;
          lane_d  = (grp_end && lane_q[1:0] == 2'd3) ? {LaneW{1'b0}} : lane_inc;
          if (lane_q[1:0] == 2'd3)  state_d = ExWrBus;
          else if (grp_end || cnt_one) state_d = ExFill;
        end
      end
      state_q[BFill]: begin
        word_d = fld;
        lane_d = lane_inc;
        if (lane_q[1:0] == 2'd3) begin
          lane_d  = {LaneW{1'b0}};
          state_d = ExWrBus;
        end
      end
      // one bus request (while fb_wait_q is low), then wait for its acknowledge
      state_q[BWrBus]: if (bus_ack_i) begin
        addr_grp = grp_q;
        addr_d   = addr_inc;
        grp_d    = 1'b0;
        if (cnt_zero) part_done = 1'b1;
        else          state_d   = ExWrFetch;
      end else begin
        fb_wait_d = 1'b1;
      end

      state_q[BStart]: begin
        start   = 1'b1;
        peek_d  = 1'b0;
        idx_d   = 5'd0;
        ptr_d   = {PayW{1'b0}};
        state_d = ExRun;
      end
      // The run: a RESET stops it (and is answered from ExIdle), so does the watchdog;
      // either waits until the core's busy has fallen. A frame waiting meanwhile is looked
      // at (its cmd, then its seq, into word_q): an IDENTIFY or RUN is answered BUSY at
      // once and leaves the queue; anything else waits for the run.
      state_q[BRun]: begin
        if (stop_q) begin
          abort = busy_q;
          if (!busy_q) begin
            stop_d  = 1'b0;
            state_d = rst_pend_q ? ExIdle : ExTxHdr;
          end
        end else if (rst_pend_q) begin
          abort   = 1'b1;
          stop_d  = 1'b1;
        end else if (wd_q) begin
          abort     = 1'b1;
          stop_d    = 1'b1;
          wd_last_d = 1'b1;
          status_d  = StatWatchdog;
        end else if (!run_q) begin
          wd_last_d = 1'b0;
          todo_d    = todo_next;
          state_d   = ExLoad;
        end else if (waiting && !peek_q) begin
          fb_wait_d = !fb_wait_q;
          if (fb_wait_q) begin
            word_d = fld;
            ptr_d  = ptr_q + 1'b1;
            idx_d  = idx_q + 5'd1;
            if (idx_q[0]) begin
              peek_d = 1'b1;
              idx_d  = 5'd0;
              ptr_d  = {PayW{1'b0}};
              if (pk_probe) begin
                ij_d    = 1'b1;
                state_d = ExTxHdr;
              end
            end
          end
        end
      end

      state_q[BTxHdr]: begin
        tx_valid = 1'b1;
        case (idx_q[2:0])
          3'd0:    tx_byte = 8'hA5;
          3'd1:    tx_byte = {1'b1, ij_q ? pk_cmd : cmd_q};
          3'd2:    tx_byte = ij_q ? word_q[31:24] : seq_q;
          3'd3:    tx_byte = rsp_len16[7:0];
          3'd4:    tx_byte = rsp_len16[15:8];
          default: tx_byte = {5'd0, ij_q ? StatBusy : status_q};
        endcase
        if (tx_fire) begin
          crc_en = (idx_q != 5'd0);
          idx_d  = idx_q + 5'd1;
          if (idx_q[2:0] == 3'd5) begin
            idx_d   = 5'd0;
            state_d = after_hdr;
          end
        end
      end
      state_q[BTxId]: begin
        tx_valid = 1'b1;
        tx_byte  = id_byte;
        if (tx_fire) begin
          crc_en = 1'b1;
          idx_d  = idx_q + 5'd1;
          if (idx_q == IdConstLast) begin
            idx_d   = 5'd0;
            state_d = ExTxCnt;
          end
        end
      end
      // the error counters (bytes 0-7), then amem_ext (u32, bytes 8-11)
      state_q[BTxCnt]: begin
        tx_valid = 1'b1;
        tx_byte  = idx_q[3] ? IdAmemExt[{idx_q[1:0], 3'b000} +: 8] :
                   idx_q[0] ? cnt_sel[15:8] : cnt_sel[7:0];
        if (tx_fire) begin
          crc_en = 1'b1;
          idx_d  = idx_q + 5'd1;
          if (idx_q[3] && idx_q[1:0] == 2'd3) begin
            idx_d   = 5'd0;
            state_d = ExTxCrc;
          end
        end
      end
      state_q[BTxRdBus]: if (bus_ack_i) begin
        word_d  = bus_rdata_i;
        state_d = ExTxWord;
      end else begin
        fb_wait_d = 1'b1;
      end
      // Read walk: the bytes of the bus word leave from its low end, then the next host
      // word is read.
      state_q[BTxWord]: begin
        tx_valid = 1'b1;
        tx_byte  = word_q[7:0];
        if (tx_fire) begin
          crc_en  = 1'b1;
          word_d  = fld;
          count_d = count_q - 1'b1;
          lane_d  = grp_end ? {LaneW{1'b0}} : lane_inc;
          if (hw_end) addr_d = addr_inc;
          if (cnt_one)     state_d = after_words;
          else if (hw_end) state_d = ExTxRdBus;
        end
      end
      state_q[BTxCyc]: begin
        tx_valid = 1'b1;
        tx_byte  = cycles_q[{idx_q[1:0], 3'b000} +: 8];
        if (tx_fire) begin
          crc_en = 1'b1;
          idx_d  = idx_q + 5'd1;
          if (idx_q[1:0] == 2'd3) begin
            idx_d   = 5'd0;
            state_d = ExTxCrc;
          end
        end
      end
      state_q[BTxCrc]: begin
        tx_valid = 1'b1;
        tx_byte  = idx_q[0] ? tx_crc[15:8] : tx_crc[7:0];
        if (tx_fire) begin
          idx_d = idx_q + 5'd1;
          if (idx_q[0]) begin
            idx_d   = 5'd0;
            state_d = ExIdle;
            if (ij_q) begin            // back to the run; the probe leaves the queue
              ij_d         = 1'b0;
              peek_d       = 1'b0;
              release_bank = 1'b1;
              state_d      = ExRun;
            end
          end
        end
      end
      default: state_d = ExIdle;
    endcase

    // A WRITE or an INFER part is written. INFER: the cursor moves on (a part ends with
    // a whole memory word) and, a cycle later (timing), the parts' state follows; the
    // last part runs next.
    if (part_done) begin
      todo_d  = todo_next;
      state_d = ExLoad;
      if (is_infer && state_q[BWrBus]) cur_d = addr_inc;
    end
    if (part_done_q) begin
      if (is_infer) begin
        if (tp_last_q) begin
          asm_d      = 1'b0;
          done_v_d   = 1'b1;
          done_tag_d = tp_tag_q;
        end else begin
          asm_d     = 1'b1;
          asm_tag_d = tp_tag_q;
          exp_d     = tp_part_q + 5'd1;
        end
      end
    end
    // RESET forgets the parts and the last run
    if (rst_clear) begin
      asm_d     = 1'b0;
      done_v_d  = 1'b0;
      wd_last_d = 1'b0;
    end

    // The bank is released when the reply starts, or the program: its payload has been
    // used up (RUN and INFER keep their fields in registers).
    if (held_q && (state_q[BStart] || (state_q[BTxHdr] && !ij_q))) begin
      release_bank = 1'b1;
      held_d       = 1'b0;
    end
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q     <= ExIdle;
      held_q      <= 1'b0;
      ij_q        <= 1'b0;
      asm_q       <= 1'b0;
      done_v_q    <= 1'b0;
      wd_last_q   <= 1'b0;
      stop_q      <= 1'b0;
      peek_q      <= 1'b0;
      crc_clear_q <= 1'b0;
      reply_start_q <= 1'b0;
      part_done_q   <= 1'b0;
      crc_en_q    <= 1'b0;
    end else begin
      state_q     <= state_d;
      held_q      <= held_d;
      ij_q        <= ij_d;
      asm_q       <= asm_d;
      done_v_q    <= done_v_d;
      wd_last_q   <= wd_last_d;
      stop_q      <= stop_d;
      peek_q      <= peek_d;
      crc_clear_q <= state_q[BTxHdr] && tx_fire && (idx_q == 5'd0);
      reply_start_q <= reply_start;
      part_done_q   <= part_done;
      crc_en_q    <= crc_en;
    end
  end

  // Datapath registers: no reset, every one is loaded by the dispatch (or, for the
  // fields and the walk, before it is used), which only leaves ExIdle.
  always @(posedge clk_i) begin
    cmd_q      <= cmd_d;
    seq_q      <= seq_d;
    len_q      <= len_d;
    rep_q      <= rep_d;
    status_q   <= status_d;
    todo_q     <= todo_d;
    fb_wait_q  <= fb_wait_d;
    idx_q      <= idx_d;
    space_q    <= space_d;
    bad_sp_q   <= bad_sp_d;
    bad_len_q  <= bad_len_d;
    addr_hi_q  <= addr_hi_d;
    oaddr_q    <= oaddr_d;
    ocount_q   <= ocount_d;
    olm1_q     <= olm1_d;
    cur_q      <= cur_d;
    ilm1_q     <= ilm1_d;
    dstart_q   <= dstart_d;
    limit_q    <= limit_d;
    addr_q     <= addr_d;
    count_q    <= count_d;
    packed_q   <= packed_d;
    lm1_q      <= lm1_d;
    lane_q     <= lane_d;
    grp_q      <= grp_d;
    word_q     <= word_d;
    ptr_q      <= ptr_d;
    tp_tag_q   <= tp_tag_d;
    tp_last_q  <= tp_last_d;
    tp_part_q  <= tp_part_d;
    asm_tag_q  <= asm_tag_d;
    exp_q      <= exp_d;
    done_tag_q <= done_tag_d;
    fits_q     <= room[AW+1];
    no_data_q  <= (data_n == {(PayW + 2){1'b0}});
    rsp_len_q  <= rsp_len;
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      busy_q <= 1'b0;
      done_q <= 1'b0;
    end else begin
      busy_q <= busy_i;
      done_q <= done_i;
    end
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni)          tx_full_q <= 1'b0;
    else if (tx_fire)     tx_full_q <= 1'b1;
    else if (tx_ready_i)  tx_full_q <= 1'b0;
  end
  always @(posedge clk_i) if (tx_fire) tx_buf_q <= tx_byte;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni)          last_valid_q <= 1'b0;
    else if (reply_start_q) last_valid_q <= known && cmd != CmdReset && status_q != StatBusy &&
                                            !is_infer;
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni)        rst_pend_q <= 1'b0;
    else if (rx_reset)  rst_pend_q <= 1'b1;
    else if (rst_clear) rst_pend_q <= 1'b0;
  end

  // The run: cycles counted from the start pulse (set to -1: done_q is a cycle late) to
  // done; the watchdog is sticky, so that a probe answered meanwhile cannot hide it.
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      run_q <= 1'b0;
      wd_q  <= 1'b0;
    end else begin
      if (start)                run_q <= 1'b1;
      else if (done_q || abort) run_q <= 1'b0;
      if (start)      wd_q <= 1'b0;
      else if (run_q) wd_q <= wd_q || wd_hit;
    end
  end
  always @(posedge clk_i) begin
    if (start)      cycles_q <= 32'hFFFF_FFFF;
    else if (run_q) cycles_q <= cycles_q + 32'd1;
  end

  // Error counters, saturating at 65535 (the carry out of the increment holds them),
  // cleared by RESET.
  wire [16:0] n_crc_inc     = {1'b0, n_crc_q} + 17'd1;
  wire [16:0] n_frame_inc   = {1'b0, n_frame_q} + 17'd1;
  wire [16:0] n_timeout_inc = {1'b0, n_timeout_q} + 17'd1;
  wire [16:0] n_drop_inc    = {1'b0, n_drop_q} + 17'd1;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      n_crc_q     <= 16'd0;
      n_frame_q   <= 16'd0;
      n_timeout_q <= 16'd0;
      n_drop_q    <= 16'd0;
    end else if (rst_clear) begin
      n_crc_q     <= 16'd0;
      n_frame_q   <= 16'd0;
      n_timeout_q <= 16'd0;
      n_drop_q    <= 16'd0;
    end else begin
      if (rx_crc_err && !n_crc_inc[16])     n_crc_q     <= n_crc_inc[15:0];
      if (rx_frame_err && !n_frame_inc[16]) n_frame_q   <= n_frame_inc[15:0];
      if (rx_timeout && !n_timeout_inc[16]) n_timeout_q <= n_timeout_inc[15:0];
      if (rx_drop && !n_drop_inc[16])       n_drop_q    <= n_drop_inc[15:0];
    end
  end

  wire [31:0] addr32 = {{(31 - AW){1'b0}}, addr_q};
  assign tx_byte_o   = tx_buf_q;
  assign tx_valid_o  = tx_full_q;
  assign bus_req_o   = (state_q[BWrBus] || state_q[BTxRdBus]) && !fb_wait_q;
  assign bus_we_o    = state_q[BWrBus];
  assign bus_space_o = space_q;
  assign bus_addr_o  = addr32[23:0];
  assign bus_wdata_o = word_q;
  assign start_o     = start;
  assign core_rst_o  = abort;
  assign idle_o      = rx_idle && queued == 2'd0 && state_q[BIdle] && !tx_full_q && !rst_pend_q;
  assign act_o       = rx_commit || rx_reset || reply_start;
  assign err_o       = rx_crc_err || rx_frame_err || rx_timeout || rx_drop;

  // bits that only feed checks, or that a configuration does not use
  wire unused_link = ^{addr32[31:24], fld[15:0], fld_cnt[17:CW], data_n[PayW:CW-1],
                       tp_part_q, h_len[14:PayW+1]};

`ifndef SYNTHESIS
  // Interface rules: sizes must fit the 24-bit bus address, payload the 16-bit length,
  // lanes one nibble, INFER's AMEM addresses 16 bits.
  initial begin
    if (MaxSp > (1 << 24))
      $fatal(1, "npu_link: a space is larger than the 24-bit bus address");
    if (MaxPayload < 32 || MaxPayload > 16384 || (1 << PayW) != MaxPayload)
      $fatal(1, "npu_link: MaxPayload must be a power of two in [32, 16384]");
    if (Dim < 4 || Dim > 16 || (1 << LaneW) != Dim)
      $fatal(1, "npu_link: Dim must be a power of two in [4, 16]");
    if (AmemAll > 65536)
      $fatal(1, "npu_link: INFER addresses AMEM in 16 bits");
  end
  // Rules of the structure above (verilator --assert in every simulation; proven for any
  // input by formal/link.ys): the executor's state is one-hot; at most two frames are
  // committed and not yet released, the one the executor holds among them; the receiver
  // writes only a bank that holds no committed frame, so the executor never reads a byte
  // being written (npu_frame_buf's rule).
  reg a_live_q;                              // out of reset: the checks skip reset
  always @(posedge clk_i or negedge rst_ni)
    if (!rst_ni) a_live_q <= 1'b0;
    else         a_live_q <= 1'b1;
  always @(posedge clk_i) if (a_live_q) begin
    assert (state_q != {NSt{1'b0}} && (state_q & (state_q - 1'b1)) == {NSt{1'b0}});
    assert (queued != 2'd3 && (!held_q || queued != 2'd0));
    assert (!rx_wr_en || queued == 2'd0 || wr_ptr_q[0] != rd_ptr_q[0]);
  end
  // The core acknowledges a bus request no earlier than the next cycle.
  always @(posedge clk_i) if (a_live_q) assert (!(bus_req_o && bus_ack_i));
`endif
endmodule
`default_nettype wire
