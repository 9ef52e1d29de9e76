// The TARGET of `run` and `eval` (SPEC section 2): the simulated board (--sim, with
// --sim-ber P and --board NAME), or a serial port (--port PATH [--baud N]). openTarget()
// opens the device (starting the simulated board for --sim), compiles the model for the
// configuration the device reports, uploads it and returns an InferenceBackend. The code
// path is the same for the simulated board and a board: only the serial device differs.
// The command-line options themselves are declared in host/commands/target-options.ts.
import { compile, imageRuns } from './compiler/compile.ts';
import { SIM_CONFIG } from './compiler/configs.ts';
import { programCycleBound } from './compiler/program.ts';
import { deviceInput, packInput, unpackTensor } from './compiler/layout.ts';
import type { DeviceImage } from './compiler/types.ts';
import { BOARDS, lookupBoard } from './board/boards.ts';
import { Device, deviceConfig, Space } from './device.ts';
import { InputError } from './errors.ts';
import type { LinkOptions, LinkStats } from './link/link.ts';
import { outputFitsReply, packWire, unpackWire, wireLayout } from './link/packed.ts';
import { SerialTransport, tuneFtdiLatency, type Transport } from './link/transport.ts';
import type { ProgressListener } from './progress.ts';
import type { QModel } from './quant/types.ts';
import type { InferenceBackend } from './run.ts';
import { boardClocksPerBit, SIM_BOARD_PARAMS, startBoardSim, type SimBoard } from './sim/board.ts';

export interface TargetOptions {
  sim?: boolean;
  port?: string;
  baud?: string | number;
  simBer?: string | number;
  /** With --sim: simulate this board's top (host/board/boards.ts). */
  board?: string;
  /** Seed of the bit-error generator of --sim-ber (default 1). */
  berSeed?: number;
  /** Progress of the upload (task 'upload'). */
  onProgress?: ProgressListener;
}

/** The rate of the default board's bitstream (host/board/boards.ts); --board B picks B's. */
export const DEFAULT_BAUD = BOARDS.icebreaker.baud;

/** Per-layer performance counters (CNT space, ARCHITECTURE section 3). The run's total is
 * what infer() and the link's RUN return. */
export interface Counters {
  layers: { cycles: number; activeCycles: number }[];
}

/** The device behind run/eval, with the extras for diagnosis and bench. */
export class DeviceBackend implements InferenceBackend {
  constructor(
    readonly device: Device,
    readonly image: DeviceImage,
    private readonly model: QModel,
    /** The simulated board behind --sim (null for a port). */
    readonly simBoard: SimBoard | null,
  ) {}

  get linkStats(): LinkStats {
    return this.device.stats;
  }

  async infer(xq: Int8Array): Promise<{ yq: Int8Array; cycles: number }> {
    const outBytes = wireLayout(this.image.output.shape, this.image.config.dim).bytes;
    if (this.image.segments.length === 1 && outputFitsReply(outBytes, this.device.maxPayload))
      return (await this.inferMany([xq]))[0];
    const { input, config } = this.image;
    return this.runSegments(packInput(xq, input, config.dim, this.model.inQ.zeroPoint), null);
  }

  /**
   * A program longer than one DMEM load: its segments one RUN after another, with the
   * CNT words read after each into `counters` when given.
   */
  private async runSegments(
    words: Uint32Array,
    counters: Counters | null,
  ): Promise<{ yq: Int8Array; cycles: number }> {
    const { input, output } = this.image;
    await this.device.write(Space.AMEM, input.addr, words);
    let cycles = 0;
    for (const run of imageRuns(this.image)) {
      await this.device.write(Space.DMEM, 0, run.dmem);
      cycles += await this.device.run();
      if (counters) await this.addCounters(counters, run.first, run.count);
    }
    const out = await this.device.read(Space.AMEM, output.addr, output.words);
    return { yq: unpackTensor(out, output.shape, this.image.config.dim), cycles };
  }

