// MockDevice: an in-process model of the device end of the link (protocol version 2),
// as a Transport, for unit tests of the host side without Verilator. It follows the same
// rules as rtl/npu_link.v (statuses, range checks, repeated-request replay, packed INFER
// parts with their tags) and can be told to lose or corrupt frames in either direction.
// Its program does nothing: a run leaves AMEM as it is (outputs read where the inputs
// were written come back unchanged).
import {
  bytesToWords,
  Cmd,
  encodeFrame,
  FrameDecoder,
  readU16,
  readU32,
  Status,
  u16,
  u32,
  wordsToBytes,
} from './frame.ts';
import type { Transport } from './transport.ts';

export interface MockFaults {
  /** The next n requests are lost on the way to the device. */
  dropRequests: number;
  /** The next n replies are lost on the way back. */
  dropReplies: number;
  /** The next n replies arrive with one bit flipped. */
  corruptReplies: number;
}

export class MockDevice implements Transport {
  readonly path = 'mock';
  readonly faults: MockFaults = { dropRequests: 0, dropReplies: 0, corruptReplies: 0 };
  /** Commands executed (a replayed request does not count). */
  readonly executed: Record<number, number> = {};
  readonly mem: Uint32Array[];
  private listeners: ((c: Uint8Array) => void)[] = [];
  private closeListeners: ((reason: string) => void)[] = [];
  private readonly decoder = new FrameDecoder();
  private last: { cmd: number; seq: number; reply: Uint8Array } | null = null;
  /** INFER parts: the input being written, and the inference that ran. */
  private asm: { tag: number; next: number } | null = null;
  private done: number | null = null;
  private cursor = { addr: 0, lanes: 1 };
  runCycles = 1234;
  /** The program: what a run does to AMEM (its bytes); nothing by default. */
  onRun?: (amem: Uint8Array) => void;

  constructor(
    readonly sizes = { amem: 4096, wmem: 8192, dmem: 256, cnt: 33 },
    readonly maxPayload = 256,
    readonly dim = 8,
  ) {
    this.mem = [
      new Uint32Array(sizes.amem),
      new Uint32Array(sizes.wmem),
      new Uint32Array(sizes.dmem),
      new Uint32Array(sizes.cnt),
    ];
  }

  async write(data: Uint8Array): Promise<void> {
    for (const ev of this.decoder.push(data)) {
      if (ev.kind !== 'frame') continue;
      if (this.faults.dropRequests > 0) {
        this.faults.dropRequests--;
        continue;
      }
      const { cmd, seq, payload } = ev.frame;
      let reply: Uint8Array;
      if (cmd !== Cmd.INFER && this.last && this.last.cmd === cmd && this.last.seq === seq) {
        reply = this.last.reply;
      } else {
        this.executed[cmd] = (this.executed[cmd] ?? 0) + 1;
        const body = this.execute(cmd, payload);
        reply = encodeFrame(cmd | 0x80, seq, body);
        this.last = cmd === Cmd.RESET || body[0] === Status.BUSY ? null : { cmd, seq, reply };
      }
      this.deliver(reply);
    }
  }

  onData(listener: (chunk: Uint8Array) => void): void {
    this.listeners.push(listener);
  }
  onClose(listener: (reason: string) => void): void {
    this.closeListeners.push(listener);
  }
  /** The port goes away (a USB cable pulled, the simulated board killed). */
  unplug(): void {
    for (const l of this.closeListeners) l('closed');
  }
  async discardInput(): Promise<void> {}
  async close(): Promise<void> {}

  private deliver(reply: Uint8Array): void {
    if (this.faults.dropReplies > 0) {
      this.faults.dropReplies--;
      return;
    }
    let bytes = reply;
    if (this.faults.corruptReplies > 0) {
      this.faults.corruptReplies--;
      bytes = reply.slice();
      bytes[bytes.length - 3] ^= 0x10;
    }
    setImmediate(() => this.listeners.forEach((l) => l(bytes)));
  }

