// A link fuzzer against the simulated board (the real RTL link and core in Verilator
// behind a pty): random, truncated and mutated frames, CRC-valid frames with hostile
// fields and hostile descriptor programs, one at a time. Every CRC-valid request must be
// answered exactly once, with its cmd and seq and a status that agrees with its fields
// (a valid request OK, an invalid one refused); a frame whose CRC cannot check must not
// be answered. A shadow of the memories follows the writes the device accepted (and
// forgets AMEM after a program ran, since a program may write anywhere in it); every READ
// it answers must agree with the shadow, and every `checkEvery` frames IDENTIFY must
// answer and fence regions of every space are read back and compared.
// Used by test/link/fuzz.test.ts (a short run) and scripts/fuzz-link.ts (a long one).
import {
  Cmd,
  encodeFrame,
  FrameDecoder,
  readU16,
  Status,
  u16,
  u32,
  wordsToBytes,
  bytesToWords,
  type Frame,
} from '../../host/link/frame.ts';
import { SerialTransport } from '../../host/link/transport.ts';

const SP_AMEM = 0;
const SP_WMEM = 1;
const SP_DMEM = 2;
const SP_CNT = 3;

export interface FuzzOptions {
  /** Frames to send (probes and fence checks not counted). */
  frames: number;
  seed: number;
  /** IDENTIFY and fence read-back every this many frames. */
  checkEvery?: number;
  /** Called with a line now and then. */
  log?: (line: string) => void;
}

export interface FuzzReport {
  frames: number;
  /** Frames by kind, and the wall-clock milliseconds spent on each kind. */
  kinds: Record<string, number>;
  kindMs: Record<string, number>;
  /** Requests answered, and program runs among them (OK or WATCHDOG). */
  replies: number;
  runs: number;
  /** Requests that got no answer (the device was then brought back by RESET), described. */
  hangs: string[];
  /** Answers that disagree with the request or the shadow, described. */
  wrong: string[];
  /** Fence checks done (IDENTIFY + read-back), and words compared in them. */
  checks: number;
  wordsCompared: number;
  seconds: number;
}

/** mulberry32: a small seeded generator (the runs must be repeatable by seed). */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return {
    next,
    int,
    u32: () => (int(0x10000) * 0x10000 + int(0x10000)) >>> 0,
    pick: <T>(xs: readonly T[]) => xs[int(xs.length)],
    bytes: (n: number) => Uint8Array.from({ length: n }, () => int(256)),
  };
}
type Rng = ReturnType<typeof rng>;

interface Sizes {
  amem: number;
  wmem: number;
  dmem: number;
  cnt: number;
  maxPayload: number;
}

/** What the device's memories must hold: words and whether each is known. */
class Shadow {
  readonly words: Uint32Array[];
  readonly known: Uint8Array[];
  constructor(readonly sizes: number[]) {
    this.words = sizes.map((n) => new Uint32Array(n));
    this.known = sizes.map((n) => new Uint8Array(n));
  }
  set(space: number, addr: number, data: Uint32Array): void {
    this.words[space].set(data, addr);
    this.known[space].fill(1, addr, addr + data.length);
  }
  forget(space: number): void {
    this.known[space].fill(0);
  }
  /** The first disagreement of data read at addr, or null. */
  compare(space: number, addr: number, data: Uint32Array): string | null {
    for (let i = 0; i < data.length; i++) {
      const a = addr + i;
      if (this.known[space][a] && this.words[space][a] !== data[i])
        return `space ${space} word ${a}: read 0x${data[i].toString(16)}, wrote 0x${this.words[space][a].toString(16)}`;
    }
    return null;
  }
  countKnown(space: number, addr: number, n: number): number {
    let k = 0;
    for (let i = addr; i < addr + n; i++) k += this.known[space][i];
    return k;
  }
}

/** A request the fuzzer sends, and what it knows about it. */
interface Req {
  kind: string;
  cmd: number;
  seq: number;
  payload: Uint8Array;
  /** The device must refuse it (non-OK status); undefined: either is fine. */
  valid?: boolean;
  /** Replies may take long (a program runs). */
  runs?: boolean;
}

