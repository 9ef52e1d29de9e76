// TARGET options of `run` and `eval` (SPEC section 2): --sim, --port PATH [--baud N],
// --sim-ber P, and --sim --board NAME (the board's own top in simulation). openTarget()
// opens the device (starting the simulated board for --sim), compiles the model for the
// configuration the device reports, uploads it and returns an InferenceBackend. The code path is the same for the simulated board and a board:
// only the serial device differs.
import type { Command } from 'commander';
import { compile } from './compiler/compile.ts';
import { packTensor, unpackTensor } from './compiler/layout.ts';
import type { DeviceImage } from './compiler/types.ts';
import { BOARDS, boardNames, lookupBoard } from './board/boards.ts';
import { Device, deviceConfig, progressBar, Space } from './device.ts';
import { InputError } from './errors.ts';
import type { LinkOptions, LinkStats } from './link/link.ts';
import { packWire, unpackWire, wireLayout } from './link/packed.ts';
import { runCycleBound } from './link/runlimit.ts';
import { SerialTransport, tuneFtdiLatency, type Transport } from './link/transport.ts';
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
  /** Progress bar for the upload (stderr, terminals only). */
  progress?: boolean;
}

/** The rate of the default board's bitstream (host/board/boards.ts); --board B picks B's. */
export const DEFAULT_BAUD = BOARDS.icebreaker.baud;

export function withTarget(cmd: Command): Command {
  return cmd
    .option('--sim', 'run on the simulated board (built if needed, started for this command)')
    .option('--port <PATH>', 'run on a board (or a simulated board from `nnfpga sim`) at this serial port')
    .option(
      '--baud <N>',
      `serial baud rate for --port (default: the board's, ${DEFAULT_BAUD} for the iCEBreaker)`,
    )
    .option('--sim-ber <P>', 'with --sim: flip each UART bit with probability P (link fault test)')
    .option(
      '--board <NAME>',
      `with --sim: simulate this board's top (${boardNames().join(', ')}: its clock, UART rate and memories) instead of the 8x8 simulation configuration; with --port: the board there (its baud rate)`,
    );
}

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
    return (await this.inferMany([xq], { progress: false }))[0];
  }

  /**
   * Many inferences, streamed (Device.inferStream): the inputs cross the wire packed
   * (host/link/packed.ts: only a tensor's real channels) in INFER parts back to back, the
   * next input while the device computes the one before, also when an input needs
   * several frames. Progress bar on stderr.
   */
  async inferMany(
    xs: Int8Array[],
    opts: { progress?: boolean } = {},
  ): Promise<{ yq: Int8Array; cycles: number }[]> {
    const { input, output } = this.image;
    const dim = this.image.config.dim;
    const inL = wireLayout(input.shape, dim);
    const outL = wireLayout(output.shape, dim);
    const zp = this.model.inQ.zeroPoint;
    const bar = opts.progress ? progressBar('infer', xs.length, 'inputs') : null;
    let done = 0;
    try {
      const rs = await this.device.inferStream(
        xs.map((xq) => ({ addr: input.addr, lanes: inL.lanes, bytes: packWire(xq, input.shape, dim, zp) })),
        { addr: output.addr, lanes: outL.lanes, count: outL.bytes },
        () => bar?.update(++done),
      );
      return rs.map((r) => ({ yq: unpackWire(r.output, output.shape, dim), cycles: r.cycles }));
    } finally {
      bar?.stop();
    }
  }

  /**
   * Every layer's int8 output for one input, to find the first layer where the device
   * and the integer reference part. Buffers may be reused by later layers, so layer L's
   * output is read after a run of the program truncated after layer L (the next
   * descriptor's op set to END), and the program is restored afterwards.
   */
  async layerActivations(xq: Int8Array): Promise<Int8Array[]> {
    const { input, layers, dmem, config } = this.image;
    const words = packTensor(xq, input.shape, config.dim, this.model.inQ.zeroPoint);
    const out: Int8Array[] = [];
    try {
      for (let l = 0; l < layers.length; l++) {
        const next = (l + 1) * 16;
        if (next < dmem.length) await this.device.write(Space.DMEM, next, Uint32Array.of(0));
        await this.device.write(Space.AMEM, input.addr, words);
        await this.device.run();
        const o = layers[l].output;
        out.push(unpackTensor(await this.device.read(Space.AMEM, o.addr, o.words), o.shape, config.dim));
        if (next < dmem.length) await this.device.write(Space.DMEM, next, dmem.subarray(next, next + 1));
      }
    } finally {
      await this.device.write(Space.DMEM, 0, dmem);
    }
    return out;
  }

  /** The performance counters of the last run. */
  async counters(): Promise<Counters> {
    const n = this.device.info.cntWords;
    const w = await this.device.read(Space.CNT, 0, n);
    const layers = [];
    for (let l = 0; l < this.image.layers.length; l++)
      layers.push({ cycles: w[2 * l], activeCycles: w[2 * l + 1] });
    return { layers };
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
    board = await startBoardSim({ ber, seed: 1, stderr: 'pipe', board: simSpec });
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
    const image = compile(model, deviceConfig(device.info));
    device.setCycleBound(runCycleBound(model, image.config.dim));
    await device.upload(image, { progress: opts.progress ?? true });
    return new DeviceBackend(device, image, model, board);
  } catch (err) {
    await device.close();
    await board?.stop();
    throw err;
  }
}