  /**
   * Many inferences, streamed (Device.inferStream): the inputs cross the wire packed
   * (host/link/packed.ts: only a tensor's real channels) in INFER parts back to back, the
   * next input while the device computes the one before, also when an input needs
   * several frames. A program of several segments, or with outputs larger than one reply, runs its inputs one at a time
   * (WRITE input, WRITE + RUN per segment, READ output). Reports the inputs done as task
   * 'infer'.
   */
  async inferMany(
    xs: Int8Array[],
    opts: { onProgress?: ProgressListener } = {},
  ): Promise<{ yq: Int8Array; cycles: number }[]> {
    let done = 0;
    const tick = () => opts.onProgress?.({ task: 'infer', done: ++done, total: xs.length, unit: 'inputs' });
    const { input, output } = this.image;
    const dim = this.image.config.dim;
    const inL = wireLayout(input.shape, dim);
    const outL = wireLayout(output.shape, dim);
    if (this.image.segments.length > 1 || !outputFitsReply(outL.bytes, this.device.maxPayload)) {
      const out = [];
      for (const xq of xs) {
        out.push(await this.infer(xq));
        tick();
      }
      return out;
    }
    const zp = this.model.inQ.zeroPoint;
    const rs = await this.device.inferStream(
      xs.map((xq) => ({
        addr: input.addr,
        lanes: inL.lanes,
        bytes: packWire(deviceInput(xq, input, zp), input.shape, dim, zp),
      })),
      { addr: output.addr, lanes: outL.lanes, count: outL.bytes },
      tick,
    );
    return rs.map((r) => ({ yq: unpackWire(r.output, output.shape, dim), cycles: r.cycles }));
  }

  /**
   * Every layer's int8 output for one input, to find the first layer where the device
   * and the integer reference part. Later layers may reuse a layer's memory, so the
   * program runs one layer at a time (its descriptors written to DMEM, RUN) and each
   * output is read right after its layer; the program is restored afterwards.
   */
  async layerActivations(xq: Int8Array): Promise<Int8Array[]> {
    const { input, layers, config } = this.image;
    const words = packInput(xq, input, config.dim, this.model.inQ.zeroPoint);
    const out: Int8Array[] = [];
    const runs = imageRuns(this.image, true);
    try {
      await this.device.write(Space.AMEM, input.addr, words);
      let r = 0;
      for (const l of layers) {
        for (const end = l.steps.first + l.steps.count; r < runs.length && runs[r].first < end; r++) {
          await this.device.write(Space.DMEM, 0, runs[r].dmem);
          await this.device.run();
        }
        out.push(
          unpackTensor(
            await this.device.read(Space.AMEM, l.output.addr, l.output.words),
            l.output.shape,
            config.dim,
          ),
        );
      }
    } finally {
      await this.device.write(Space.DMEM, 0, this.image.dmem);
    }
    return out;
  }

  /**
   * The performance counters of the last inference, per layer (the sum of its
   * descriptors'). The device keeps the counters of its last RUN only, so a program of
   * several segments needs inferWithCounters().
   */
  async counters(): Promise<Counters> {
    if (this.image.segments.length > 1)
      throw new Error(
        `counters(): a program of ${this.image.segments.length} segments keeps only its last segment's counters; use inferWithCounters()`,
      );
    return this.addCounters(this.emptyCounters(), 0, this.image.stepLayers.length);
  }

  /**
   * One inference with every layer's counters: the program's segments run one after
   * another as in infer(), and CNT is read after each (so the link carries those reads
   * too: measure wire time with infer()).
   */
  async inferWithCounters(xq: Int8Array): Promise<{ yq: Int8Array; cycles: number; counters: Counters }> {
    if (this.image.segments.length === 1) {
      const r = await this.infer(xq);
      return { ...r, counters: await this.counters() };
    }
    const { input, config } = this.image;
    const counters = this.emptyCounters();
    const words = packInput(xq, input, config.dim, this.model.inQ.zeroPoint);
    return { ...(await this.runSegments(words, counters)), counters };
  }

  private emptyCounters(): Counters {
    return { layers: this.image.layers.map(() => ({ cycles: 0, activeCycles: 0 })) };
  }

  /** Adds the CNT words of the last RUN, which ran descriptors first .. first + count - 1. */
  private async addCounters(c: Counters, first: number, count: number): Promise<Counters> {
    const w = await this.device.read(Space.CNT, 0, Math.min(2 * count, this.device.info.cntWords));
    for (let d = 0; 2 * d < w.length; d++) {
      const l = c.layers[this.image.stepLayers[first + d]];
      l.cycles += w[2 * d];
      l.activeCycles += w[2 * d + 1];
    }
    return c;
  }

  async close(): Promise<void> {
    try {
      await this.device.close();
    } finally {
      await this.simBoard?.stop();
    }
  }
}

function parseNumber(
  value: string | number | undefined,
  name: string,
  check: (v: number) => boolean,
): number | undefined {
  if (value === undefined) return undefined;
  const v = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(v) || !check(v)) throw new InputError(`${name} ${value} is not valid`);
  return v;
}