export class LinkFuzzer {
  private replies: Frame[] = [];
  private decoder = new FrameDecoder((cmd) => (cmd & 0x80) !== 0);
  private seq = 1;
  private last: { cmd: number; seq: number } | null = null;
  private shadow!: Shadow;
  private sizes!: Sizes;
  private fences: [number, number, number][] = [];
  private readonly r: Rng;
  private readonly report: FuzzReport = {
    frames: 0,
    kinds: {},
    kindMs: {},
    replies: 0,
    runs: 0,
    hangs: [],
    wrong: [],
    checks: 0,
    wordsCompared: 0,
    seconds: 0,
  };

  private constructor(
    private readonly t: SerialTransport,
    private readonly opts: FuzzOptions,
  ) {
    this.r = rng(opts.seed);
    t.onData((c) => {
      for (const ev of this.decoder.push(c)) if (ev.kind === 'frame') this.replies.push(ev.frame);
    });
  }

  /** Runs the fuzzer on the board behind `port`; the port must not be open elsewhere. */
  static async run(port: string, opts: FuzzOptions): Promise<FuzzReport> {
    const t = await SerialTransport.open(port, { baudRate: 115200 });
    const f = new LinkFuzzer(t, opts);
    try {
      return await f.go();
    } finally {
      await t.close();
    }
  }

  private wrong(what: string): void {
    this.report.wrong.push(`frame ${this.report.frames}: ${what}`);
    this.opts.log?.(`WRONG frame ${this.report.frames}: ${what}`);
  }

  private async send(bytes: Uint8Array): Promise<void> {
    await this.t.write(bytes);
  }

  /** The reply to seq (cmd | 0x80), or null after timeoutMs; stale replies are dropped. */
  private async reply(cmd: number, seq: number, timeoutMs: number): Promise<Frame | null> {
    const t0 = Date.now();
    for (;;) {
      const i = this.replies.findIndex((f) => f.seq === seq && f.cmd === (cmd | 0x80));
      if (i >= 0) {
        const f = this.replies[i];
        this.replies.splice(0, i + 1);
        return f;
      }
      if (Date.now() - t0 > timeoutMs) return null;
      await new Promise((res) => setTimeout(res, 1));
    }
  }

