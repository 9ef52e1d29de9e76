// MockDevice: an in-process model of the device end of the link, as a Transport, for
// unit tests of the host side without Verilator. It follows the same rules as
// rtl/npu_link.v (statuses, range checks, repeated-request replay) and can be told to
// lose or corrupt frames in either direction.
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
  private readonly decoder = new FrameDecoder();
  private last: { cmd: number; seq: number; reply: Uint8Array } | null = null;
  runCycles = 1234;

  constructor(
    readonly sizes = { amem: 4096, wmem: 8192, dmem: 256, cnt: 33 },
    readonly maxPayload = 256,
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
      if (this.last && this.last.cmd === cmd && this.last.seq === seq) {
        reply = this.last.reply;
      } else {
        this.executed[cmd] = (this.executed[cmd] ?? 0) + 1;
        reply = encodeFrame(cmd | 0x80, seq, this.execute(cmd, payload));
        this.last = cmd === Cmd.RESET ? null : { cmd, seq, reply };
      }
      this.deliver(reply);
    }
  }

  onData(listener: (chunk: Uint8Array) => void): void {
    this.listeners.push(listener);
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
          1,
          8,
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
        return p.length ? status(Status.BAD_LEN) : status(Status.OK, ...u32(this.runCycles));
      case Cmd.INFER: {
        if (p.length < 10 || (p.length - 10) % 4) return status(Status.BAD_LEN);
        const inAddr = readU32(p, 0),
          outAddr = readU32(p, 4),
          n = readU16(p, 8),
          words = bytesToWords(p, 10);
        if (4 * n + 5 > this.maxPayload) return status(Status.BAD_LEN);
        if (!fits(0, inAddr, words.length) || !fits(0, outAddr, n)) return status(Status.BAD_ADDR);
        this.mem[0].set(words, inAddr);
        return status(
          Status.OK,
          ...wordsToBytes(this.mem[0].subarray(outAddr, outAddr + n)),
          ...u32(this.runCycles),
        );
      }
      case Cmd.RESET:
        return status(Status.OK);
      default:
        return status(Status.BAD_CMD);
    }
  }
}
