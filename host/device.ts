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
  PROTOCOL_VERSION,
  readU16,
  readU32,
  Status,
  u16,
  u32,
  wordsToBytes,
} from './link/frame.ts';
import type { Reply } from './link/link.ts';
import { Link, type LinkOptions, type LinkStats } from './link/link.ts';
import { LIMIT_UNIT_CYCLES, limitUnits } from './link/runlimit.ts';
import type { Transport } from './link/transport.ts';
import { inferPartSizes, outputFitsReply } from './link/packed.ts';
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
  /** AMEM words after amemWords that are WMEM's upper half (0: none; ARCHITECTURE section 3). */
  amemExtWords: number;
  wmemWords: number;
  dmemWords: number;
  cntWords: number;
  clockHz: number;
  clocksPerBit: number;
  maxPayload: number;
  maxLayers: number;
  /** Device-side link error counters since the last RESET (u16, stopping at 65535). */
  rxCrcErrors: number;
  rxFramingErrors: number;
  rxTimeouts: number;
  rxDropped: number;
}

export const IDENTIFY_BYTES = 41;
/** Bitstreams from before amem_ext end the reply after the error counters (no extension). */
const IDENTIFY_BYTES_NO_EXT = 37;

export function parseIdentify(body: Uint8Array): DeviceInfo {
  if (body.length < IDENTIFY_BYTES_NO_EXT)
    throw new DeviceError(
      `IDENTIFY reply of ${body.length} bytes, expected ${IDENTIFY_BYTES}: not an nnfpga device?`,
    );
  if (body[0] !== PROTOCOL_VERSION)
    throw new DeviceError(
      `the device speaks link protocol version ${body[0]}, this host version ${PROTOCOL_VERSION}: build and flash the bitstream of this version (nnfpga build, nnfpga flash)`,
    );
  return {
    version: body[0],
    dim: body[1],
    accDepth: readU16(body, 2),
    amemWords: readU32(body, 4),
    amemExtWords: body.length >= IDENTIFY_BYTES ? readU32(body, 37) : 0,
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
    amemExtWords: info.amemExtWords,
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

/** An input for INFER: packed wire bytes (host/link/packed.ts) for AMEM at addr. */
export interface PackedInput {
  /** AMEM host word of the tensor (a multiple of N/4). */
  addr: number;
  /** Bytes per memory word (1..N). */
  lanes: number;
  bytes: Uint8Array;
}

/** Where INFER reads the outputs: count packed bytes of lanes per memory word at addr. */
export interface PackedOutput {
  addr: number;
  lanes: number;
  count: number;
}

export class Device {
  private infoCache: DeviceInfo | null = null;
  /** Wall time of the last program run, for the next run's reply timeout. */
  private lastRunMs = 0;
  /** Cycles the program in DMEM takes at most (its run watchdog), when known. */
  private cycleBound: number | null = null;
  /** INFER tag of the last inference (2 bits). */
  private tag = 0;
  /** Frame payload the host uses: the device's max_payload, or less on a noisy line. */
  private payloadLimit = Infinity;

  constructor(
    readonly link: Link,
    /** Reply allowance for the first program run, before one has been timed. */
    private readonly firstRunMs = 10_000,
  ) {}

  /**
   * Opens a session on a device in any state (fresh, left mid-request or mid-run by a
   * host that was killed, or running a program that never ends): drop stale bytes,
   * IDENTIFY (few retries: a silent port fails fast), RESET (which stops a run, drops
   * what an earlier host left queued, and clears the repeat memory, the INFER parts and
   * the error counters), and IDENTIFY again when the first was not answered (both frame
   * banks may have been taken) or was answered BUSY (a run in progress).
   */
  static async connect(
    transport: Transport,
    opts: LinkOptions & { firstRunMs?: number; identifyRetries?: number; payloadLimit?: number } = {},
  ): Promise<Device> {
    const link = new Link(transport, opts);
    const dev = new Device(link, opts.firstRunMs);
    dev.payloadLimit = opts.payloadLimit ?? Infinity;
    const retries = opts.identifyRetries ?? 3;
    try {
      await link.drain();
      let first: Reply | null = null;
      let silent: unknown = null;
      try {
        first = await link.request(Cmd.IDENTIFY, undefined, {
          replyBytes: 1 + IDENTIFY_BYTES,
          retries,
          busyRetries: 0,
        });
      } catch (err) {
        silent = err;
      }
      try {
        await dev.reset(silent ? retries : undefined);
      } catch (err) {
        if (silent) throw silent; // what IDENTIFY saw says more
        if (first?.status === Status.BUSY)
          throw new DeviceError(
            `device on ${transport.path} is stuck in a previous run and does not answer RESET: power-cycle the board`,
            { cause: err },
          );
        throw err;
      }
      if (first?.status === Status.OK) dev.infoCache = parseIdentify(first.body);
      else await dev.identify(retries);
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

  /** RESET: stops a run, drops queued requests, clears the parts and the error counters. */
  async reset(retries?: number): Promise<void> {
    this.check(await this.link.request(Cmd.RESET, undefined, { barrier: true, retries }), Cmd.RESET, 'reset');
    this.tag = 0;
  }

  /**
   * The cycles the program in DMEM takes at most (compiler/program.ts programCycleBound), or null when
   * unknown. RUN and INFER then carry twice that as the run's cycle limit (the device
   * stops a run that reaches it: WATCHDOG), and the reply timeouts follow from it.
   */
  setCycleBound(cycles: number | null): void {
    this.cycleBound = cycles;
  }

  /** The cycle limit field of RUN and INFER (units of 2^20 cycles, 0: none). */
  get limitUnits(): number {
    return limitUnits(this.cycleBound);
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
    const r = await this.link.request(Cmd.RUN, Uint8Array.of(this.limitUnits), {
      replyBytes: 5,
      computeMs: this.computeMs(),
      barrier: true,
    });
    this.check(r, Cmd.RUN, 'run');
    this.lastRunMs = performance.now() - t0;
    return readU32(r.body, 0);
  }

  /**
   * INFER payloads for one input (ARCHITECTURE section 6): part 0 carries the input's
   * address and lanes, the last part the output's and the cycle limit; every part but
   * the last holds whole memory words. One part when it all fits one frame.
   */
  inferParts(input: PackedInput, out: PackedOutput, tag: number): Uint8Array[] {
    const max = this.maxPayload;
    const L = input.lanes;
    const bytes = input.bytes;
    const outFields = [out.lanes - 1, ...u16(out.addr), ...u16(out.count), this.limitUnits];
    const inFields = [L - 1, ...u16(input.addr)];
    const chunks: Uint8Array[] = [];
    let at = 0;
    for (const n of inferPartSizes(bytes.length, L, max)) {
      chunks.push(bytes.subarray(at, at + n));
      at += n;
    }
    if (chunks.length > 32)
      throw new DeviceError(
        `input of ${bytes.length} bytes needs ${chunks.length} INFER parts, at most 32 fit the part field`,
      );
    return chunks.map((data, k) => {
      const last = k === chunks.length - 1;
      const head = [
        ((tag & 3) << 6) | (last ? 0x20 : 0) | k,
        ...(k === 0 ? inFields : []),
        ...(last ? outFields : []),
      ];
      const p = new Uint8Array(head.length + data.length);
      p.set(head);
      p.set(data, head.length);
      return p;
    });
  }

  /**
   * Inferences in a stream: for each input, its INFER parts go out back to back (up to
   * three requests in flight), so the next input crosses the wire while the device
   * computes the one before. The device writes parts in order and answers BUSY to a part that
   * comes early (the link sends it again). Two rules keep every lost or repeated frame
   * harmless: an input of several parts starts only once the previous input's first part
   * is answered (so a new input never starts while a lost part 0 of the one before is
   * still to come), and the last part of an input goes out only once the previous
   * input's last part is answered (so the device can still answer that one again from
   * memory). Outputs are packed wire bytes (out.count of them).
   */
  async inferStream(
    inputs: PackedInput[],
    out: PackedOutput,
    onResult?: (index: number) => void,
  ): Promise<{ output: Uint8Array; cycles: number }[]> {
    if (!outputFitsReply(out.count, this.maxPayload))
      throw new DeviceError(
        `outputs of ${out.count} bytes do not fit one reply of the device's ${this.info.maxPayload}-byte frames`,
      );
    const results: { output: Uint8Array; cycles: number }[] = new Array(inputs.length);
    const jobs: Promise<void>[] = [];
    let failed = false;
    const track = (p: Promise<void>): Promise<void> => {
      p.catch(() => (failed = true)); // handled now; settleAll reports it
      jobs.push(p);
      return p;
    };
    let prevFirst: Promise<void> = Promise.resolve();
    let prevLast: Promise<void> = Promise.resolve();
    const detail = (j: number) =>
      `input ${j} at AMEM ${inputs[j].addr} (${inputs[j].bytes.length} bytes, ${inputs[j].lanes} per word), output at ${out.addr} (${out.count} bytes)`;
    for (let j = 0; j < inputs.length && !failed; j++) {
      this.tag = (this.tag + 1) & 3;
      const parts = this.inferParts(inputs[j], out, this.tag);
      // A third request in flight only among parts: a third self-contained INFER would
      // reach the device while it still writes the one before from its bank (both banks
      // taken: dropped, retransmitted after a timeout) whenever the host answers faster
      // than that write, as it does the simulated board.
      const deep = parts.length > 1;
      if (parts.length > 1) await prevFirst.catch(() => {});
      let first: Promise<void> | null = null;
      for (const p of parts.slice(0, -1)) {
        const r = track(
          this.link
            .request(Cmd.INFER, p, { replyBytes: 1, deep })
            .then((r) => this.check(r, Cmd.INFER, detail(j))),
        );
        first ??= r;
      }
      if (parts.length > 1) await prevLast.catch(() => {});
      if (failed) break;
      const t0 = performance.now();
      const last = parts[parts.length - 1];
      prevLast = track(
        this.link
          .request(Cmd.INFER, last, { replyBytes: 5 + out.count, computeMs: this.computeMs(), deep })
          .then((r) => {
            this.check(r, Cmd.INFER, detail(j));
            this.lastRunMs = Math.max(0, performance.now() - t0 - this.link.wireMsPerByte * last.length);
            results[j] = { output: r.body.slice(0, out.count), cycles: readU32(r.body, out.count) };
            onResult?.(j);
          }),
      );
      prevFirst = first ?? prevLast;
    }
    await settleAll(jobs);
    return results;
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

  /**
   * Reply allowance for a run: from the program's cycle bound at the wall time per
   * cycle the link measures (one byte is 10 bit times of clocks_per_bit cycles), else
   * from the last run.
   */
  private computeMs(): number {
    if (this.cycleBound !== null && this.infoCache) {
      const msPerCycle = this.link.wireMsPerByte / (10 * this.infoCache.clocksPerBit);
      return 200 + 2 * this.cycleBound * msPerCycle;
    }
    return this.lastRunMs === 0 ? this.firstRunMs : 1000 + 4 * this.lastRunMs;
  }

  private check(r: Reply, cmd: number, detail: string): void {
    if (r.status === Status.WATCHDOG)
      throw new DeviceStatusError(
        cmd,
        r.status,
        `the run reached its limit of ${this.limitUnits * LIMIT_UNIT_CYCLES} cycles and the device stopped it (${detail})`,
      );
    if (r.status !== Status.OK) throw new DeviceStatusError(cmd, r.status, detail);
  }
}

/** ModelTooLargeError naming both sizes when an image does not fit the device. */
export function checkFits(image: DeviceImage, info: DeviceInfo): void {
  const kb = (w: number) => `${((w * 4) / 1024).toFixed(1)} KiB`;
  const need: [string, number, number][] = [
    ['WMEM (weights and parameters)', image.wmem.length, info.wmemWords],
    ['AMEM (activations)', image.amemWordsUsed, info.amemWords + info.amemExtWords],
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