/** Opens the device named by TARGET (a connected Device), or null without one. */
export async function openDevice(
  opts: TargetOptions,
): Promise<{ device: Device; board: SimBoard | null } | null> {
  if (opts.sim && opts.port !== undefined) throw new InputError('give either --sim or --port, not both');
  if (!opts.sim && opts.simBer !== undefined) throw new InputError('--sim-ber needs --sim');
  if (opts.port === undefined && opts.baud !== undefined) throw new InputError('--baud needs --port');
  if (!opts.sim && opts.port === undefined && opts.board !== undefined)
    throw new InputError('--board needs --sim (its top in simulation) or --port (the board there)');
  const simSpec = opts.board === undefined ? undefined : lookupBoard(opts.board);
  if (!opts.sim && opts.port === undefined) return null;
  const ber = parseNumber(opts.simBer, '--sim-ber', (v) => v >= 0 && v <= 0.5);
  const baud =
    parseNumber(opts.baud, '--baud', (v) => Number.isInteger(v) && v > 0) ?? simSpec?.baud ?? DEFAULT_BAUD;

  let board: SimBoard | null = null;
  let transport: Transport;
  let linkOpts: LinkOptions & { payloadLimit?: number };
  if (opts.sim) {
    board = await startBoardSim({ ber, seed: opts.berSeed ?? 1, stderr: 'pipe', board: simSpec });
    transport = await SerialTransport.open(board.path, { baudRate: baud });
    // Simulated time per byte grows with the clocks per bit (4 for the simulation
    // configuration, ClockHz / Baud for a board top).
    const clocksPerBit = simSpec ? boardClocksPerBit(simSpec) : SIM_BOARD_PARAMS.ClksPerBit;
    linkOpts = {
      baseTimeoutMs: 1000,
      msPerByte: 0.05 * (clocksPerBit / 8),
      hint: 'the simulated board stopped answering (run with --verbose)',
      // Under injected bit errors, frames of ~0.2/(10 P) bytes: most get through first
      // time; a few lost in a row are no sign of a dead board there.
      ...(ber ? { payloadLimit: Math.max(64, Math.floor(0.2 / (10 * ber))), silenceMs: 30_000 } : {}),
    };
  } else {
    transport = await SerialTransport.open(opts.port!, { baudRate: baud });
    noteLatency(opts.port!);
    linkOpts = {
      baseTimeoutMs: 400,
      msPerByte: (10 / baud) * 1000 * 1.5,
      hint: `is the board programmed and the baud rate ${baud}?`,
    };
  }
  try {
    return { device: await Device.connect(transport, linkOpts), board };
  } catch (err) {
    await board?.stop();
    throw err;
  }
}

let latencyNoted = false;
/** Sets an FTDI port's latency timer to 1 ms, or says once, in one line, how to. */
function noteLatency(port: string): void {
  const t = tuneFtdiLatency(port);
  if (t.outcome === 'cannot' && !latencyNoted) {
    latencyNoted = true;
    process.stderr.write(`nnfpga: note: ${t.advice}\n`);
  }
}

/** Opens the device named by the TARGET options and loads the model, or returns null. */
export async function openTarget(opts: TargetOptions, model: QModel): Promise<DeviceBackend | null> {
  const opened = await openDevice(opts);
  if (!opened) return null;
  const { device, board } = opened;
  try {
    // IDENTIFY reports neither the requantizer's Booth units nor its pipelines (1 is right on any
    // core) nor the output shift nor the block schedule (none is right on any core); the
    // simulated sim8 board is built from SIM_CONFIG, so it has its units, pipelines, output
    // shift and block schedule
    const sim8 = opts.sim && opts.board === undefined;
    const config = {
      ...deviceConfig(device.info),
      ...(sim8
        ? {
            requantUnits: SIM_CONFIG.requantUnits,
            requantPipes: SIM_CONFIG.requantPipes,
            outputShift: SIM_CONFIG.outputShift,
            blockSchedule: SIM_CONFIG.blockSchedule,
          }
        : {}),
    };
    const image = compile(model, config);
    // the run watchdog: no RUN or INFER of this program takes longer than its longest segment
    device.setCycleBound(Math.max(...imageRuns(image).map((r) => programCycleBound(r.dmem, image.config))));
    await device.upload(image, { onProgress: opts.onProgress });
    return new DeviceBackend(device, image, model, board);
  } catch (err) {
    await device.close();
    await board?.stop();
    throw err;
  }
}
