// The host end of the link protocol (docs/ARCHITECTURE.md section 6): sequence numbers,
// reply matching, timeouts, retransmission and resynchronisation, over any Transport.
//
// Requests are sent in order with at most `window` of them unanswered (the device has
// two frame banks, so two requests in flight keep the wire busy while it computes).
// A reply is matched by seq and cmd; anything else is a stale reply (of an earlier
// host, or the second answer to a retransmitted request) and is ignored.
// Retransmission: the same frame (same seq) is sent again when no reply came within the
// timeout, or at once when a reply arrived with a bad CRC (the device answers in order,
// so it was the oldest request's). The device answers a repeated seq+cmd from its
// stored reply without executing it again. Barrier requests (RUN, RESET) are sent
// alone: nothing else is in flight while they run, so their retransmission is always
// recognised as a repeat and never re-runs the program.
import { LinkTimeoutError } from '../errors.ts';
import { cmdName, encodeFrame, FrameDecoder, OVERHEAD_BYTES } from './frame.ts';
import type { Transport } from './transport.ts';

export interface LinkOptions {
  /** Fixed part of every reply timeout (USB latency, scheduling). */
  baseTimeoutMs?: number;
  /** First estimate of the wire time per byte; adapted to what is measured. */
  msPerByte?: number;
  /** Retransmissions of one request before giving up. */
  retries?: number;
  /** Requests in flight (1 or 2). */
  window?: number;
  /** Appended to timeout errors: what the user should check. */
  hint?: string;
}

export interface LinkStats {
  requests: number;
  retransmissions: number;
  timeouts: number;
  corruptReplies: number;
  staleReplies: number;
  skippedBytes: number;
  bytesOut: number;
  bytesIn: number;
}

export interface Reply {
  status: number;
  body: Uint8Array;
}

export interface RequestOptions {
  /** Expected reply payload bytes (for the timeout). */
  replyBytes?: number;
  /** Extra time the device computes before it answers (RUN, INFER). */
  computeMs?: number;
  /** Send alone: wait until nothing is in flight, and hold later requests back. */
  barrier?: boolean;
  /** Retransmissions before giving up (default: the link's). */
  retries?: number;
}

interface Pending {
  cmd: number;
  seq: number;
  frame: Uint8Array;
  opts: RequestOptions;
  attempts: number;
  firstSentAt: number;
  sentAt: number;
  timeoutMs: number;
  timer?: NodeJS.Timeout;
  resolve: (r: Reply) => void;
  reject: (e: Error) => void;
}

export class Link {
  readonly stats: LinkStats = {
    requests: 0,
    retransmissions: 0,
    timeouts: 0,
    corruptReplies: 0,
    staleReplies: 0,
    skippedBytes: 0,
    bytesOut: 0,
    bytesIn: 0,
  };
  private readonly decoder = new FrameDecoder((cmd, seq, len) =>
    this.inflight.some((p) => p.seq === seq && (p.cmd | 0x80) === cmd && len <= 1 + (p.opts.replyBytes ?? 0)),
  );
  private readonly queue: Pending[] = [];
  private readonly inflight: Pending[] = [];
  private seq = Math.floor(Math.random() * 256);
  private msPerByte: number;
  private readonly baseTimeoutMs: number;
  private readonly retries: number;
  private window: number;
  private closed = false;

  constructor(
    readonly transport: Transport,
    private readonly opts: LinkOptions = {},
  ) {
    this.baseTimeoutMs = opts.baseTimeoutMs ?? 500;
    this.msPerByte = opts.msPerByte ?? 0.1;
    this.retries = opts.retries ?? 8;
    this.window = Math.max(1, Math.min(2, opts.window ?? 2));
    transport.onData((chunk) => this.onData(chunk));
  }

  /** Current estimate of the wire time per byte, in ms. */
  get wireMsPerByte(): number {
    return this.msPerByte;
  }

  request(cmd: number, payload: Uint8Array = new Uint8Array(0), opts: RequestOptions = {}): Promise<Reply> {
    if (this.closed) return Promise.reject(new Error('link closed'));
    this.seq = (this.seq + 1) & 0xff;
    const frame = encodeFrame(cmd, this.seq, payload);
    return new Promise<Reply>((resolve, reject) => {
      this.queue.push({
        cmd,
        seq: this.seq,
        frame,
        opts,
        attempts: 0,
        firstSentAt: 0,
        sentAt: 0,
        timeoutMs: 0,
        resolve,
        reject,
      });
      this.stats.requests++;
      this.pump();
    });
  }

