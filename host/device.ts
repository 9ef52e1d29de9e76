// Device: the accelerator behind a link, as the rest of the host sees it. Memory
// transfers are chunked to the device's max_payload and pipelined; a refused request
// becomes a DeviceStatusError; a model image is checked against the sizes IDENTIFY
// reports before anything is written.
import { DeviceError, ModelTooLargeError } from './errors.ts';
import type { DeviceConfig, DeviceImage } from './compiler/types.ts';
import {
  bytesToWords,
  Cmd,
  DeviceStatusError,
  readU16,
  readU32,
  Status,
  u16,
  u32,
  wordsToBytes,
} from './link/frame.ts';
import type { Reply } from './link/link.ts';
import { Link, type LinkOptions, type LinkStats } from './link/link.ts';
import type { Transport } from './link/transport.ts';
import type { ProgressListener } from './progress.ts';

export const Space = { AMEM: 0, WMEM: 1, DMEM: 2, CNT: 3 } as const;
export type SpaceCode = (typeof Space)[keyof typeof Space];
const SPACE_NAMES = ['AMEM', 'WMEM', 'DMEM', 'CNT'];

/** IDENTIFY's reply (ARCHITECTURE section 6); sizes in 32-bit host words. */
export interface DeviceInfo {
  version: number;
  dim: number;
  accDepth: number;
  amemWords: number;
  wmemWords: number;
  dmemWords: number;
  cntWords: number;
  clockHz: number;
  clocksPerBit: number;
  maxPayload: number;
  maxLayers: number;
  /** Device-side link error counters since its reset. */
  rxCrcErrors: number;
  rxFramingErrors: number;
  rxTimeouts: number;
  rxDropped: number;
}

export const IDENTIFY_BYTES = 37;

export function parseIdentify(body: Uint8Array): DeviceInfo {
  if (body.length < IDENTIFY_BYTES)
    throw new DeviceError(
      `IDENTIFY reply of ${body.length} bytes, expected ${IDENTIFY_BYTES}: not an nnfpga device?`,
    );
  return {
    version: body[0],
    dim: body[1],
    accDepth: readU16(body, 2),
    amemWords: readU32(body, 4),
    wmemWords: readU32(body, 8),
    dmemWords: readU32(body, 12),
    cntWords: readU32(body, 16),
    clockHz: readU32(body, 20),
    clocksPerBit: readU16(body, 24),
    maxPayload: readU16(body, 26),
    maxLayers: body[28],
    rxCrcErrors: readU16(body, 29),
    rxFramingErrors: readU16(body, 31),
    rxTimeouts: readU16(body, 33),
    rxDropped: readU16(body, 35),
  };
}

/** The compiler's view of a device (its memories in 32-bit host words). */
export function deviceConfig(info: DeviceInfo): DeviceConfig {
  return {
    dim: info.dim,
    amemWords: info.amemWords,
    wmemWords: info.wmemWords,
    dmemWords: info.dmemWords,
    accDepth: info.accDepth,
    maxLayers: info.maxLayers,
  };
}

export interface TransferOptions {
  /** Called with the words done so far. */
  onProgress?: (done: number) => void;
}

export class Device {
  private infoCache: DeviceInfo | null = null;
  /** Wall time of the last program run, for the next run's reply timeout. */
  private lastRunMs = 0;
  /** Frame payload the host uses: the device's max_payload, or less on a noisy line. */
  private payloadLimit = Infinity;

  constructor(
    readonly link: Link,
    /** Reply allowance for the first program run, before one has been timed. */
    private readonly firstRunMs = 10_000,
  ) {}

  /**
   * Opens a session on a device in any state (fresh, or left mid-request by a host that
   * was killed): drop stale bytes, IDENTIFY (few retries: a silent port fails fast),
   * then RESET, which the device answers after anything still queued from before and
   * which clears its repeated-request memory.
   */
  static async connect(
    transport: Transport,
    opts: LinkOptions & { firstRunMs?: number; identifyRetries?: number; payloadLimit?: number } = {},
  ): Promise<Device> {
    const link = new Link(transport, opts);
    const dev = new Device(link, opts.firstRunMs);
    dev.payloadLimit = opts.payloadLimit ?? Infinity;
    try {
      await link.drain();
      await dev.identify(opts.identifyRetries ?? 3);
      await dev.reset();
    } catch (err) {
      await link.close();
      throw err;
    }
    return dev;
  }

