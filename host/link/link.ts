// The host end of the link protocol (docs/ARCHITECTURE.md section 6): sequence numbers,
// reply matching, timeouts, retransmission and resynchronisation, over any Transport.
//
// Requests are sent in order with at most `window` of them unanswered (the device has
// two frame banks, so two requests in flight keep the wire busy; INFER parts may be
// three, the device taking two while it computes).
// A reply is matched by seq and cmd; anything else is a stale reply (of an earlier
// host, or the second answer to a retransmitted request) and is ignored.
// Retransmission: the same frame (same seq) is sent again when no reply came within the
// timeout, or at once when a reply arrived with a bad CRC (the device answers in order,
// so it was the oldest request's). The device answers a repeated seq+cmd from its
// stored reply without executing it again. Barrier requests (RUN, RESET) are sent
// alone: nothing else is in flight while they run, so their retransmission is always
// recognised as a repeat and never re-runs the program.
// BUSY means "not now": an INFER part whose predecessor has not arrived (lost on the
// line), or a probe during a run. The request is sent again once every request sent
// before it has been answered (or after a short pause when none is pending).
//
// Failing honestly: a port that closes or errors fails every request at once; a request
// gives up after its retries, or sooner when the device has sent nothing at all for
// `silenceMs` (a killed or frozen board is reported within seconds, not minutes), and
// the error says what was seen: no answer at all, an answer that stopped, garbage,
// replies to another program's requests, or BUSY that never ends.
import { DeviceError, LinkTimeoutError } from '../errors.ts';
import { cmdName, encodeFrame, FrameDecoder, OVERHEAD_BYTES, Status } from './frame.ts';
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
  /** Appended to the error when the device never answered: what the user should check. */
  hint?: string;
  /**
   * Give a request up when the device has sent nothing for this long (plus the
   * request's compute allowance), whatever its retries. Default 2000 ms.
   */
  silenceMs?: number;
  /** BUSY answers to one request before giving up (default 200). */
  busyRetries?: number;
}

export interface LinkStats {
  requests: number;
  retransmissions: number;
  timeouts: number;
  corruptReplies: number;
  staleReplies: number;
  skippedBytes: number;
  /** BUSY answers, each followed by sending the request again. */
  busyReplies: number;
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
  /** BUSY answers sent again before the BUSY reply is returned as it is (default: the
   * link's busyRetries, after which the request fails). */
  busyRetries?: number;
  /**
   * May go out as a third request in flight (INFER parts): the device stores two frames
   * besides the one it executes when that one is a run (RUN and INFER release their bank
   * as the program starts) or is done with its bank by the time the third frame starts
   * arriving, which the frame before it (at least half as long as the oldest) ensures.
   */
  deep?: boolean;
}