  /**
   * Drops whatever an earlier session left: bytes waiting in the port and a partial
   * frame. Replies the device still sends for an earlier host's requests are then
   * ignored as stale (they do not match a request of ours).
   */
  async drain(): Promise<void> {
    await this.transport.discardInput();
    this.decoder.reset();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of [...this.inflight, ...this.queue]) {
      clearTimeout(p.timer);
      p.reject(new Error('link closed'));
    }
    this.inflight.length = 0;
    this.queue.length = 0;
    await this.transport.close();
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const next = this.queue[0];
      if (this.inflight.length >= this.window) return;
      if (this.inflight.some((p) => p.opts.barrier)) return;
      if (next.opts.barrier && this.inflight.length > 0) return;
      this.queue.shift();
      this.inflight.push(next);
      this.send(next);
    }
  }

  private send(p: Pending): void {
    const bytes = p.frame.length + (p.opts.replyBytes ?? 1) + OVERHEAD_BYTES;
    // Wire time both ways, twice for margin; requests in flight before this one too.
    const ahead = this.inflight.indexOf(p);
    p.timeoutMs = this.baseTimeoutMs + 2 * this.msPerByte * bytes * (1 + ahead) + (p.opts.computeMs ?? 0);
    p.sentAt = performance.now();
    if (p.attempts === 0) p.firstSentAt = p.sentAt;
    this.stats.bytesOut += p.frame.length;
    clearTimeout(p.timer);
    p.timer = setTimeout(() => this.onTimeout(p), p.timeoutMs);
    this.transport.write(p.frame).catch((err: Error) => this.fail(p, err));
  }

  private retransmit(p: Pending): void {
    p.attempts++;
    if (p.attempts > (p.opts.retries ?? this.retries)) {
      const waited = (performance.now() - p.firstSentAt) / 1000;
      const secs = waited.toFixed(waited < 10 ? 1 : 0);
      const hint = this.opts.hint ? `: ${this.opts.hint}` : '';
      this.fail(
        p,
        new LinkTimeoutError(
          `device on ${this.transport.path} did not answer ${cmdName(p.cmd)} within ${secs} s (${p.attempts} attempts)${hint}`,
        ),
      );
      return;
    }
    this.stats.retransmissions++;
    this.send(p);
  }

  private onTimeout(p: Pending): void {
    if (!this.inflight.includes(p)) return;
    this.stats.timeouts++;
    // A partial frame (a length byte hit by an error) must not swallow the next reply.
    this.decoder.reset();
    // Replies come in order: anything sent after p is late too.
    for (const q of this.inflight) if (q !== p) clearTimeout(q.timer);
    const order = [...this.inflight];
    for (const q of order) this.retransmit(q);
  }

  private fail(p: Pending, err: Error): void {
    clearTimeout(p.timer);
    const i = this.inflight.indexOf(p);
    if (i >= 0) this.inflight.splice(i, 1);
    p.reject(err);
    this.pump();
  }

  private onData(chunk: Uint8Array): void {
    this.stats.bytesIn += chunk.length;
    for (const ev of this.decoder.push(chunk)) {
      if (ev.kind === 'skipped') {
        // stale replies of an earlier host or of a retransmitted request, or garbage
        this.stats.skippedBytes += ev.bytes;
      } else if (ev.kind === 'corrupt') {
        this.stats.corruptReplies++;
        const oldest = this.inflight[0];
        if (oldest) this.retransmit(oldest);
      } else {
        const { frame } = ev;
        const i = this.inflight.findIndex((p) => p.seq === frame.seq && p.cmd === (frame.cmd & 0x7f));
        if (i < 0) {
          this.stats.staleReplies++;
          continue;
        }
        const p = this.inflight[i];
        this.inflight.splice(i, 1);
        clearTimeout(p.timer);
        if (p.attempts === 0 && p.opts.computeMs === undefined) {
          // measured wire time per byte: follow increases at once, decreases slowly
          const sample =
            (performance.now() - p.sentAt) / (p.frame.length + frame.payload.length + OVERHEAD_BYTES);
          this.msPerByte = Math.max(sample, 0.9 * this.msPerByte + 0.1 * sample);
        }
        p.resolve({ status: frame.payload[0] ?? 0xff, body: frame.payload.subarray(1) });
      }
    }
    this.pump();
  }
}