  get info(): DeviceInfo {
    if (!this.infoCache) throw new Error('Device.info before identify()');
    return this.infoCache;
  }

  /**
   * Largest payload this host puts in a frame: the device's max_payload, capped by the
   * connect option payloadLimit (short frames survive a noisy line: a frame of B bytes
   * gets through a bit-error rate p with probability (1-p)^(10B)).
   */
  get maxPayload(): number {
    return Math.max(16, Math.min(this.info.maxPayload, this.payloadLimit));
  }

  get stats(): LinkStats {
    return this.link.stats;
  }

  async identify(retries?: number): Promise<DeviceInfo> {
    const r = await this.link.request(Cmd.IDENTIFY, undefined, { replyBytes: 1 + IDENTIFY_BYTES, retries });
    this.check(r, Cmd.IDENTIFY, 'identify');
    this.infoCache = parseIdentify(r.body);
    return this.infoCache;
  }

  async reset(): Promise<void> {
    this.check(await this.link.request(Cmd.RESET, undefined, { barrier: true }), Cmd.RESET, 'reset');
  }

  /** Writes words at addr of a space, in max_payload chunks, two frames in flight. */
  async write(space: SpaceCode, addr: number, words: Uint32Array, opts: TransferOptions = {}): Promise<void> {
    const per = Math.floor((this.maxPayload - 5) / 4);
    const jobs: Promise<void>[] = [];
    let done = 0;
    for (let off = 0; off < words.length || (off === 0 && words.length === 0); off += per) {
      const chunk = words.subarray(off, Math.min(words.length, off + per));
      const payload = new Uint8Array(5 + chunk.length * 4);
      payload.set([space, ...u32(addr + off)]);
      payload.set(wordsToBytes(chunk), 5);
      jobs.push(
        this.link.request(Cmd.WRITE, payload).then((r) => {
          this.check(
            r,
            Cmd.WRITE,
            `${SPACE_NAMES[space]} words ${addr + off}..${addr + off + chunk.length - 1}`,
          );
          done += chunk.length;
          opts.onProgress?.(done);
        }),
      );
      if (words.length === 0) break;
    }
    await settleAll(jobs);
  }

  /** Reads count words at addr of a space. */
  async read(space: SpaceCode, addr: number, count: number): Promise<Uint32Array> {
    const per = Math.floor((this.maxPayload - 1) / 4);
    const out = new Uint32Array(count);
    const jobs: Promise<void>[] = [];
    for (let off = 0; off < count; off += per) {
      const n = Math.min(per, count - off);
      const payload = new Uint8Array([space, ...u32(addr + off), ...u16(n)]);
      jobs.push(
        this.link.request(Cmd.READ, payload, { replyBytes: 1 + 4 * n }).then((r) => {
          this.check(r, Cmd.READ, `${SPACE_NAMES[space]} words ${addr + off}..${addr + off + n - 1}`);
          out.set(bytesToWords(r.body, 0, n), off);
        }),
      );
    }
    await settleAll(jobs);
    return out;
  }

  /** Runs the program in DMEM; returns the cycles the device counted. */
  async run(): Promise<number> {
    const t0 = performance.now();
    const r = await this.link.request(Cmd.RUN, undefined, {
      replyBytes: 5,
      computeMs: this.computeMs(),
      barrier: true,
    });
    this.check(r, Cmd.RUN, 'run');
    this.lastRunMs = performance.now() - t0;
    return readU32(r.body, 0);
  }

