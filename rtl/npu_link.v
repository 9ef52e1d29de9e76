`default_nettype none
// npu_link: the device side of the host link (docs/ARCHITECTURE.md section 6). It turns
// request frames from the UART into npu_core host-bus transfers and program runs, and
// sends one reply frame per request.
//
// Structure: npu_link_rx parses frames into a two-bank frame buffer (npu_frame_buf);
// a good frame (CRC checked) is committed into a two-entry queue of banks. The executor
// below takes the oldest committed frame, validates it, acts on it and streams the reply
// through npu_uart_tx, computing the reply CRC on the way. A bank is released as soon as
// its payload has been consumed (before a RUN), so the next request is received while
// the core computes: a host that keeps two requests in flight is bound by the wire, not
// by the round trip.
//
// Every request gets a reply: status OK, or an error code with no body (BAD_CMD,
// BAD_ADDR for an address range outside the space — refused, never wrapped —, BAD_LEN,
// BUSY, BAD_SPACE). A request with the same cmd and seq as the last one executed is
// answered again from the stored reply state without being executed (READ/INFER data
// are re-read from memory, which nothing has touched since).
//
// Core side: the npu_core host port of ARCHITECTURE section 5 (bus_req_o is a one-cycle
// strobe; the link waits for bus_ack_i, which must come at least one cycle later).
// Sizes are in 32-bit host words per space.
module npu_link #(
  parameter integer Version      = 1,
  parameter integer Dim          = 8,
  parameter integer AccDepth     = 1024,
  parameter integer MaxLayers    = 16,
  parameter integer AmemWords    = 32768,   // host words (32 bit) of each space
  parameter integer WmemWords    = 131072,
  parameter integer DmemWords    = 256,
  parameter integer CntWords     = 33,
  parameter integer ClockHz      = 12000000,
  parameter integer ClksPerBit   = 104,
  parameter integer MaxPayload   = 1024,    // bytes of request payload per frame
  parameter integer WatchdogClks = 256 * 10 * ClksPerBit
) (
  input  wire        clk_i,
  input  wire        rst_ni,
  // from npu_uart_rx
  input  wire [7:0]  rx_byte_i,
  input  wire        rx_valid_i,
  input  wire        rx_frame_err_i,
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
  localparam integer PayW  = $clog2(MaxPayload);
  localparam integer IdLen = 37;

  localparam [7:0] CmdIdentify = 8'h01, CmdWrite = 8'h02, CmdRead = 8'h03, CmdRun = 8'h04,
                   CmdInfer = 8'h05, CmdReset = 8'h06;
  localparam [7:0] StatOk = 8'd0, StatBadCmd = 8'd1, StatBadAddr = 8'd2, StatBadLen = 8'd3,
                   StatBusy = 8'd4, StatBadSpace = 8'd5;

  // 32-bit copies of the integer parameters, sliced to each field's width below
  localparam [31:0] Version32 = Version,   Dim32 = Dim,         Acc32 = AccDepth;
  localparam [31:0] Layers32  = MaxLayers, Cpb32 = ClksPerBit,  MaxPay32 = MaxPayload;
  localparam [31:0] IdLen32   = IdLen;
  localparam [31:0] IdAmem    = AmemWords;
  localparam [31:0] IdWmem    = WmemWords;
  localparam [31:0] IdDmem    = DmemWords;
  localparam [31:0] IdCnt     = CntWords;
  localparam [31:0] IdClock   = ClockHz;

  // space sizes one bit wider, so that address + count cannot wrap
  localparam [32:0] AmemSize = 33'd0 + IdAmem;
  localparam [32:0] WmemSize = 33'd0 + IdWmem;
  localparam [32:0] DmemSize = 33'd0 + IdDmem;
  localparam [32:0] CntSize  = 33'd0 + IdCnt;

  // IDENTIFY body, byte k at bits [8k+7:8k] (little-endian fields).
  localparam [7:0]  IdVersion = Version32[7:0];
  localparam [7:0]  IdDim     = Dim32[7:0];
  localparam [15:0] IdAcc     = Acc32[15:0];
  localparam [15:0] IdCpb     = Cpb32[15:0];
  localparam [15:0] IdMaxPay  = MaxPay32[15:0];
  localparam [7:0]  IdLayers  = Layers32[7:0];
  localparam [15:0] IdRspLen  = IdLen32[15:0] + 16'd1;
  localparam [5:0]  IdLast    = IdLen32[5:0] - 6'd1;

  localparam [4:0] ExIdle = 5'd0, ExCheck = 5'd1, ExArgs = 5'd2, ExDecode = 5'd3,
                   ExWrFetch = 5'd4, ExWrBus = 5'd5, ExWrAck = 5'd6, ExStart = 5'd7,
                   ExRun = 5'd8, ExTxHdr = 5'd9, ExTxId = 5'd10, ExTxRdReq = 5'd11,
                   ExTxRdAck = 5'd12, ExTxWord = 5'd13, ExTxCyc = 5'd14, ExTxCrc = 5'd15;

  // ---------------------------------------------------------------- receiver and queue
  wire            rx_wr_en, rx_commit, rx_overlong, rx_idle;
  wire [PayW-1:0] rx_wr_addr;
  wire [7:0]      rx_wr_data, rx_cmd, rx_seq;
  wire [15:0]     rx_len;
  wire            rx_crc_err, rx_frame_err, rx_timeout, rx_drop;

  // Two-entry queue of banks: wr_ptr counts committed frames, rd_ptr released ones.
  reg  [1:0] wr_ptr_q, rd_ptr_q;
  wire [1:0] queued    = wr_ptr_q - rd_ptr_q;
  wire       bank_free = (queued != 2'd2);
  wire       rd_bank   = rd_ptr_q[0];
  reg        release_bank;

  reg [7:0]  hdr_cmd_q [0:1];
  reg [7:0]  hdr_seq_q [0:1];
  reg [15:0] hdr_len_q [0:1];
  reg        hdr_long_q [0:1];

  npu_link_rx #(
    .MaxPayload  (MaxPayload),
    .WatchdogClks(WatchdogClks)
  ) u_rx (
    .clk_i       (clk_i),
    .rst_ni      (rst_ni),
    .byte_i      (rx_byte_i),
    .byte_valid_i(rx_valid_i),
    .frame_err_i (rx_frame_err_i),
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

  reg  [15:0]     ptr_q, ptr_d;      // payload byte the executor reads next
  wire [7:0]      fb_rdata;

  npu_frame_buf #(
    .Depth(2 << PayW)
  ) u_buf (
    .clk_i  (clk_i),
    .we_i   (rx_wr_en),
    .waddr_i({wr_ptr_q[0], rx_wr_addr}),
    .wdata_i(rx_wr_data),
    .raddr_i({rd_bank, ptr_q[PayW-1:0]}),
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

  // Header of each committed bank (payload registers, no reset needed).
  always @(posedge clk_i) begin
    if (rx_commit) begin
      hdr_cmd_q[wr_ptr_q[0]]  <= rx_cmd;
      hdr_seq_q[wr_ptr_q[0]]  <= rx_seq;
      hdr_len_q[wr_ptr_q[0]]  <= rx_len;
      hdr_long_q[wr_ptr_q[0]] <= rx_overlong;
    end
  end

  // ---------------------------------------------------------------- executor
  reg [4:0]  state_q, state_d;
  reg [7:0]  cmd_q, cmd_d;
  reg [7:0]  seq_q, seq_d;
  reg [15:0] len_q, len_d;
  reg        long_q, long_d;
  reg        held_q, held_d;         // the executor still owns its bank
  reg        fb_wait_q, fb_wait_d;   // frame-buffer read latency
  reg [79:0] args_q, args_d;         // first payload bytes (fixed fields)
  reg [7:0]  status_q, status_d;
  reg [1:0]  space_q, space_d;       // write phase
  reg [31:0] addr_q, addr_d;
  reg [15:0] count_q, count_d;
  reg [1:0]  rsp_space_q, rsp_space_d;  // reply data phase
  reg [31:0] rsp_addr_q, rsp_addr_d;
  reg [15:0] rsp_count_q, rsp_count_d;
  reg [31:0] word_q, word_d;
  reg [1:0]  byte_q, byte_d;
  reg [5:0]  tx_idx_q, tx_idx_d;
  reg [31:0] cycles_q, cycles_d;
  // the last reply, for repeated requests
  reg        last_valid_q;
  reg [7:0]  last_cmd_q, last_seq_q, last_status_q;
  reg [1:0]  last_space_q;
  reg [31:0] last_addr_q, last_cycles_q;
  reg [15:0] last_count_q;
  // error counters reported by IDENTIFY (saturating)
  reg [15:0] n_crc_q, n_frame_q, n_timeout_q, n_drop_q;

  reg        crc_clear, crc_en;
  reg [7:0]  tx_byte;
  reg        tx_valid;
  wire [15:0] tx_crc;
  wire        tx_fire = tx_valid && tx_ready_i;

  npu_crc16 u_tx_crc (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .clear_i(crc_clear),
    .en_i   (crc_en),
    .data_i (tx_byte),
    .crc_o  (tx_crc)
  );

  // payload fields
  wire [7:0]  a_space   = args_q[7:0];
  wire [31:0] a_addr    = args_q[39:8];
  wire [15:0] a_count   = args_q[55:40];
  wire [31:0] a_in      = args_q[31:0];
  wire [31:0] a_out     = args_q[63:32];
  wire [15:0] a_outcnt  = args_q[79:64];
  wire [15:0] wr_words  = (len_q - 16'd5) >> 2;
  wire [15:0] in_words  = (len_q - 16'd10) >> 2;

  function [32:0] space_size(input [1:0] sp);
    case (sp)
      2'd0:    space_size = AmemSize;
      2'd1:    space_size = WmemSize;
      2'd2:    space_size = DmemSize;
      default: space_size = CntSize;
    endcase
  endfunction

  // [addr, addr + n) inside a space of `size` words, computed without wrap-around
  function fits(input [31:0] addr, input [15:0] n, input [32:0] size);
    fits = ({1'b0, addr} + {17'd0, n}) <= size;
  endfunction

  // words of a reply body must fit the same payload limit as a request
  function body_fits(input [15:0] n, input [31:0] extra);
    body_fits = ({14'd0, n, 2'b00} + extra) <= MaxPay32;
  endfunction

  function [5:0] n_args(input [7:0] cmd);
    case (cmd)
      CmdWrite: n_args = 6'd5;
      CmdRead:  n_args = 6'd7;
      CmdInfer: n_args = 6'd10;
      default:  n_args = 6'd0;
    endcase
  endfunction

  // reply payload length: status + body (no body after an error)
  reg [15:0] rsp_len;
  always @(*) begin
    rsp_len = 16'd1;
    if (status_q == StatOk) begin
      case (cmd_q)
        CmdIdentify: rsp_len = IdRspLen;
        CmdRead:     rsp_len = 16'd1 + {rsp_count_q[13:0], 2'b00};
        CmdRun:      rsp_len = 16'd5;
        CmdInfer:    rsp_len = 16'd5 + {rsp_count_q[13:0], 2'b00};
        default:     rsp_len = 16'd1;
      endcase
    end
  end

  wire [IdLen*8-1:0] id_vec = {n_drop_q, n_timeout_q, n_frame_q, n_crc_q, IdLayers,
                               IdMaxPay, IdCpb, IdClock, IdCnt, IdDmem, IdWmem, IdAmem,
                               IdAcc, IdDim, IdVersion};

  // what follows the status byte, or the reply data words
  reg [4:0] after_hdr, after_words;
  always @(*) begin
    after_hdr   = ExTxCrc;
    after_words = (cmd_q == CmdInfer) ? ExTxCyc : ExTxCrc;
    if (status_q == StatOk) begin
      case (cmd_q)
        CmdIdentify:       after_hdr = ExTxId;
        CmdRun:            after_hdr = ExTxCyc;
        CmdRead, CmdInfer: after_hdr = (rsp_count_q != 16'd0) ? ExTxRdReq : after_words;
        default:           after_hdr = ExTxCrc;
      endcase
    end
  end

  always @(*) begin
    state_d      = state_q;
    cmd_d        = cmd_q;
    seq_d        = seq_q;
    len_d        = len_q;
    long_d       = long_q;
    held_d       = held_q;
    fb_wait_d    = 1'b0;
    args_d       = args_q;
    status_d     = status_q;
    space_d      = space_q;
    addr_d       = addr_q;
    count_d      = count_q;
    rsp_space_d  = rsp_space_q;
    rsp_addr_d   = rsp_addr_q;
    rsp_count_d  = rsp_count_q;
    word_d       = word_q;
    byte_d       = byte_q;
    tx_idx_d     = tx_idx_q;
    cycles_d     = cycles_q;
    ptr_d        = ptr_q;
    release_bank = 1'b0;
    crc_clear    = 1'b0;
    crc_en       = 1'b0;
    tx_byte      = 8'h00;
    tx_valid     = 1'b0;

    case (state_q)
      ExIdle: if (queued != 2'd0) begin
        cmd_d    = hdr_cmd_q[rd_bank];
        seq_d    = hdr_seq_q[rd_bank];
        len_d    = hdr_len_q[rd_bank];
        long_d   = hdr_long_q[rd_bank];
        held_d   = 1'b1;
        ptr_d    = 16'd0;
        status_d = StatOk;
        args_d   = 80'd0;
        state_d  = ExCheck;
      end

      ExCheck: begin
        state_d = ExTxHdr;
        if (long_q) begin
          status_d = StatBadLen;
        end else if (last_valid_q && cmd_q == last_cmd_q && seq_q == last_seq_q) begin
          // repeated request: answer from the stored reply, do not execute
          status_d    = last_status_q;
          rsp_space_d = last_space_q;
          rsp_addr_d  = last_addr_q;
          rsp_count_d = last_count_q;
          cycles_d    = last_cycles_q;
        end else begin
          rsp_count_d = 16'd0;
          case (cmd_q)
            CmdIdentify, CmdRun, CmdReset:
              if (len_q != 16'd0) status_d = StatBadLen;
              else if (cmd_q == CmdRun) state_d = busy_i ? ExTxHdr : ExStart;
            CmdWrite:
              if (len_q < 16'd5 || len_q[1:0] != 2'd1) status_d = StatBadLen;
              else state_d = ExArgs;
            CmdRead:
              if (len_q != 16'd7) status_d = StatBadLen;
              else state_d = ExArgs;
            CmdInfer:
              if (len_q < 16'd10 || len_q[1:0] != 2'd2) status_d = StatBadLen;
              else state_d = ExArgs;
            default: status_d = StatBadCmd;
          endcase
          if (cmd_q == CmdRun && busy_i) status_d = StatBusy;
        end
      end

      ExArgs: begin  // read the fixed fields at the start of the payload
        fb_wait_d = !fb_wait_q;
        if (fb_wait_q) begin
          args_d[{ptr_q[3:0], 3'b000} +: 8] = fb_rdata;
          ptr_d = ptr_q + 16'd1;
          if (ptr_q[5:0] == n_args(cmd_q) - 6'd1) state_d = ExDecode;
        end
      end

      ExDecode: begin
        state_d = ExTxHdr;
        case (cmd_q)
          CmdWrite: begin
            space_d = a_space[1:0];
            addr_d  = a_addr;
            count_d = wr_words;
            if (a_space > 8'd2)                                    status_d = StatBadSpace;
            else if (!fits(a_addr, wr_words, space_size(a_space[1:0]))) status_d = StatBadAddr;
            else if (busy_i)                                       status_d = StatBusy;
            else state_d = (wr_words == 16'd0) ? ExTxHdr : ExWrFetch;
          end
          CmdRead: begin
            rsp_space_d = a_space[1:0];
            rsp_addr_d  = a_addr;
            if (a_space > 8'd3)                                     status_d = StatBadSpace;
            else if (!body_fits(a_count, 32'd1))                    status_d = StatBadLen;
            else if (!fits(a_addr, a_count, space_size(a_space[1:0]))) status_d = StatBadAddr;
            else if (busy_i)                                        status_d = StatBusy;
            else rsp_count_d = a_count;
          end
          default: begin  // CmdInfer
            space_d     = 2'd0;
            addr_d      = a_in;
            count_d     = in_words;
            rsp_space_d = 2'd0;
            rsp_addr_d  = a_out;
            if (!body_fits(a_outcnt, 32'd5))                   status_d = StatBadLen;
            else if (!fits(a_in, in_words, AmemSize) || !fits(a_out, a_outcnt, AmemSize))
                                                               status_d = StatBadAddr;
            else if (busy_i)                                   status_d = StatBusy;
            else begin
              rsp_count_d = a_outcnt;
              state_d     = (in_words == 16'd0) ? ExStart : ExWrFetch;
            end
          end
        endcase
      end

      ExWrFetch: begin  // assemble one little-endian word from the frame buffer
        fb_wait_d = !fb_wait_q;
        if (fb_wait_q) begin
          word_d = {fb_rdata, word_q[31:8]};
          ptr_d  = ptr_q + 16'd1;
          byte_d = byte_q + 2'd1;
          if (byte_q == 2'd3) state_d = ExWrBus;
        end
      end
      ExWrBus: state_d = ExWrAck;
      ExWrAck: if (bus_ack_i) begin
        addr_d  = addr_q + 32'd1;
        count_d = count_q - 16'd1;
        if (count_q == 16'd1) state_d = (cmd_q == CmdInfer) ? ExStart : ExTxHdr;
        else                  state_d = ExWrFetch;
      end

      ExStart: begin
        cycles_d = 32'd0;
        state_d  = ExRun;
      end
      // Done on done_i; a core that drops busy without the pulse cannot hang the link.
      ExRun: begin
        cycles_d = cycles_q + 32'd1;
        if (done_i || (cycles_q > 32'd16 && !busy_i)) state_d = ExTxHdr;
      end

      ExTxHdr: begin
        tx_valid = 1'b1;
        case (tx_idx_q[2:0])
          3'd0:    tx_byte = 8'hA5;
          3'd1:    tx_byte = cmd_q | 8'h80;
          3'd2:    tx_byte = seq_q;
          3'd3:    tx_byte = rsp_len[7:0];
          3'd4:    tx_byte = rsp_len[15:8];
          default: tx_byte = status_q;
        endcase
        if (tx_fire) begin
          crc_clear = (tx_idx_q == 6'd0);
          crc_en    = (tx_idx_q != 6'd0);
          tx_idx_d  = tx_idx_q + 6'd1;
          if (tx_idx_q == 6'd5) begin
            tx_idx_d = 6'd0;
            byte_d   = 2'd0;
            state_d  = after_hdr;
          end
        end
      end
      ExTxId: begin
        tx_valid = 1'b1;
        tx_byte  = id_vec[{tx_idx_q, 3'b000} +: 8];
        if (tx_fire) begin
          crc_en   = 1'b1;
          tx_idx_d = tx_idx_q + 6'd1;
          if (tx_idx_q == IdLast) begin
            tx_idx_d = 6'd0;
            state_d  = ExTxCrc;
          end
        end
      end
      ExTxRdReq: state_d = ExTxRdAck;
      ExTxRdAck: if (bus_ack_i) begin
        word_d  = bus_rdata_i;
        state_d = ExTxWord;
      end
      ExTxWord: begin
        tx_valid = 1'b1;
        tx_byte  = word_q[7:0];
        if (tx_fire) begin
          crc_en = 1'b1;
          word_d = {8'h00, word_q[31:8]};
          byte_d = byte_q + 2'd1;
          if (byte_q == 2'd3) begin
            rsp_addr_d  = rsp_addr_q + 32'd1;
            rsp_count_d = rsp_count_q - 16'd1;
            state_d     = (rsp_count_q == 16'd1) ? after_words : ExTxRdReq;
          end
        end
      end
      ExTxCyc: begin
        tx_valid = 1'b1;
        tx_byte  = cycles_q[{tx_idx_q[1:0], 3'b000} +: 8];
        if (tx_fire) begin
          crc_en   = 1'b1;
          tx_idx_d = tx_idx_q + 6'd1;
          if (tx_idx_q == 6'd3) begin
            tx_idx_d = 6'd0;
            state_d  = ExTxCrc;
          end
        end
      end
      ExTxCrc: begin
        tx_valid = 1'b1;
        tx_byte  = tx_idx_q[0] ? tx_crc[15:8] : tx_crc[7:0];
        if (tx_fire) begin
          tx_idx_d = tx_idx_q + 6'd1;
          if (tx_idx_q[0]) begin
            tx_idx_d = 6'd0;
            state_d  = ExIdle;
          end
        end
      end
      default: state_d = ExIdle;
    endcase

    // The bank is released once its payload is consumed: before a run or a reply.
    if (held_q && (state_d == ExStart || state_d == ExTxHdr)) begin
      release_bank = 1'b1;
      held_d       = 1'b0;
    end
  end

  // Remember the reply as it starts (RESET forgets instead).
  wire reply_start = (state_q == ExTxHdr) && tx_fire && (tx_idx_q == 6'd0);

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q     <= ExIdle;
      cmd_q       <= 8'd0;
      seq_q       <= 8'd0;
      len_q       <= 16'd0;
      long_q      <= 1'b0;
      held_q      <= 1'b0;
      fb_wait_q   <= 1'b0;
      args_q      <= 80'd0;
      status_q    <= 8'd0;
      space_q     <= 2'd0;
      addr_q      <= 32'd0;
      count_q     <= 16'd0;
      rsp_space_q <= 2'd0;
      rsp_addr_q  <= 32'd0;
      rsp_count_q <= 16'd0;
      word_q      <= 32'd0;
      byte_q      <= 2'd0;
      tx_idx_q    <= 6'd0;
      cycles_q    <= 32'd0;
      ptr_q       <= 16'd0;
    end else begin
      state_q     <= state_d;
      cmd_q       <= cmd_d;
      seq_q       <= seq_d;
      len_q       <= len_d;
      long_q      <= long_d;
      held_q      <= held_d;
      fb_wait_q   <= fb_wait_d;
      args_q      <= args_d;
      status_q    <= status_d;
      space_q     <= space_d;
      addr_q      <= addr_d;
      count_q     <= count_d;
      rsp_space_q <= rsp_space_d;
      rsp_addr_q  <= rsp_addr_d;
      rsp_count_q <= rsp_count_d;
      word_q      <= word_d;
      byte_q      <= byte_d;
      tx_idx_q    <= tx_idx_d;
      cycles_q    <= cycles_d;
      ptr_q       <= ptr_d;
    end
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      last_valid_q  <= 1'b0;
      last_cmd_q    <= 8'd0;
      last_seq_q    <= 8'd0;
      last_status_q <= 8'd0;
      last_space_q  <= 2'd0;
      last_addr_q   <= 32'd0;
      last_count_q  <= 16'd0;
      last_cycles_q <= 32'd0;
    end else if (reply_start) begin
      last_valid_q  <= (cmd_q != CmdReset);
      last_cmd_q    <= cmd_q;
      last_seq_q    <= seq_q;
      last_status_q <= status_q;
      last_space_q  <= rsp_space_q;
      last_addr_q   <= rsp_addr_q;
      last_count_q  <= rsp_count_q;
      last_cycles_q <= cycles_q;
    end
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      n_crc_q     <= 16'd0;
      n_frame_q   <= 16'd0;
      n_timeout_q <= 16'd0;
      n_drop_q    <= 16'd0;
    end else begin
      if (rx_crc_err && n_crc_q != 16'hFFFF)       n_crc_q     <= n_crc_q + 16'd1;
      if (rx_frame_err && n_frame_q != 16'hFFFF)   n_frame_q   <= n_frame_q + 16'd1;
      if (rx_timeout && n_timeout_q != 16'hFFFF)   n_timeout_q <= n_timeout_q + 16'd1;
      if (rx_drop && n_drop_q != 16'hFFFF)         n_drop_q    <= n_drop_q + 16'd1;
    end
  end

  assign tx_byte_o   = tx_byte;
  assign tx_valid_o  = tx_valid;
  assign bus_req_o   = (state_q == ExWrBus) || (state_q == ExTxRdReq);
  assign bus_we_o    = (state_q == ExWrBus);
  assign bus_space_o = (state_q == ExWrBus) ? space_q : rsp_space_q;
  assign bus_addr_o  = (state_q == ExWrBus) ? addr_q[23:0] : rsp_addr_q[23:0];
  assign bus_wdata_o = word_q;
  assign start_o     = (state_q == ExStart);
  assign idle_o      = rx_idle && queued == 2'd0 && state_q == ExIdle;
  assign act_o       = rx_commit || reply_start;
  assign err_o       = rx_crc_err || rx_frame_err || rx_timeout || rx_drop;

`ifndef SYNTHESIS
  // Interface rules: sizes must fit the 24-bit bus address, payload the 16-bit length.
  initial begin
    if (AmemWords > (1 << 24) || WmemWords > (1 << 24) || DmemWords > (1 << 24))
      $fatal(1, "npu_link: a space is larger than the 24-bit bus address");
    if (MaxPayload < 16 || MaxPayload > 32768 || (1 << PayW) != MaxPayload)
      $fatal(1, "npu_link: MaxPayload must be a power of two in [16, 32768]");
  end
  // The core acknowledges a bus request no earlier than the next cycle.
  always @(posedge clk_i)
    if (bus_req_o && bus_ack_i)
      $error("npu_link: bus_ack_i in the request cycle");
`endif
endmodule
`default_nettype wire