  private execute(cmd: number, p: Uint8Array): Uint8Array {
    const sizes = this.mem.map((m) => m.length);
    const fits = (space: number, addr: number, n: number) => addr + n <= sizes[space];
    const status = (s: number, ...body: number[]) => new Uint8Array([s, ...body]);
    switch (cmd) {
      case Cmd.IDENTIFY: {
        if (p.length) return status(Status.BAD_LEN);
        const { amem, wmem, dmem, cnt } = this.sizes;
        return status(
          Status.OK,
          2,
          this.dim,
          ...u16(1024),
          ...u32(amem),
          ...u32(wmem),
          ...u32(dmem),
          ...u32(cnt),
          ...u32(12_000_000),
          ...u16(104),
          ...u16(this.maxPayload),
          16,
          ...u16(0),
          ...u16(0),
          ...u16(0),
          ...u16(0),
          ...u32(0), // no AMEM extension
        );
      }
      case Cmd.WRITE: {
        if (p.length < 5 || (p.length - 5) % 4) return status(Status.BAD_LEN);
        const space = p[0],
          addr = readU32(p, 1),
          words = bytesToWords(p, 5);
        if (space > 2) return status(Status.BAD_SPACE);
        if (!fits(space, addr, words.length)) return status(Status.BAD_ADDR);
        this.mem[space].set(words, addr);
        return status(Status.OK);
      }
      case Cmd.READ: {
        if (p.length !== 7) return status(Status.BAD_LEN);
        const space = p[0],
          addr = readU32(p, 1),
          n = readU16(p, 5);
        if (space > 3) return status(Status.BAD_SPACE);
        if (4 * n + 1 > this.maxPayload) return status(Status.BAD_LEN);
        if (!fits(space, addr, n)) return status(Status.BAD_ADDR);
        return status(Status.OK, ...wordsToBytes(this.mem[space].subarray(addr, addr + n)));
      }
      case Cmd.RUN:
        if (p.length !== 1) return status(Status.BAD_LEN);
        this.onRun?.(new Uint8Array(this.mem[0].buffer));
        return status(Status.OK, ...u32(this.runCycles));
      case Cmd.INFER:
        return this.infer(p);
      case Cmd.RESET:
        this.asm = null;
        this.done = null;
        return status(Status.OK);
      default:
        return status(Status.BAD_CMD);
    }
  }

  /** The AMEM host words a packed walk of n bytes from addr touches, or null past the end. */
  private walk(
    addr: number,
    lanes: number,
    n: number,
    visit?: (word: number, byte: number, i: number) => void,
  ) {
    const sub = this.dim / 4;
    let a = addr;
    let lane = 0;
    for (let i = 0; i < n; i++) {
      visit?.(a, lane % 4, i);
      const end = lane === lanes - 1;
      if (end || lane % 4 === 3) a = end ? (a | (sub - 1)) + 1 : a + 1;
      lane = end ? 0 : lane + 1;
    }
    return { end: a + (lane % 4 !== 0 ? 1 : 0), lane };
  }

  private infer(p: Uint8Array): Uint8Array {
    const st = (s: number, ...body: number[]) => new Uint8Array([s, ...body]);
    if (p.length < 1) return st(Status.BAD_LEN);
    const tag = p[0] >> 6,
      last = (p[0] & 0x20) !== 0,
      part = p[0] & 0x1f;
    let action: 'exec' | 'replay' | 'ok' | 'busy';
    if (this.asm && this.asm.tag === tag)
      action = part < this.asm.next ? 'ok' : part === this.asm.next ? 'exec' : 'busy';
    else if (this.done === tag) action = last ? 'replay' : 'ok';
    else action = !this.asm && part === 0 ? 'exec' : 'busy';
    if (action === 'ok') return st(Status.OK);
    if (action === 'busy') return st(Status.BUSY);
    let off = 1;
    let inField: { lanes: number; addr: number } | null = null;
    if (part === 0) {
      inField = { lanes: p[1] + 1, addr: readU16(p, 2) };
      off += 3;
    }
    let out: { lanes: number; addr: number; count: number } | null = null;
    if (last) {
      out = { lanes: p[off] + 1, addr: readU16(p, off + 1), count: readU16(p, off + 3) };
      off += 6;
    }
    if (off > p.length) return st(Status.BAD_LEN);
    const amem = this.mem[0];
    const bytes = new Uint8Array(amem.buffer);
    const readOut = () => {
      const r: number[] = [];
      this.walk(out!.addr, out!.lanes, out!.count, (w, b) => r.push(bytes[4 * w + b]));
      return st(Status.OK, ...r, ...u32(this.runCycles));
    };
    if (out) {
      if (out.lanes > this.dim || out.count + 5 > this.maxPayload) return st(Status.BAD_LEN);
      if (this.walk(out.addr, out.lanes, out.count).end > amem.length) return st(Status.BAD_ADDR);
    }
    if (action === 'replay') return readOut();
    const cur = inField ?? this.cursor;
    const data = p.subarray(off);
    if (cur.lanes > this.dim) return st(Status.BAD_LEN);
    const w = this.walk(cur.addr, cur.lanes, data.length);
    if (!last && w.lane !== 0) return st(Status.BAD_LEN);
    if (w.end > amem.length) return st(Status.BAD_ADDR);
    this.walk(cur.addr, cur.lanes, data.length, (word, b, i) => (bytes[4 * word + b] = data[i]));
    this.cursor = { addr: w.end, lanes: cur.lanes };
    if (!last) {
      this.asm = { tag, next: part + 1 };
      return st(Status.OK);
    }
    this.asm = null;
    this.done = tag;
    this.onRun?.(bytes);
    return readOut();
  }
}