  /**
   * One inference in one exchange when the input fits a frame: INFER writes the input
   * words at inAddr (AMEM), runs, and returns outCount words at outAddr with the cycles.
   * A larger input goes first as pipelined WRITEs, its last part inside INFER.
   */
  async infer(
    inAddr: number,
    input: Uint32Array,
    outAddr: number,
    outCount: number,
  ): Promise<{ output: Uint32Array; cycles: number }> {
    const maxIn = Math.floor((this.maxPayload - 10) / 4);
    const maxOut = Math.floor((this.maxPayload - 5) / 4);
    if (outCount > maxOut) {
      // outputs larger than one reply: separate WRITE, RUN, READ
      await this.write(Space.AMEM, inAddr, input);
      const cycles = await this.run();
      return { output: await this.read(Space.AMEM, outAddr, outCount), cycles };
    }
    const head = Math.max(0, input.length - maxIn);
    // The head's WRITEs must all be acknowledged before the INFER goes out: pipelined
    // with it, a WRITE frame lost on the line would let the INFER run on a partly old
    // input (the WRITE's retransmission lands too late), a silently wrong result.
    if (head > 0) await this.write(Space.AMEM, inAddr, input.subarray(0, head));
    const tail = input.subarray(head);
    const payload = new Uint8Array(10 + tail.length * 4);
    payload.set([...u32(inAddr + head), ...u32(outAddr), ...u16(outCount)]);
    payload.set(wordsToBytes(tail), 10);
    const t0 = performance.now();
    const r = await this.link.request(Cmd.INFER, payload, {
      replyBytes: 5 + 4 * outCount,
      computeMs: this.computeMs(),
    });
    this.check(
      r,
      Cmd.INFER,
      `input at AMEM ${inAddr} (${input.length} words), output at ${outAddr} (${outCount} words)`,
    );
    this.lastRunMs = Math.max(0, performance.now() - t0 - this.link.wireMsPerByte * payload.length);
    return { output: bytesToWords(r.body, 0, outCount), cycles: readU32(r.body, 4 * outCount) };
  }

  /**
   * Checks the image against the device's memories, then writes WMEM and DMEM, reporting
   * the words written as task 'upload'.
   */
  async upload(image: DeviceImage, opts: { onProgress?: ProgressListener } = {}): Promise<void> {
    checkFits(image, this.info);
    const total = image.wmem.length + image.dmem.length;
    const report = (done: number) => opts.onProgress?.({ task: 'upload', done, total, unit: 'words' });
    await this.write(Space.WMEM, 0, image.wmem, { onProgress: report });
    await this.write(Space.DMEM, 0, image.dmem, { onProgress: (d) => report(image.wmem.length + d) });
  }

  async close(): Promise<void> {
    await this.link.close();
  }

  private computeMs(): number {
    return this.lastRunMs === 0 ? this.firstRunMs : 1000 + 4 * this.lastRunMs;
  }

  private check(r: Reply, cmd: number, detail: string): void {
    if (r.status !== Status.OK) throw new DeviceStatusError(cmd, r.status, detail);
  }
}

/** ModelTooLargeError naming both sizes when an image does not fit the device. */
export function checkFits(image: DeviceImage, info: DeviceInfo): void {
  const kb = (w: number) => `${((w * 4) / 1024).toFixed(1)} KiB`;
  const need: [string, number, number][] = [
    ['WMEM (weights and parameters)', image.wmem.length, info.wmemWords],
    ['AMEM (activations)', image.amemWordsUsed, info.amemWords],
    ['DMEM (program)', image.dmem.length, info.dmemWords],
  ];
  for (const [name, used, has] of need) {
    if (used > has) {
      throw new ModelTooLargeError(
        `model too large for the device: ${name} needs ${used} words (${kb(used)}) but the device has ${has} words (${kb(has)})`,
      );
    }
  }
  const most = Math.max(...image.segments.map((s) => s.length / 16));
  if (most > info.maxLayers) {
    throw new ModelTooLargeError(
      `model too large for the device: a program segment of ${most} descriptors, the device runs at most ${info.maxLayers}`,
    );
  }
  if (image.config.dim !== info.dim) {
    throw new DeviceError(
      `image compiled for a ${image.config.dim}x${image.config.dim} array, the device has ${info.dim}x${info.dim}`,
    );
  }
}

/** Waits for every job, then throws the first error (no unhandled rejections). */
async function settleAll(jobs: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(jobs);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