  /** Sends a request and waits for its reply (bounded, generous: the host is shared). */
  private async request(req: Req, ms?: number): Promise<Frame | null> {
    this.replies.length = 0;
    await this.send(encodeFrame(req.cmd, req.seq, req.payload));
    return this.reply(req.cmd, req.seq, ms ?? (req.runs ? 60_000 : 3000 + req.payload.length));
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) & 0xff;
    return this.seq;
  }

  /** A request of the fuzzer's own (set-up, checks): must be answered OK. */
  private async must(
    cmd: number,
    payload: Uint8Array,
    what: string,
    attempts = 3,
    ms?: number,
  ): Promise<Frame> {
    for (let attempt = 0; attempt < attempts; attempt++) {
      const seq = this.nextSeq();
      const rep = await this.request({ kind: 'own', cmd, seq, payload }, ms);
      if (rep && rep.payload[0] === Status.OK) {
        this.last = cmd === Cmd.RESET ? null : { cmd, seq };
        return rep;
      }
      if (rep) throw new Error(`${what}: status ${rep.payload[0]}`);
      // no answer: a stalled frame before it may have eaten it; the receiver's watchdog
      // frees it (256 byte times)
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`${what}: no answer after ${attempts} attempts (the device is stuck)`);
  }

  private async identify(attempts = 3, ms?: number): Promise<Sizes> {
    const rep = await this.must(Cmd.IDENTIFY, new Uint8Array(0), 'IDENTIFY', attempts, ms);
    const b = rep.payload;
    if (b.length !== 42 || b[1] !== 2)
      throw new Error(`IDENTIFY answered ${b.length} bytes, version ${b[1]}`);
    const dv = new DataView(b.buffer, b.byteOffset + 1);
    return {
      amem: dv.getUint32(4, true),
      wmem: dv.getUint32(8, true),
      dmem: dv.getUint32(12, true),
      cnt: dv.getUint32(16, true),
      maxPayload: dv.getUint16(26, true),
    };
  }

  private async writeOwn(space: number, addr: number, data: Uint32Array): Promise<void> {
    const max = (this.sizes.maxPayload - 5) >> 2;
    for (let o = 0; o < data.length; o += max) {
      const part = data.subarray(o, o + max);
      await this.must(
        Cmd.WRITE,
        Uint8Array.from([space, ...u32(addr + o), ...wordsToBytes(part)]),
        'fence write',
      );
      this.shadow.set(space, addr + o, part);
    }
  }

  private async readOwn(space: number, addr: number, n: number): Promise<Uint32Array> {
    const max = (this.sizes.maxPayload - 1) >> 2;
    const out = new Uint32Array(n);
    for (let o = 0; o < n; o += max) {
      const k = Math.min(max, n - o);
      const rep = await this.must(
        Cmd.READ,
        Uint8Array.from([space, ...u32(addr + o), ...u16(k)]),
        'fence read',
      );
      if (rep.payload.length !== 1 + 4 * k)
        throw new Error(`READ of ${k} words answered ${rep.payload.length - 1} bytes`);
      out.set(bytesToWords(rep.payload, 1), o);
    }
    return out;
  }

  /** IDENTIFY answers, the fences hold what the shadow says (AMEM's written again after a run). */
  private async check(): Promise<void> {
    await this.identify();
    for (const [space, addr, n] of this.fences) {
      const got = await this.readOwn(space, addr, n);
      this.report.wordsCompared += this.shadow.countKnown(space, addr, n);
      const bad = this.shadow.compare(space, addr, got);
      if (bad) this.wrong(`fence check: ${bad}`);
      if (this.shadow.countKnown(space, addr, n) < n || (space === SP_DMEM && this.program)) {
        await this.writeOwn(space, addr, this.fence(space, n));
        if (space === SP_DMEM) this.program = false;
      }
    }
    this.report.checks++;
  }

  /**
   * Random fence contents; in DMEM every descriptor's op word 0 (END), so that a run ends
   * at once unless a hostile program was written (a program of random words runs for
   * the whole cycle limit one time in eight, which would slow the fuzzer down).
   */
  private fence(space: number, n: number): Uint32Array {
    const w = Uint32Array.from({ length: n }, () => this.r.u32());
    if (space === SP_DMEM) for (let i = 0; i < n; i += 16) w[i] = 0;
    return w;
  }
  /** DMEM holds a hostile program (written again with ENDs at the next check). */
  private program = false;

  private async go(): Promise<FuzzReport> {
    const t0 = Date.now();
    // a RESET first: whatever state a previous user left
    await this.must(Cmd.RESET, new Uint8Array(0), 'RESET');
    this.sizes = await this.identify();
    const s = this.sizes;
    this.shadow = new Shadow([s.amem, s.wmem, s.dmem, s.cnt]);
    // fences: both ends and the middle of AMEM and WMEM, all of DMEM
    const n = 48;
    this.fences = [
      [SP_AMEM, 0, n],
      [SP_AMEM, s.amem / 2 - n / 2, n],
      [SP_AMEM, s.amem - n, n],
      [SP_WMEM, 0, n],
      [SP_WMEM, s.wmem / 2 - n / 2, n],
      [SP_WMEM, s.wmem - n, n],
      [SP_DMEM, 0, s.dmem],
    ];
    for (const [space, addr, k] of this.fences) await this.writeOwn(space, addr, this.fence(space, k));
    const every = this.opts.checkEvery ?? 100;
    while (this.report.frames < this.opts.frames) {
      const t1 = Date.now();
      await this.one();
      const k = this.lastKind;
      this.report.kindMs[k] = (this.report.kindMs[k] ?? 0) + Date.now() - t1;
      this.report.frames++;
      if (this.report.frames % every === 0) {
        await this.check();
        if (this.report.frames % (every * 10) === 0)
          this.opts.log?.(
            `${this.report.frames} frames, ${this.report.hangs.length} hangs, ${this.report.wrong.length} wrong, ` +
              `${((Date.now() - t0) / 1000).toFixed(0)} s`,
          );
      }
    }
    await this.check();
    this.report.seconds = (Date.now() - t0) / 1000;
    return this.report;
  }

  // ------------------------------------------------------------------ frame makers
  /** An address in a space, biased to the fences, the ends and past them. */
  private addr(size: number, words: number): number {
    const r = this.r;
    switch (r.int(6)) {
      case 0:
        return r.u32(); // anywhere, mostly far out
      case 1:
        return (size - words + r.int(5) - 2) >>> 0; // across the end (or wrapping below 0)
      case 2:
        return (0x100000000 - 1 - r.int(4)) >>> 0; // wraps in 32 bits
      default: {
        const f = r.pick(this.fences);
        return Math.max(0, f[1] + r.int(f[2] + 8) - 4);
      }
    }
  }

  private spaceSize(space: number): number {
    return [this.sizes.amem, this.sizes.wmem, this.sizes.dmem, this.sizes.cnt][space] ?? 0;
  }

  private words(): number {
    const r = this.r;
    const max = (this.sizes.maxPayload - 5) >> 2;
    if (r.next() < 0.05) return r.pick([r.int(max) + 1, max, max + 1]);
    return r.pick([1, 1, 2, 3, 7, 16, 40, r.int(200) + 1]);
  }

  private makeWrite(): Req {
    const r = this.r;
    const hostile = r.next() < 0.4;
    const space = hostile ? r.pick([0, 1, 2, 3, 4, 7, 128, 255]) : r.pick([SP_AMEM, SP_WMEM, SP_DMEM]);
    const k = this.words();
    const addr = this.addr(this.spaceSize(space), k);
    let data = r.bytes(4 * k);
    if (hostile && r.next() < 0.3) data = data.subarray(0, Math.max(0, data.length - 1 - r.int(3)));
    const payload = Uint8Array.from([space, ...u32(addr), ...data]);
    const valid =
      space <= SP_DMEM &&
      data.length > 0 &&
      data.length % 4 === 0 &&
      addr + data.length / 4 <= this.spaceSize(space) &&
      payload.length <= this.sizes.maxPayload;
    return { kind: hostile ? 'write-hostile' : 'write', cmd: Cmd.WRITE, seq: 0, payload, valid };
  }

  private makeRead(): Req {
    const r = this.r;
    const hostile = r.next() < 0.4;
    const space = hostile ? r.pick([0, 1, 2, 3, 5, 255]) : r.pick([SP_AMEM, SP_WMEM, SP_DMEM, SP_CNT]);
    let k = this.words();
    if (hostile && r.next() < 0.3) k = r.pick([0, 0xffff, (this.sizes.maxPayload >> 2) + 1]);
    const addr = this.addr(this.spaceSize(space), k);
    let payload = Uint8Array.from([space, ...u32(addr), ...u16(k)]);
    if (hostile && r.next() < 0.2) payload = payload.subarray(0, r.int(payload.length));
    const valid =
      payload.length === 7 &&
      space <= SP_CNT &&
      k > 0 &&
      addr + k <= this.spaceSize(space) &&
      4 * k + 1 <= this.sizes.maxPayload;
    // a zero count is not specified either way
    return {
      kind: hostile ? 'read-hostile' : 'read',
      cmd: Cmd.READ,
      seq: 0,
      payload,
      valid: k === 0 ? undefined : valid,
    };
  }

  /** Random descriptors, biased to small extents so that some layers really run. */
  private makeProgram(): Req {
    const r = this.r;
    const layers = 1 + r.int(3);
    const w = new Uint32Array(16 * layers);
    for (let l = 0; l < layers; l++) {
      for (let i = 0; i < 16; i++) {
        const small = r.int(4) | (r.int(4) << 8) | (r.int(4) << 16) | (r.int(4) << 24);
        w[16 * l + i] = r.next() < 0.6 ? small : r.u32();
      }
      w[16 * l] = r.next() < 0.8 ? r.pick([1, 2, 0x11, 0x12]) : r.u32();
    }
    const payload = Uint8Array.from([SP_DMEM, ...u32(0), ...wordsToBytes(w)]);
    return { kind: 'program', cmd: Cmd.WRITE, seq: 0, payload, valid: true };
  }

  private makeRun(): Req {
    const limit = 1;
    return { kind: 'run', cmd: Cmd.RUN, seq: 0, payload: Uint8Array.of(limit), valid: true, runs: true };
  }

  private makeInfer(): Req {
    const r = this.r;
    const tag = r.int(4);
    const last = r.next() < 0.6 ? 1 : 0;
    const part = r.next() < 0.7 ? 0 : r.int(32);
    const head = [(tag << 6) | (last << 5) | part];
    if (part === 0)
      head.push(r.pick([0, 2, 7, 8, 255]), ...u16(this.r.pick([0, 2, 1000, 8190, 65535, r.int(65536)])));
    if (last)
      head.push(
        r.pick([0, 3, 7, 9]),
        ...u16(r.pick([0, 4, 2000, 32766, r.int(65536)])),
        ...u16(r.pick([0, 1, 30, 8183, 8184, r.int(65536)])),
        r.pick([1, 1, 2]),
      );
    const payload = Uint8Array.from([...head, ...r.bytes(r.pick([0, 1, 3, 8, 24, 100, r.int(3000)]))]);
    return { kind: 'infer', cmd: Cmd.INFER, seq: 0, payload, runs: true };
  }

  private makeOther(): Req {
    const r = this.r;
    switch (r.int(3)) {
      case 0:
        return { kind: 'identify', cmd: Cmd.IDENTIFY, seq: 0, payload: new Uint8Array(0), valid: true };
      case 1:
        return { kind: 'identify-payload', cmd: Cmd.IDENTIFY, seq: 0, payload: r.bytes(1 + r.int(8)) };
      default:
        return {
          kind: 'bad-cmd',
          cmd: r.pick([0x00, 0x07, 0x08, 0x13, 0x42, 0x7f]),
          seq: 0,
          payload: r.bytes(r.int(20)),
          valid: false,
        };
    }
  }

  // ------------------------------------------------------------------ one frame
  private async one(): Promise<void> {
    const r = this.r;
    const p = r.next();
    let req: Req;
    if (p < 0.22) req = this.makeWrite();
    else if (p < 0.38) req = this.makeRead();
    else if (p < 0.39) req = this.makeProgram();
    else if (p < 0.395) req = this.makeRun();
    else if (p < 0.48) req = this.makeInfer();
    else if (p < 0.58) req = this.makeOther();
    else if (p < 0.6)
      req = { kind: 'reset', cmd: Cmd.RESET, seq: 0, payload: new Uint8Array(0), valid: true };
    else if (p < 0.72) return this.mutated();
    else req = this.makeWrite();
    // a retransmission now and then: same cmd and seq as the last answered request
    const repeat = this.last !== null && this.last.cmd === req.cmd && r.next() < 0.3;
    req.seq = repeat ? this.last!.seq : this.nextSeq();
    const isRepeat =
      this.last !== null && this.last.cmd === req.cmd && this.last.seq === req.seq && req.cmd !== Cmd.INFER;
    this.count(isRepeat ? `${req.kind}-repeat` : req.kind);

    const rep = await this.request(req);
    if (!rep) {
      const what = `frame ${this.report.frames}: no answer to ${req.kind} (cmd ${req.cmd}, seq ${req.seq}, ${req.payload.length} bytes)`;
      this.report.hangs.push(what);
      this.opts.log?.(`HANG ${what}`);
      await this.recover();
      return;
    }
    this.report.replies++;
    const st = rep.payload[0];
    // what the device remembers to recognise a retransmission (INFER: its tags instead;
    // not knowing whether an INFER replaces it, no repeat is tried right after one)
    if (req.cmd === Cmd.RESET || req.cmd === Cmd.INFER) this.last = null;
    else if (st !== Status.BUSY) this.last = { cmd: req.cmd, seq: req.seq };
    if (st > Status.WATCHDOG) return this.wrong(`${req.kind}: status ${st}`);
    if (st === Status.BUSY && req.cmd !== Cmd.INFER)
      return this.wrong(`${req.kind}: BUSY with nothing running`);
    if (st === Status.WATCHDOG && !req.runs) return this.wrong(`${req.kind}: WATCHDOG`);
    if (st !== Status.OK && st !== Status.WATCHDOG && rep.payload.length !== 1)
      return this.wrong(`${req.kind}: error status ${st} with ${rep.payload.length - 1} body bytes`);
    if (!isRepeat && req.valid === true && st !== Status.OK && !(req.runs && st === Status.WATCHDOG))
      return this.wrong(`${req.kind}: a valid request refused with status ${st}`);
    if (!isRepeat && req.valid === false && st === Status.OK)
      return this.wrong(`${req.kind}: an invalid request answered OK`);

    if (req.runs && (st === Status.OK || st === Status.WATCHDOG)) {
      // a program may write any AMEM word (and the counters)
      this.shadow.forget(SP_AMEM);
      this.shadow.forget(SP_CNT);
      if (req.cmd === Cmd.RUN || rep.payload.length > 1 || st === Status.WATCHDOG) this.report.runs++;
    }
    if (st !== Status.OK) return;
    const b = req.payload;
    if (req.kind === 'program' && !isRepeat) this.program = true;
    if (req.cmd === Cmd.WRITE && !isRepeat) {
      this.shadow.set(b[0], (b[1] | (b[2] << 8) | (b[3] << 16) | (b[4] << 24)) >>> 0, bytesToWords(b, 5));
    } else if (req.cmd === Cmd.READ) {
      const k = readU16(b, 5);
      if (rep.payload.length !== 1 + 4 * k)
        return this.wrong(`READ of ${k} words answered ${rep.payload.length - 1} bytes`);
      const addr = (b[1] | (b[2] << 8) | (b[3] << 16) | (b[4] << 24)) >>> 0;
      const bad = b[0] === SP_CNT ? null : this.shadow.compare(b[0], addr, bytesToWords(rep.payload, 1));
      if (bad) this.wrong(`READ: ${bad}`);
    } else if (req.cmd === Cmd.IDENTIFY && b.length === 0 && rep.payload.length !== 42) {
      this.wrong(`IDENTIFY answered ${rep.payload.length} bytes`);
    } else if (req.cmd === Cmd.RUN && rep.payload.length !== 5) {
      this.wrong(`RUN answered ${rep.payload.length} bytes`);
    }
  }

  private lastKind = '';
  private count(kind: string): void {
    this.lastKind = kind;
    this.report.kinds[kind] = (this.report.kinds[kind] ?? 0) + 1;
  }

  /**
   * A frame whose CRC cannot check: truncated, a byte changed (a burst of at most 8 bits,
   * which CRC-16 always detects), or garbage. Nothing may answer it; the receiver drops
   * it (at once, or by its watchdog when it waits for bytes that never come).
   */
  private async mutated(): Promise<void> {
    const r = this.r;
    const base = r.pick([
      () => this.makeWrite(),
      () => this.makeRead(),
      () => this.makeOther(),
      () => this.makeInfer(),
    ])();
    const seq = this.nextSeq();
    let f = encodeFrame(base.cmd, seq, base.payload);
    let kind: string;
    switch (r.int(3)) {
      case 0:
        kind = 'truncated';
        f = f.subarray(0, 1 + r.int(f.length - 1));
        break;
      case 1: {
        kind = 'corrupted';
        f = f.slice();
        const i = 1 + r.int(f.length - 1);
        f[i] ^= 1 + r.int(255);
        break;
      }
      default:
        kind = 'garbage';
        f = r.bytes(1 + r.int(r.pick([4, 40, 400])));
        // no frame may hide in it by chance (a sync, a header and a matching CRC)
        if (new FrameDecoder().push(f).some((e) => e.kind === 'frame'))
          f = f.map((x) => (x === 0xa5 ? 0 : x));
    }
    this.count(kind);
    this.replies.length = 0;
    await this.send(f);
    // an answer would come within a few frame times; the receiver's watchdog (256 byte
    // times of the simulated UART) is far shorter than this wait
    // (the simulated UART takes some 30 us a byte to deliver them)
    await new Promise((res) => setTimeout(res, 20 + 0.05 * f.length));
    const rep = this.replies.find((x) => x.seq === seq);
    if (rep) this.wrong(`${kind} frame (cmd ${base.cmd}, seq ${seq}) answered with status ${rep.payload[0]}`);
    // the device must answer the next good frame (a probe: IDENTIFY, retried while a
    // stalled frame may still swallow it)
    await this.identify(20, 300);
  }

  /** After a hang: RESET must answer (the device can always be brought back). */
  private async recover(): Promise<void> {
    await this.must(Cmd.RESET, new Uint8Array(0), 'RESET after a hang');
    this.last = null;
    this.shadow.forget(SP_AMEM);
  }
}
