`default_nettype none
// npu_link: the device side of the host link (docs/ARCHITECTURE.md section 6). It turns
// request frames from the UART into npu_core host-bus transfers and program runs, and
// sends one reply frame per request.
//
// Structure: npu_link_rx parses frames into a two-bank frame buffer (npu_frame_buf, one
// block RAM) and keeps the header of the last good frame (CRC checked). The executor
// below takes that frame when it is idle, validates it, acts on it and streams the reply
// through npu_uart_tx, computing the reply CRC on the way. The executor reads the
// payload's fields from the frame buffer when it needs them (INFER's out_addr and
// out_count twice: to check them, and to read the outputs after the run), so its bank
// stays its own until the reply starts. The receiver meanwhile fills the other bank: a
// host that keeps two requests in flight is bound by the wire, not by the round trip.
// A frame that starts while both banks are taken, or while a received frame still waits
// for the executor, is dropped (and counted); the host retransmits it.
//
// Every request gets a reply: status OK, or an error code with no body (BAD_CMD,
// BAD_ADDR for an address range outside the space — refused, never wrapped —, BAD_LEN,
// BUSY, BAD_SPACE). A request with the same cmd and seq as the last one answered is
// validated and answered again but not executed: WRITE data is not written again and
// RUN/INFER do not start the core (their cycles are the stored count of that run);
// READ/INFER data are re-read from memory, which nothing has touched since.
//
// Area (the link side fits ~900 iCE40 logic cells): addresses are held and counted in
// AW bits, clog2(largest space) rounded up to whole bytes (a non-zero byte above them
// makes the address out of range), word counts in the CW bits a frame can need; the
// fields shift in from the frame buffer a byte at a time, the reply is sent byte by byte
// from the registers that hold its fields, the error counters are 8 bits. Only the bus
// word and the cycle counter are 32 bits wide.
//
// Core side: the npu_core host port of ARCHITECTURE section 5 (bus_req_o is a one-cycle
// strobe; the link waits for bus_ack_i, which must come at least one cycle later).
// Sizes are in 32-bit host words per space. busy_i and done_i are registered on entry.
//
// Timing (48 MHz on the iCE40UP5K): the executor's states are one-hot, the waiting
// request's dispatch is decoded a cycle ahead, reply bytes pass a one-byte buffer on
// their way to the UART, and the core's busy/done are registered; the fields' range
// checks take the cycles of ExCheck.
module npu_link #(
  parameter integer Version      = 1,
  parameter integer Dim          = 8,
  parameter integer AccDepth     = 1024,
  parameter integer MaxLayers    = 16,
  parameter integer AmemWords    = 32768,   // host words (32 bit) of each space
  parameter integer WmemWords    = 131072,
  parameter integer DmemWords    = 256,
  parameter integer CntWords     = 32,
  parameter integer ClockHz      = 12000000,
  parameter integer ClksPerBit   = 104,
  parameter integer MaxPayload   = 1024     // bytes of request payload per frame
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
  // status
  output wire        idle_o,   // nothing received, queued, executing or being sent
  output wire        act_o,    // pulse: a good frame arrived or a reply started
  output wire        err_o     // pulse: bad CRC, framing error, watchdog or dropped frame
);
  localparam integer PayW   = $clog2(MaxPayload);
  localparam integer NW     = PayW - 2;   // word counts: a frame holds < 2^NW words
  localparam integer MaxAW  = (AmemWords > WmemWords) ? AmemWords : WmemWords;
  localparam integer MaxDC  = (DmemWords > CntWords) ? DmemWords : CntWords;
  localparam integer MaxSp  = (MaxAW > MaxDC) ? MaxAW : MaxDC;
  // address bits, whole bytes: every space is <= 2^AW words
  localparam integer AWB    = 8 * (($clog2(MaxSp) + 7) / 8);
  localparam integer AW     = (AWB < 16) ? 16 : AWB;
  localparam integer AB     = AW / 8;             // address bytes kept of the 4 sent
  localparam integer CW     = 8 * ((NW + 8) / 8); // count register, wider than NW
  localparam integer CB     = CW / 8;             // count bytes kept of the 2 sent

  localparam [2:0] CmdIdentify = 3'd1, CmdWrite = 3'd2, CmdRead = 3'd3, CmdRun = 3'd4,
                   CmdInfer = 3'd5, CmdReset = 3'd6;
  localparam [2:0] StatOk = 3'd0, StatBadCmd = 3'd1, StatBadAddr = 3'd2, StatBadLen = 3'd3,
                   StatBusy = 3'd4, StatBadSpace = 3'd5;

  // 32-bit copies of the integer parameters, sliced to each field's width below
  localparam [31:0] Version32 = Version,   Dim32 = Dim,         Acc32 = AccDepth;
  localparam [31:0] Layers32  = MaxLayers, Cpb32 = ClksPerBit,  MaxPay32 = MaxPayload;
  localparam [31:0] IdAmem    = AmemWords;
  localparam [31:0] IdWmem    = WmemWords;
  localparam [31:0] IdDmem    = DmemWords;
  localparam [31:0] IdCnt     = CntWords;
  localparam [31:0] IdClock   = ClockHz;

  // space sizes in AW+1 bits, so that address + count cannot wrap
  localparam [AW:0] AmemSize = IdAmem[AW:0];
  localparam [AW:0] WmemSize = IdWmem[AW:0];
  localparam [AW:0] DmemSize = IdDmem[AW:0];
  localparam [AW:0] CntSize  = IdCnt[AW:0];

  localparam [4:0]  IdConstLast = 5'd28;   // the constant part of the body: 29 bytes
  localparam [15:0] IdRspLen    = 16'd38;  // status + 37 bytes
  localparam [PayW-1:0] PtrOut  = 4;       // INFER: out_addr, out_count
  localparam [PayW-1:0] PtrData = 10;      // INFER: the input words
  localparam [NW-1:0]   HdrWrite = 1, HdrInfer = 2;  // header words before the data
  localparam [31:0]     AddrLast32 = AB - 1;
  localparam [1:0]      AddrLast = AddrLast32[1:0];   // last address byte kept

  // Executor states, one-hot (timing: a state test is one flip-flop): Ex* is the state
  // vector, B* its bit.
  localparam integer BIdle = 0, BSpace = 1, BAddr = 2, BCount = 3, BCheck = 4, BWrFetch = 5,
                     BWrBus = 6, BStart = 7, BRun = 8, BTxHdr = 9, BTxId = 10, BTxCnt = 11,
                     BTxRdBus = 12, BTxWord = 13, BTxCyc = 14, BTxCrc = 15;
  localparam [15:0] ExIdle = 16'd1 << BIdle, ExSpace = 16'd1 << BSpace,
                    ExAddr = 16'd1 << BAddr, ExCount = 16'd1 << BCount,
                    ExCheck = 16'd1 << BCheck, ExWrFetch = 16'd1 << BWrFetch,
                    ExWrBus = 16'd1 << BWrBus, ExStart = 16'd1 << BStart,
                    ExRun = 16'd1 << BRun, ExTxHdr = 16'd1 << BTxHdr,
                    ExTxId = 16'd1 << BTxId, ExTxCnt = 16'd1 << BTxCnt,
                    ExTxRdBus = 16'd1 << BTxRdBus, ExTxWord = 16'd1 << BTxWord,
                    ExTxCyc = 16'd1 << BTxCyc, ExTxCrc = 16'd1 << BTxCrc;
  // INFER phases: check out_addr/out_count, check and write the input, reply
  localparam [1:0] PhOut = 2'd0, PhIn = 2'd1, PhReply = 2'd2;

  // ---------------------------------------------------------------- receiver and banks
  wire            rx_wr_en, rx_commit, rx_overlong, rx_idle;
  wire [PayW-1:0] rx_wr_addr;
  wire [7:0]      rx_wr_data, rx_cmd, rx_seq;
  wire [PayW:0]   rx_len;
  wire            rx_crc_err, rx_frame_err, rx_timeout, rx_drop;

  // Banks: wr_ptr counts committed frames, rd_ptr released ones. The receiver may store
  // a frame when no committed frame waits for the executor (its header is held in
  // npu_link_rx) and a bank is free.
  reg  [1:0] wr_ptr_q, rd_ptr_q;
  reg        held_q, held_d;         // the executor owns bank rd_ptr_q[0]
  wire [1:0] queued    = wr_ptr_q - rd_ptr_q;
  wire       bank_free = (queued == 2'd0) || (queued == 2'd1 && held_q);
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
    .cmd_o       (rx_cmd),
    .seq_o       (rx_seq),
    .len_o       (rx_len),
    .overlong_o  (rx_overlong),
    .idle_o      (rx_idle),
    .crc_err_o   (rx_crc_err),
    .frame_err_o (rx_frame_err),
    .timeout_o   (rx_timeout),
    .drop_o      (rx_drop)
  );

  reg  [PayW-1:0] ptr_q, ptr_d;      // payload byte the executor reads next
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

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wr_ptr_q <= 2'd0;
      rd_ptr_q <= 2'd0;
    end else begin
      if (rx_commit)    wr_ptr_q <= wr_ptr_q + 2'd1;
      if (release_bank) rd_ptr_q <= rd_ptr_q + 2'd1;
    end
  end

  // ---------------------------------------------------------------- executor
  reg [15:0]   state_q, state_d;
  reg [1:0]    ph_q, ph_d;           // INFER phase
  reg [6:0]    cmd_q, cmd_d;         // the request's cmd (bit 7 is the reply flag)
  reg [7:0]    seq_q, seq_d;
  reg [NW-1:0] words_q, words_d;     // WRITE/INFER: the data words (payload length / 4
                                     // less the header's words; meaningless otherwise)
  reg          rep_q, rep_d;         // a repeated request: answer, do not execute
  reg [2:0]    status_q, status_d;
  reg          fb_wait_q, fb_wait_d; // frame-buffer read latency; bus request sent
  reg [4:0]    idx_q, idx_d;         // byte of the current field or reply part
  reg [1:0]    space_q, space_d;
  reg          space_bad_q, space_bad_d;
  reg [AW-1:0] addr_q, addr_d;
  reg          addr_hi_q, addr_hi_d; // the address field has bits at or above AW
  reg [CW-1:0] count_q, count_d;
  reg          count_hi_q, count_hi_d;
  reg [31:0]   word_q, word_d;
  reg [31:0]   cycles_q;          // cycles of the last run, start to done
  // The core's busy and done, registered (timing: they come from across the chip). The
  // executor sees done a cycle late, and its cycle counter starts at -1 to match.
  reg          busy_q, done_q;
  // cmd_q and seq_q are those of the last request answered until the next dispatch
  reg          last_valid_q;        // ... and it is remembered for repeats
  // error counters reported by IDENTIFY (u16 fields, saturating at 255)
  reg [7:0]    n_crc_q, n_frame_q, n_timeout_q, n_drop_q;

  reg        crc_clear, crc_en, step;
  reg        step_q;               // step, applied a cycle later (timing)
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

  wire [2:0] cmd       = cmd_q[2:0];
  reg        is_write, is_read, is_infer;   // cmd decoded at the dispatch (timing)
  wire       known     = (cmd_q[6:3] == 4'd0) && (cmd != 3'd0) && (cmd != 3'd7);

  // the request waiting in the receiver
  wire [2:0] rx_c      = rx_cmd[2:0];
  wire       rx_known  = (rx_cmd[7:3] == 5'd0) && (rx_c != 3'd0) && (rx_c != 3'd7);
  reg        rx_len_ok;
  always @(*) begin
    case (rx_c)
      CmdRead:  rx_len_ok = (rx_len == 7);
      CmdWrite: rx_len_ok = (rx_len[1:0] == 2'd1) && (rx_len[PayW:2] != 0);  // 5 + 4k
      CmdInfer: rx_len_ok = (rx_len[1:0] == 2'd2) && (rx_len[PayW:3] != 0);  // 10 + 4k
      default:  rx_len_ok = (rx_len == 0);
    endcase
  end
  wire rx_uses_core = (rx_c == CmdWrite) || (rx_c == CmdRead) || (rx_c == CmdRun) ||
                      (rx_c == CmdInfer);
  wire rx_repeat    = last_valid_q && rx_known && rx_c == cmd && rx_seq == seq_q;
  always @(posedge clk_i)
    if (state_q[BIdle]) {is_write, is_read, is_infer} <=
      {rx_c == CmdWrite, rx_c == CmdRead, rx_c == CmdInfer};

  // The dispatch of the waiting request, decided a cycle ahead (timing). The header is
  // final before the commit that makes the request wait and then holds (no frame is
  // stored while one waits); cmd_q, seq_q and last_valid_q change only while the
  // executor is not idle, and the core is not busy then.
  reg [2:0]      dsp_status_q, dsp_status;
  reg [15:0]     dsp_state_q, dsp_state;
  reg            dsp_ptr_out_q, dsp_rep_q;
  always @(*) begin
    dsp_status = StatOk;
    dsp_state  = ExTxHdr;
    if (rx_overlong)                 dsp_status = StatBadLen;
    else if (!rx_known)              dsp_status = StatBadCmd;
    else if (!rx_len_ok)             dsp_status = StatBadLen;
    else if (busy_q && rx_uses_core) dsp_status = StatBusy;
    else begin
      case (rx_c)
        CmdWrite, CmdRead: dsp_state = ExSpace;
        CmdRun:            dsp_state = rx_repeat ? ExTxHdr : ExStart;
        CmdInfer:          dsp_state = ExAddr;
        default:           dsp_state = ExTxHdr;
      endcase
    end
  end
  always @(posedge clk_i) begin
    dsp_status_q  <= dsp_status;
    dsp_state_q   <= dsp_state;
    dsp_ptr_out_q <= dsp_state[BAddr];   // INFER: out_addr, out_count first
    dsp_rep_q     <= rx_repeat;
  end

  // Fields arrive byte by byte from the frame buffer (little-endian): the first AB
  // (CB) bytes shift into the register from the top, later ones only need to be zero.
  wire [AW-1:0] addr_shift = {fb_rdata, addr_q[AW-1:8]};
  wire [CW-1:0] count_shift;
  if (CW == 8) begin : g_count_byte
    assign count_shift = fb_rdata;
  end else begin : g_count_bytes
    assign count_shift = {fb_rdata, count_q[CW-1:8]};
  end
  wire [NW-1:0] n_words   = count_q[NW-1:0];   // once count_hi_q/count_q[CW-1:NW] are 0

  // [addr, addr + count) inside the space, without wrap-around
  reg [AW:0] space_size;
  always @(*) begin
    case (space_q)
      2'd0:    space_size = AmemSize;
      2'd1:    space_size = WmemSize;
      2'd2:    space_size = DmemSize;
      default: space_size = CntSize;
    endcase
  end
  // Pipelined (ExCheck takes three cycles): the add and compare chains are a clock
  // period each at 48 MHz.
  reg  [AW:0] range_end_q;
  reg         fits_q;
  reg         len_bad_q, no_words_q;   // the count checks, registered alike
  wire        last_word = (n_words == {{(NW - 1){1'b0}}, 1'b1});

  // Reply payload length: status + body (no body after an error). Every reply but
  // IDENTIFY's is 1 + 4·(words): READ's data, INFER's outputs and cycles, RUN's cycles.
  wire          ok        = (status_q == StatOk);
  wire          id_reply  = ok && cmd == CmdIdentify;
  reg  [NW:0]   rsp_words_q;   // registered (timing): stable long before header byte 3
  wire [NW:0]   rsp_words = !ok ? {(NW + 1){1'b0}} :
                            (cmd == CmdRun) ? {{NW{1'b0}}, 1'b1} :
                            (is_read || is_infer) ? {1'b0, n_words} + {{NW{1'b0}}, is_infer} :
                            {(NW + 1){1'b0}};
  wire [15:0]   rsp_len   = id_reply ? IdRspLen : {{(13 - NW){1'b0}}, rsp_words_q, 2'b01};

  // what follows the status byte, and the reply data words
  reg [15:0]  after_hdr;
  wire [15:0] after_words = is_infer ? ExTxCyc : ExTxCrc;
  always @(*) begin
    after_hdr = ExTxCrc;
    if (status_q == StatOk) begin
      case (cmd)
        CmdIdentify:       after_hdr = ExTxId;
        CmdRun:            after_hdr = ExTxCyc;
        CmdRead, CmdInfer: after_hdr = (n_words != 0) ? ExTxRdBus : after_words;
        default:           after_hdr = ExTxCrc;
      endcase
    end
  end

  // IDENTIFY body: byte k at bits [8k+7:8k] (little-endian fields), the constant part
  // (padded to 32 bytes for the 5-bit index), then the error counters
  wire [255:0] id_const = {24'd0, Layers32[7:0], MaxPay32[15:0], Cpb32[15:0], IdClock, IdCnt,
                           IdDmem, IdWmem, IdAmem, Acc32[15:0], Dim32[7:0], Version32[7:0]};
  wire [31:0]  cnt_vec  = {n_drop_q, n_timeout_q, n_frame_q, n_crc_q};

  always @(*) begin
    state_d      = state_q;
    ph_d         = ph_q;
    cmd_d        = cmd_q;
    seq_d        = seq_q;
    words_d      = words_q;
    rep_d        = rep_q;
    held_d       = held_q;
    status_d     = status_q;
    fb_wait_d    = 1'b0;
    idx_d        = idx_q;
    space_d      = space_q;
    space_bad_d  = space_bad_q;
    addr_d       = addr_q;
    addr_hi_d    = addr_hi_q;
    count_d      = count_q;
    count_hi_d   = count_hi_q;
    word_d       = word_q;
    ptr_d        = ptr_q;
    release_bank = 1'b0;
    crc_clear    = 1'b0;
    crc_en       = 1'b0;
    step         = 1'b0;      // one word done: next address, one word fewer
    tx_byte      = 8'h00;
    tx_valid     = 1'b0;

    (* parallel_case *)
    case (1'b1)
      state_q[BIdle]: if (queued != 2'd0) begin
        cmd_d       = rx_cmd[6:0];
        seq_d       = rx_seq;
        words_d     = rx_len[PayW-1:2] - ((rx_c == CmdInfer) ? HdrInfer : HdrWrite);
        rep_d       = dsp_rep_q;
        held_d      = 1'b1;
        ptr_d       = dsp_ptr_out_q ? PtrOut : {PayW{1'b0}};
        idx_d       = 5'd0;
        space_d     = 2'd0;
        space_bad_d = 1'b0;
        ph_d        = PhOut;
        status_d    = dsp_status_q;
        state_d     = dsp_state_q;
      end

      state_q[BSpace]: begin
        fb_wait_d = !fb_wait_q;
        if (fb_wait_q) begin
          space_d     = fb_rdata[1:0];
          space_bad_d = (fb_rdata[7:2] != 6'd0) || (is_write && fb_rdata[1:0] == 2'd3);
          ptr_d       = ptr_q + 1'b1;
          state_d     = ExAddr;
        end
      end

      state_q[BAddr]: begin  // 4 bytes; those above the first AB only mark the address out of range
        fb_wait_d = !fb_wait_q;
        if (fb_wait_q) begin
          if (idx_q[1:0] <= AddrLast) addr_d    = addr_shift;
          else                        addr_hi_d = addr_hi_q || (fb_rdata != 8'd0);
          if (idx_q[1:0] == 2'd0)     addr_hi_d = 1'b0;
          ptr_d     = ptr_q + 1'b1;
          idx_d     = idx_q + 5'd1;
          if (idx_q[1:0] == 2'd3) begin
            idx_d = 5'd0;
            // WRITE, INFER input: the data words follow (READ and INFER's out_count
            // overwrite count in ExCount; loading it anyway keeps the enable simple)
            count_d    = {{(CW - NW){1'b0}}, words_q};
            count_hi_d = 1'b0;
            if (is_read || (is_infer && ph_q != PhIn)) begin
              state_d = ExCount;
            end else begin
              if (is_infer) ptr_d = PtrData;
              state_d = ExCheck;
            end
          end
        end
      end

      state_q[BCount]: begin  // 2 bytes
        fb_wait_d = !fb_wait_q;
        if (fb_wait_q) begin
          if (!idx_q[0] || CB == 2) count_d    = count_shift;
          else                      count_hi_d = count_hi_q || (fb_rdata != 8'd0);
          if (!idx_q[0])            count_hi_d = 1'b0;
          ptr_d      = ptr_q + 1'b1;
          idx_d      = idx_q + 5'd1;
          if (idx_q[0]) begin
            idx_d   = 5'd0;
            state_d = (ph_q == PhReply) ? ExTxHdr : ExCheck;
          end
        end
      end

      state_q[BCheck]: begin  // two cycles for range_end_q and fits_q to follow addr and count
        idx_d = 5'd0;
        if (idx_q[1:0] != 2'd2) begin
          idx_d   = idx_q + 5'd1;
          state_d = ExCheck;
        end else begin
          // INFER's next phase, set whatever the checks say (timing): after an error
          // neither ph_q nor ptr_q is used again
          if (is_infer && ph_q == PhOut) begin
            ph_d  = PhIn;
            ptr_d = {PayW{1'b0}};
          end else if (is_infer && rep_q) begin
            ph_d  = PhReply;
            ptr_d = PtrOut;
          end
          if (space_bad_q)
            {status_d, state_d} = {StatBadSpace, ExTxHdr};
          else if (len_bad_q)
            {status_d, state_d} = {StatBadLen, ExTxHdr};
          else if (!fits_q)
            {status_d, state_d} = {StatBadAddr, ExTxHdr};
          else if (is_read)
            state_d = ExTxHdr;
          else if (is_write)
            state_d = (rep_q || no_words_q) ? ExTxHdr : ExWrFetch;
          else if (is_infer && (ph_q == PhOut || rep_q))
            state_d = ExAddr;
          else if (is_infer)
            state_d = no_words_q ? ExStart : ExWrFetch;
          else
            state_d = ExTxHdr;
        end
      end

      state_q[BWrFetch]: begin  // assemble one little-endian word from the frame buffer
        fb_wait_d = !fb_wait_q;
        if (fb_wait_q) begin
          word_d = {fb_rdata, word_q[31:8]};
          ptr_d  = ptr_q + 1'b1;
          idx_d  = idx_q + 5'd1;
          if (idx_q[1:0] == 2'd3) begin
            idx_d   = 5'd0;
            state_d = ExWrBus;
          end
        end
      end
      // one bus request (while fb_wait_q is low), then wait for its acknowledge
      state_q[BWrBus]: if (bus_ack_i) begin
        step = 1'b1;
        if (last_word) state_d = is_infer ? ExStart : ExTxHdr;
        else           state_d = ExWrFetch;
      end else begin
        fb_wait_d = 1'b1;
      end

      state_q[BStart]: state_d = ExRun;
      // Done on done_i; a core that drops busy without the pulse cannot hang the link
      // (idx_q counts the first 16 cycles, before busy_q is trusted).
      state_q[BRun]: begin
        if (!idx_q[4]) idx_d = idx_q + 5'd1;
        if (done_q || (idx_q[4] && !busy_q)) begin
          idx_d = 5'd0;
          if (is_infer) begin  // read out_addr and out_count again for the reply
            ph_d    = PhReply;
            ptr_d   = PtrOut;
            state_d = ExAddr;
          end else begin
            state_d = ExTxHdr;
          end
        end
      end

      state_q[BTxHdr]: begin
        tx_valid = 1'b1;
        case (idx_q[2:0])
          3'd0:    tx_byte = 8'hA5;
          3'd1:    tx_byte = {1'b1, cmd_q};
          3'd2:    tx_byte = seq_q;
          3'd3:    tx_byte = rsp_len[7:0];
          3'd4:    tx_byte = rsp_len[15:8];
          default: tx_byte = {5'd0, status_q};
        endcase
        if (tx_fire) begin
          crc_clear = (idx_q == 5'd0);
          crc_en    = (idx_q != 5'd0);
          idx_d     = idx_q + 5'd1;
          if (idx_q[2:0] == 3'd5) begin
            idx_d   = 5'd0;
            state_d = after_hdr;
          end
        end
      end
      state_q[BTxId]: begin
        tx_valid = 1'b1;
        tx_byte  = id_const[{idx_q, 3'b000} +: 8];
        if (tx_fire) begin
          crc_en = 1'b1;
          idx_d  = idx_q + 5'd1;
          if (idx_q == IdConstLast) begin
            idx_d   = 5'd0;
            state_d = ExTxCnt;
          end
        end
      end
      state_q[BTxCnt]: begin
        tx_valid = 1'b1;
        tx_byte  = idx_q[0] ? 8'd0 : cnt_vec[{idx_q[2:1], 3'b000} +: 8];
        if (tx_fire) begin
          crc_en = 1'b1;
          idx_d  = idx_q + 5'd1;
          if (idx_q[2:0] == 3'd7) begin
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
      state_q[BTxWord]: begin
        tx_valid = 1'b1;
        tx_byte  = word_q[7:0];
        if (tx_fire) begin
          crc_en = 1'b1;
          word_d = {8'h00, word_q[31:8]};
          idx_d  = idx_q + 5'd1;
          step   = (idx_q[1:0] == 2'd0);  // done by the last byte, for the next request
          if (idx_q[1:0] == 2'd3) begin
            idx_d   = 5'd0;
            state_d = (n_words == 0) ? after_words : ExTxRdBus;
          end
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
          end
        end
      end
      default: state_d = ExIdle;
    endcase

    if (step_q) begin
      addr_d  = addr_q + 1'b1;
      count_d = count_q - 1'b1;
    end

    // The bank is released when the reply starts: its payload has been used up.
    if (held_q && state_q[BTxHdr]) begin
      release_bank = 1'b1;
      held_d       = 1'b0;
    end
  end

  // Remember the request as its reply starts (RESET forgets instead; a BUSY refusal is
  // not remembered, so that its retransmission is executed).
  wire reply_start = state_q[BTxHdr] && tx_fire && (idx_q == 5'd0);

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q     <= ExIdle;
      held_q      <= 1'b0;
      crc_clear_q <= 1'b0;
      crc_en_q    <= 1'b0;
    end else begin
      state_q     <= state_d;
      held_q      <= held_d;
      crc_clear_q <= crc_clear;
      crc_en_q    <= crc_en;
    end
  end

  // Datapath registers: no reset, every one is loaded by the dispatch (or, for the
  // field and word registers, before it is used), which only leaves ExIdle.
  always @(posedge clk_i) begin
    ph_q        <= ph_d;
    cmd_q       <= cmd_d;
    seq_q       <= seq_d;
    words_q     <= words_d;
    rep_q       <= rep_d;
    status_q    <= status_d;
    fb_wait_q   <= fb_wait_d;
    idx_q       <= idx_d;
    space_q     <= space_d;
    space_bad_q <= space_bad_d;
    addr_q      <= addr_d;
    addr_hi_q   <= addr_hi_d;
    count_q     <= count_d;
    count_hi_q  <= count_hi_d;
    word_q      <= word_d;
    ptr_q       <= ptr_d;
    range_end_q <= {1'b0, addr_q} + {{(AW + 1 - NW){1'b0}}, n_words};
    fits_q      <= !addr_hi_q && (range_end_q <= space_size);
    // READ: 4·count + 1 <= max_payload; INFER: 4·out_count + 5 <= max_payload
    len_bad_q   <= count_hi_q || count_q[CW-1:NW] != 0 || (is_infer && ph_q == PhOut && (&n_words));
    no_words_q  <= (n_words == 0);
    step_q      <= step;
    rsp_words_q <= rsp_words;
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
    else if (reply_start) last_valid_q <= known && cmd != CmdReset && status_q != StatBusy;
  end

  // Cycle counter: set to -1 by the start pulse (done_q is a cycle late), counting while
  // the core runs. No reset: it is only reported after a run (a plain synchronous set
  // maps onto the flip-flops).
  always @(posedge clk_i) begin
    if (state_q[BStart])      cycles_q <= 32'hFFFF_FFFF;
    else if (state_q[BRun])   cycles_q <= cycles_q + 32'd1;
  end

  // Error counters, saturating at 255 (the carry out of the increment holds them).
  wire [8:0] n_crc_inc     = {1'b0, n_crc_q} + 9'd1;
  wire [8:0] n_frame_inc   = {1'b0, n_frame_q} + 9'd1;
  wire [8:0] n_timeout_inc = {1'b0, n_timeout_q} + 9'd1;
  wire [8:0] n_drop_inc    = {1'b0, n_drop_q} + 9'd1;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      n_crc_q     <= 8'd0;
      n_frame_q   <= 8'd0;
      n_timeout_q <= 8'd0;
      n_drop_q    <= 8'd0;
    end else begin
      if (rx_crc_err && !n_crc_inc[8])         n_crc_q     <= n_crc_inc[7:0];
      if (rx_frame_err && !n_frame_inc[8])     n_frame_q   <= n_frame_inc[7:0];
      if (rx_timeout && !n_timeout_inc[8])     n_timeout_q <= n_timeout_inc[7:0];
      if (rx_drop && !n_drop_inc[8])           n_drop_q    <= n_drop_inc[7:0];
    end
  end

  assign tx_byte_o   = tx_buf_q;
  assign tx_valid_o  = tx_full_q;
  assign bus_req_o   = (state_q[BWrBus] || state_q[BTxRdBus]) && !fb_wait_q;
  assign bus_we_o    = state_q[BWrBus];
  assign bus_space_o = space_q;
  assign bus_addr_o  = {{(24 - AW){1'b0}}, addr_q};
  assign bus_wdata_o = word_q;
  assign start_o     = state_q[BStart];
  assign idle_o      = rx_idle && queued == 2'd0 && state_q[BIdle] && !tx_full_q;
  assign act_o       = rx_commit || reply_start;
  assign err_o       = rx_crc_err || rx_frame_err || rx_timeout || rx_drop;

`ifndef SYNTHESIS
  // Interface rules: sizes must fit the 24-bit bus address, payload the 16-bit length.
  initial begin
    if (MaxSp > (1 << 24))
      $fatal(1, "npu_link: a space is larger than the 24-bit bus address");
    if (AW < NW)
      $fatal(1, "npu_link: the largest space must hold a frame's worth of words");
    if (MaxPayload < 32 || MaxPayload > 16384 || (1 << PayW) != MaxPayload)
      $fatal(1, "npu_link: MaxPayload must be a power of two in [32, 16384]");
  end
  // The core acknowledges a bus request no earlier than the next cycle.
  always @(posedge clk_i)
    if (bus_req_o && bus_ack_i)
      $error("npu_link: bus_ack_i in the request cycle");
`endif
endmodule
`default_nettype wire