interface Pending {
  cmd: number;
  seq: number;
  order: number;
  frame: Uint8Array;
  opts: RequestOptions;
  attempts: number;
  busy: number;
  firstSentAt: number;
  sentAt: number;
  timeoutMs: number;
  timer?: NodeJS.Timeout;
  /** Link counters when it was first sent, to tell what the device did since. */
  snap?: { bytesIn: number; staleReplies: number };
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
    busyReplies: 0,
    bytesOut: 0,
    bytesIn: 0,
  };
  // A header worth waiting for: a reply to a request in flight, or a short reply of any
  // command (an earlier host's or another program's: counted as stale, which tells the
  // user who else is on the port), never a length that garbage made up.
  private readonly decoder = new FrameDecoder(
    (cmd, seq, len) =>
      this.inflight.some(
        (p) => p.seq === seq && (p.cmd | 0x80) === cmd && len <= 1 + (p.opts.replyBytes ?? 0),
      ) ||
      (cmd >= 0x81 && cmd <= 0x86 && len >= 1 && len <= 64),
  );
  private readonly queue: Pending[] = [];
  private readonly inflight: Pending[] = [];
  /** Answered BUSY: waiting for the requests sent before them. */
  private readonly deferred: Pending[] = [];
  private seq = Math.floor(Math.random() * 256);
  private order = 0;
  private msPerByte: number;
  private readonly baseTimeoutMs: number;
  private readonly retries: number;
  private readonly silenceMs: number;
  private readonly busyRetries: number;
  private window: number;
  private closed = false;
  /** Why the link cannot be used any more (the port closed or failed). */
  private broken: Error | null = null;
  private lastRxAt = 0;
  /** Checks the silence of the device while requests are in flight. */
  private silenceTimer?: NodeJS.Timeout;

  constructor(
    readonly transport: Transport,
    private readonly opts: LinkOptions = {},
  ) {
    this.baseTimeoutMs = opts.baseTimeoutMs ?? 500;
    this.msPerByte = opts.msPerByte ?? 0.1;
    this.retries = opts.retries ?? 8;
    this.silenceMs = opts.silenceMs ?? 2000;
    this.busyRetries = opts.busyRetries ?? 200;
    this.window = Math.max(1, Math.min(2, opts.window ?? 2));
    transport.onData((chunk) => this.onData(chunk));
    transport.onClose?.((reason) => this.onPortClosed(reason));
  }

  /** Current estimate of the wire time per byte, in ms. */
  get wireMsPerByte(): number {
    return this.msPerByte;
  }

  request(cmd: number, payload: Uint8Array = new Uint8Array(0), opts: RequestOptions = {}): Promise<Reply> {
    if (this.broken) return Promise.reject(this.broken);
    if (this.closed) return Promise.reject(new Error('link closed'));
    this.seq = (this.seq + 1) & 0xff;
    const frame = encodeFrame(cmd, this.seq, payload);
    return new Promise<Reply>((resolve, reject) => {
      this.queue.push({
        cmd,
        seq: this.seq,
        order: this.order++,
        frame,
        opts,
        attempts: 0,
        busy: 0,
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
    this.failAll(new Error('link closed'));
    await this.transport.close();
  }

  /** How long the device may stay silent while p is in flight. */
  private silenceLimit(p: Pending): number {
    // a slow line (or a simulated board on a busy machine) is not a dead one: the
    // request's own wire allowance counts too
    const computeMs = p.opts.computeMs ?? 0;
    return Math.max(this.silenceMs, 2 * (p.timeoutMs - computeMs)) + computeMs;
  }

  private checkSilence(): void {
    const now = performance.now();
    for (const p of this.inflight) {
      const silentMs = now - Math.max(this.lastRxAt, p.firstSentAt);
      if (silentMs >= this.silenceLimit(p)) {
        // nothing at all for that long: none of the requests will be answered
        this.failAll(this.failure(p, silentMs));
        return;
      }
    }
  }

  private failAll(err: Error): void {
    for (const p of [...this.inflight, ...this.queue, ...this.deferred]) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.inflight.length = 0;
    this.queue.length = 0;
    this.deferred.length = 0;
    clearInterval(this.silenceTimer);
    this.silenceTimer = undefined;
  }

  private onPortClosed(reason: string): void {
    if (this.closed || this.broken) return;
    this.broken = new DeviceError(
      `serial port ${this.transport.path} ${reason}: the board was unplugged or reset, or the simulated board exited`,
    );
    this.failAll(this.broken);
  }

  private pump(): void {
    // BUSY requests whose predecessors have all been answered go first again, in order.
    for (let i = this.deferred.length - 1; i >= 0; i--) {
      const p = this.deferred[i];
      if (this.inflight.some((q) => q.order < p.order)) continue;
      this.deferred.splice(i, 1);
      this.queue.unshift(p);
    }
    this.queue.sort((a, b) => a.order - b.order);
    this.armSilence();
    while (this.queue.length > 0) {
      const next = this.queue[0];
      const [oldest, second] = this.inflight;
      const deep =
        next.opts.deep &&
        this.inflight.length === 2 &&
        second.frame.length >= oldest.frame.length / 2 + 16 &&
        this.window === 2;
      if (this.inflight.length >= (deep ? 3 : this.window)) return;
      if (this.inflight.some((p) => p.opts.barrier)) return;
      if (next.opts.barrier && this.inflight.length > 0) return;
      this.queue.shift();
      this.inflight.push(next);
      this.inflight.sort((a, b) => a.order - b.order);
      this.send(next);
      this.armSilence();
    }
  }

  private armSilence(): void {
    if (this.inflight.length > 0 && !this.silenceTimer) {
      this.silenceTimer = setInterval(() => this.checkSilence(), 250);
    } else if (this.inflight.length === 0 && this.silenceTimer) {
      clearInterval(this.silenceTimer);
      this.silenceTimer = undefined;
    }
  }

  private send(p: Pending): void {
    const bytes = p.frame.length + (p.opts.replyBytes ?? 1) + OVERHEAD_BYTES;
    // Wire time both ways, twice for margin; requests in flight before this one too.
    const ahead = this.inflight.indexOf(p);
    p.timeoutMs = this.baseTimeoutMs + 2 * this.msPerByte * bytes * (1 + ahead) + (p.opts.computeMs ?? 0);
    p.sentAt = performance.now();
    if (p.attempts === 0 && p.busy === 0) {
      p.firstSentAt = p.sentAt;
      p.snap = { bytesIn: this.stats.bytesIn, staleReplies: this.stats.staleReplies };
    }
    this.stats.bytesOut += p.frame.length;
    clearTimeout(p.timer);
    p.timer = setTimeout(() => this.onTimeout(p), p.timeoutMs);
    this.transport.write(p.frame).catch((err: Error) => this.onPortClosed(`failed (${err.message})`));
  }

  /** The one-line story of a request that got no usable answer. */
  private failure(p: Pending, silentMs: number): Error {
    const waited = (performance.now() - p.firstSentAt) / 1000;
    const secs = waited.toFixed(waited < 10 ? 1 : 0);
    const head = `device on ${this.transport.path} did not answer ${cmdName(p.cmd)} within ${secs} s (${p.attempts} attempts)`;
    const snap = p.snap ?? { bytesIn: 0, staleReplies: 0 };
    const hint = this.opts.hint ? `: ${this.opts.hint}` : '';
    if (this.stats.bytesIn === 0) return new LinkTimeoutError(`${head}: no answer at all${hint}`);
    if (this.stats.bytesIn === snap.bytesIn)
      return new LinkTimeoutError(
        `${head}: it answered before but sent nothing for ${(silentMs / 1000).toFixed(1)} s (frozen, reset or unplugged?)`,
      );
    if (this.stats.staleReplies > snap.staleReplies)
      return new LinkTimeoutError(
        `${head}: it answers only requests this host did not send (another program is using the port?)`,
      );
    return new LinkTimeoutError(
      `${head}: ${this.stats.bytesIn - snap.bytesIn} bytes came back but no valid reply (garbage: the wrong baud rate, or another program on the port?)`,
    );
  }

  private retransmit(p: Pending): void {
    p.attempts++;
    if (p.attempts > (p.opts.retries ?? this.retries)) {
      this.fail(p, this.failure(p, performance.now() - Math.max(this.lastRxAt, p.firstSentAt)));
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
    for (const q of order) {
      if (this.inflight.includes(q)) this.retransmit(q);
    }
  }

  private fail(p: Pending, err: Error): void {
    clearTimeout(p.timer);
    const i = this.inflight.indexOf(p);
    if (i >= 0) this.inflight.splice(i, 1);
    p.reject(err);
    this.pump();
  }

  private onBusy(p: Pending, reply: Reply): void {
    this.stats.busyReplies++;
    p.busy++;
    clearTimeout(p.timer);
    this.inflight.splice(this.inflight.indexOf(p), 1);
    if (p.opts.busyRetries !== undefined && p.busy > p.opts.busyRetries) {
      p.resolve(reply);
      return;
    }
    if (p.busy > this.busyRetries) {
      p.reject(
        new DeviceError(
          `device on ${this.transport.path} answered ${cmdName(p.cmd)} with BUSY ${p.busy} times: it is stuck in a previous run, or another program is using it`,
        ),
      );
      return;
    }
    if (this.inflight.some((q) => q.order < p.order)) {
      this.deferred.push(p); // sent again once the requests before it are answered
    } else {
      // Nothing of ours before it: the device is busy with something else; pause.
      p.timer = setTimeout(
        () => {
          if (this.closed || this.broken) return;
          this.queue.push(p);
          this.pump();
        },
        Math.min(50, 5 * p.busy),
      );
    }
  }

  private onData(chunk: Uint8Array): void {
    this.stats.bytesIn += chunk.length;
    this.lastRxAt = performance.now();
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
        if (frame.payload[0] === Status.BUSY) {
          this.onBusy(p, { status: Status.BUSY, body: frame.payload.subarray(1) });
          continue;
        }
        this.inflight.splice(i, 1);
        clearTimeout(p.timer);
        if (p.attempts === 0 && p.busy === 0 && p.opts.computeMs === undefined) {
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
