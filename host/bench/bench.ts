// `nnfpga bench`: the performance figures of SPEC section 6, all measured.
//
// - Per layer (hardware counters of the core on its Verilator bench): MACs, cycles,
//   ideal cycles = MACs / N², utilization; for cnn_a and mlp on each board's
//   configuration and a 32->32 3x3 conv on the 8x8 simulation configuration.
// - Per inference on the simulated boards, through the pseudo-terminal exactly as a board
//   is used: bytes on the wire against payload bytes, compute cycles (device counter),
//   and the board's clock cycles (board_sim's own count: UART bits and compute, no host
//   latency) for one inference end to end and per inference streamed, against the UART
//   bound. The 8x8 simulation configuration, and each board's own top (rtl/boards/, at
//   its clocks per bit and frame size) where cnn_a fits it.
// - Per board: peak MACs/s beside cnn_a's and mlp's inferences/s at the board's baud
//   rate, measured on its top as above (clock / streamed cycles per inference);
//   resources and Fmax of the last `nnfpga build` when there is one.
// - Simulation speed: simulated clock cycles per second of wall time.
// - The MLPerf Tiny reference shapes (host/bench/mlperf.ts, random weights): on the 8x8
//   simulation configuration's core, and on each board's top in simulation where the
//   compiler fits them (why not, where not), per model and per layer as above, with
//   latency at the configuration's clock and the utilization of depthwise, pointwise and
//   other convs; the targets of host/bench/mlperf.ts (measured beside bound) and the
//   published MLPerf Tiny latencies beside them.
// Every model entry: latency_ms = cycles at the configuration's clock (a board's target
// clock; the simulation configuration's nominal clock, SIM_BOARD_PARAMS.ClockHz).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BOARDS, type BoardSpec } from '../board/boards.ts';
import type { BuildResult } from '../board/build.ts';
import { compile } from '../compiler/compile.ts';
import { SIM_CONFIG } from '../compiler/configs.ts';
import type { DeviceConfig } from '../compiler/types.ts';
import { NnfpgaError } from '../errors.ts';
import { runInt } from '../quant/intref.ts';
import type { QModel } from '../quant/types.ts';
import { buildDir, PACKAGE_ROOT } from '../paths.ts';
import { SIM_BOARD_PARAMS } from '../sim/board.ts';
import { openTarget } from '../target.ts';
import { benchModel, convModel, fixtureModel, type BenchLayer, type CoreBench } from './core.ts';
import {
  mlperfInputs,
  mlperfModels,
  mlperfQModel,
  PUBLISHED,
  TARGETS,
  type MlperfConfig,
  type MlperfName,
} from './mlperf.ts';

/** The nominal clock of the 8x8 simulation configuration (what its IDENTIFY reports). */
export const SIM_CLOCK_MHZ = SIM_BOARD_PARAMS.ClockHz / 1e6;
const SIM_LABEL = `sim ${SIM_CONFIG.dim}x${SIM_CONFIG.dim}`;

/** What `nnfpga bench` runs: everything, the example models only, or the MLPerf shapes only. */
export type BenchPart = 'examples' | 'mlperf';
export const BENCH_PARTS: readonly BenchPart[] = ['examples', 'mlperf'];

export interface ModelFigures {
  model: string;
  config: string;
  /** The configuration's clock: a board's target clock, the simulation's nominal one. */
  clock_mhz: number;
  /** 'core' (npu_core on its Verilator bench) or 'top' (the board's top, through its UART). */
  measured_on: 'core' | 'top';
  macs: number;
  cycles: number;
  ideal_cycles: number;
  utilization: number;
  /** cycles / ideal cycles */
  ideal_ratio: number;
  /** cycles at clock_mhz */
  latency_ms: number;
  bit_exact: boolean;
  /** ideal / measured cycles over the model's depthwise convs (null: it has none). */
  depthwise_utilization: number | null;
  /** ... over its 1x1 convs (group 1, any stride). */
  pointwise_utilization: number | null;
  /** ... over its other convs (group 1, kernel larger than 1x1). */
  other_conv_utilization: number | null;
}

export interface TargetFigure {
  name: string;
  config: string;
  sense: 'max' | 'min';
  /** ms (a latency), fraction (a utilization) or ratio (cycles over ideal cycles). */
  unit: 'ms' | 'fraction' | 'ratio';
  bound: number;
  /** null: not measured (the model does not fit the configuration). */
  measured: number | null;
  met: boolean;
}

export interface MlperfSection {
  /** The shapes on each configuration: measured (see models) or why they do not fit. */
  runs: { model: string; config: string; fits: boolean; note: string | null }[];
  targets: TargetFigure[];
  /** Published MLPerf Tiny single-stream latencies (ms), beside ours. */
  published: { system: string; mlperf_kws: number; mlperf_ic: number }[];
  /** Wall time of the MLPerf part of the bench, seconds. */
  wall_seconds: number;
}

export interface BenchReport {
  /** SPEC section 6: every layer of every benchmarked model, with its model and configuration. */
  layers: (BenchLayer & { model: string; config: string })[];
  models: ModelFigures[];
  inference: InferenceFigures[];
  boards: BoardFigures[];
  simulation: { config: string; cycles_per_second: number }[];
  /** The MLPerf Tiny section (null when the bench ran --only examples). */
  mlperf: MlperfSection | null;
}

export interface InferenceFigures {
  model: string;
  target: string;
  clocks_per_bit: number;
  /** int8 values of one input and one output. */
  payload_bytes: number;
  /** Bytes on the wire for one inference (both directions), and each way. */
  wire_bytes: number;
  wire_bytes_out: number;
  wire_bytes_in: number;
  wire_overhead: number; // wire_bytes / payload_bytes
  compute_cycles: number; // device counter
  /** SPEC: bytes on the wire x 10 x clocks per bit. */
  uart_bound_cycles: number;
  /** Measured board cycles for one inference end to end (wire out, compute, wire in). */
  single_cycles: number;
  /** Measured board cycles per inference, back to back with two in flight. */
  streaming_cycles: number;
  /** Its bound: the busier wire direction or the compute, whichever is longer. */
  streaming_bound_cycles: number;
  /** Measured through the pseudo-terminal: inferences per second of wall time, streamed. */
  streamed_per_second_wall: number;
  exact: boolean;
  retransmissions: number;
}

/** A model streamed through a board's top in simulation, at the board's clock and baud. */
export interface BoardModelFigures {
  compute_cycles: number;
  wire_bytes_out: number;
  wire_bytes_in: number;
  /** Measured on the board's top in simulation, per inference streamed. */
  streaming_cycles: number;
  inferences_per_s: number;
  bound: 'compute' | 'uart';
  /** Achieved MACs/s over the peak. */
  macs_fraction_of_peak: number;
}

export interface BoardFigures {
  board: string;
  array: string;
  clock_mhz: number;
  baud: number;
  peak_macs_per_s: number;
  cnn_a: BoardModelFigures | null;
  /** mlp likewise (null where it does not fit). */
  mlp: BoardModelFigures | null;
  /** Why cnn_a has no figure (it does not fit this board's memories). */
  cnn_a_note: string | null;
  build: {
    logic_cells: string;
    dsp: string;
    ebr: string;
    spram: string;
    fmax_mhz: number;
    /** icetime's figure (null for a build.json from before the icetime sign-off). */
    icetime_mhz: number | null;
    target_mhz: number;
  } | null;
  build_note: string | null;
}

export interface BenchOptions {
  fixturesDir?: string;
  progress?: (line: string) => void;
  /** Inputs streamed per model on the simulated board. */
  streamed?: number;
  /** One part only (default: both). */
  only?: BenchPart;
}

/** DeviceConfig of a board's core (board words are N bytes; host words are 4). */
export function boardConfig(b: BoardSpec): DeviceConfig {
  const sub = b.core.dim / 4;
  return {
    dim: b.core.dim,
    amemWords: b.core.amemWords * sub,
    ...(b.core.amemExtWords > 0 ? { amemExtWords: b.core.amemExtWords * sub } : {}),
    wmemWords: b.core.wmemWords * sub,
    dmemWords: b.core.dmemWords,
    accDepth: b.core.accDepth,
    maxLayers: b.core.maxLayers,
  };
}

type ConvClass = 'depthwise' | 'pointwise' | 'other_conv';

/** A layer's class for the utilization figures (null: not a conv). */
function convClass(l: QModel['layers'][number]): ConvClass | null {
  if (l.kind !== 'conv') return null;
  if (l.group > 1) return 'depthwise';
  return l.kernel[0] === 1 && l.kernel[1] === 1 ? 'pointwise' : 'other_conv';
}

/** ideal / measured cycles summed over the layers `pick` selects (null: none). */
function utilizationOver(layers: BenchLayer[], pick: (i: number) => boolean): number | null {
  let ideal = 0;
  let cycles = 0;
  layers.forEach((l, i) => {
    if (!pick(i)) return;
    ideal += l.ideal_cycles;
    cycles += l.cycles;
  });
  return cycles > 0 ? ideal / cycles : null;
}

function modelRow(
  model: string,
  config: string,
  clockMhz: number,
  q: QModel,
  b: Pick<CoreBench, 'layers' | 'total' | 'bit_exact'>,
  measuredOn: ModelFigures['measured_on'],
): ModelFigures {
  const cls = (c: ConvClass) => utilizationOver(b.layers, (i) => convClass(q.layers[i]) === c);
  return {
    model,
    config,
    clock_mhz: clockMhz,
    measured_on: measuredOn,
    macs: b.total.macs,
    cycles: b.total.cycles,
    ideal_cycles: b.total.ideal_cycles,
    utilization: b.total.utilization,
    ideal_ratio: b.total.ideal_ratio,
    latency_ms: b.total.cycles / (clockMhz * 1e3),
    bit_exact: b.bit_exact,
    depthwise_utilization: cls('depthwise'),
    pointwise_utilization: cls('pointwise'),
    other_conv_utilization: cls('other_conv'),
  };
}

/**
 * One inference on a board's top in simulation (through its UART, as a board is used):
 * the RUN cycle count and every layer's counters, the output against the integer reference.
 */
async function benchOnTop(
  model: QModel,
  x: Int8Array,
  board: BoardSpec,
): Promise<Pick<CoreBench, 'layers' | 'total' | 'bit_exact'>> {
  const backend = (await openTarget({ sim: true, board: board.name }, model))!;
  try {
    const { image } = backend;
    const n2 = image.config.dim * image.config.dim;
    const r = await backend.inferWithCounters(x);
    const want = runInt(model, x).at(-1)!;
    const layers: BenchLayer[] = image.layers.map((l, i) => {
      const c = r.counters.layers[i];
      const ideal = l.macs / n2;
      return {
        name: l.name,
        kind: l.kind,
        macs: l.macs,
        cycles: c.cycles,
        ideal_cycles: ideal,
        utilization: c.cycles > 0 ? ideal / c.cycles : 0,
        feed_cycles: c.activeCycles,
      };
    });
    const macs = layers.reduce((a, l) => a + l.macs, 0);
    return {
      layers,
      total: {
        macs,
        cycles: r.cycles,
        ideal_cycles: macs / n2,
        utilization: macs / n2 / r.cycles,
        ideal_ratio: r.cycles / (macs / n2),
      },
      bit_exact: r.yq.length === want.length && r.yq.every((v, i) => v === want[i]),
    };
  } finally {
    await backend.close();
  }
}

/** One inference, then `streamed` back to back, on a simulated board (its top for a board). */
async function measureInference(
  name: string,
  model: QModel,
  input: Int8Array,
  streamed: number,
  board?: BoardSpec,
): Promise<InferenceFigures> {
  const backend = (await openTarget({ sim: true, board: board?.name }, model))!;
  try {
    const sim = backend.simBoard!;
    const info = backend.device.info;
    const s0 = { ...backend.linkStats };
    const c0 = await sim.cycles();
    const one = await backend.infer(input);
    const c1 = await sim.cycles();
    const out = backend.linkStats.bytesOut - s0.bytesOut;
    const inn = backend.linkStats.bytesIn - s0.bytesIn;
    const xs = Array.from({ length: streamed }, () => input);
    const t0 = performance.now();
    const many = await backend.inferMany(xs);
    const wall = (performance.now() - t0) / 1000;
    const c2 = await sim.cycles();
    const want = runInt(model, input).at(-1)!;
    const exact = [one, ...many].every((r) => r.yq.every((v, i) => v === want[i]));
    const payload = input.length + want.length;
    const cpb = info.clocksPerBit;
    return {
      model: name,
      target: board ? `${board.name} top ${info.dim}x${info.dim}` : `simulated board ${info.dim}x${info.dim}`,
      clocks_per_bit: cpb,
      payload_bytes: payload,
      wire_bytes: out + inn,
      wire_bytes_out: out,
      wire_bytes_in: inn,
      wire_overhead: (out + inn) / payload,
      compute_cycles: one.cycles,
      uart_bound_cycles: (out + inn) * 10 * cpb,
      single_cycles: c1 - c0,
      streaming_cycles: (c2 - c1) / streamed,
      streaming_bound_cycles: Math.max(one.cycles, out * 10 * cpb, inn * 10 * cpb),
      streamed_per_second_wall: streamed / wall,
      exact,
      retransmissions: backend.linkStats.retransmissions,
    };
  } finally {
    await backend.close();
  }
}

function readBuild(board: string): BuildResult | null {
  const file = path.join(buildDir(board), 'build.json');
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as BuildResult;
  } catch {
    return null;
  }
}

export async function runBench(opts: BenchOptions = {}): Promise<BenchReport> {
  const say = opts.progress ?? (() => {});
  const report: BenchReport = {
    layers: [],
    models: [],
    inference: [],
    boards: [],
    simulation: [],
    mlperf: null,
  };
  if (opts.only !== 'mlperf') await benchExamples(report, opts, say);
  if (opts.only !== 'examples') report.mlperf = await benchMlperf(report, say);
  return report;
}

function addCore(
  report: BenchReport,
  model: string,
  config: string,
  clockMhz: number,
  q: QModel,
  b: CoreBench,
): void {
  report.layers.push(...b.layers.map((l) => ({ ...l, model, config })));
  report.models.push(modelRow(model, config, clockMhz, q, b, 'core'));
  report.simulation.push({ config: `${config}: ${model}`, cycles_per_second: b.sim_cycles_per_second });
}

/** The MLPerf Tiny shapes on sim8's core and on each board's top where they fit; the targets. */
async function benchMlperf(report: BenchReport, say: (line: string) => void): Promise<MlperfSection> {
  const t0 = performance.now();
  const runs: MlperfSection['runs'] = [];
  const names = Object.keys(mlperfModels) as MlperfName[];
  const configOf: Record<MlperfConfig, string> = { sim8: SIM_LABEL, icebreaker: '' };
  const quantized = new Map(names.map((n) => [n, mlperfQModel(n)]));
  for (const name of names) {
    const q = quantized.get(name)!;
    const [x] = mlperfInputs(q, 1, 22);
    say(`core: ${name} on the 8x8 simulation configuration`);
    addCore(report, name, SIM_LABEL, SIM_CLOCK_MHZ, q, await benchModel(name, q, SIM_CONFIG, x));
    runs.push({ model: name, config: SIM_LABEL, fits: true, note: null });
    for (const b of Object.values(BOARDS)) {
      const config = boardConfig(b);
      const label = `${b.name} ${config.dim}x${config.dim}`;
      if (b.name === 'icebreaker') configOf.icebreaker = label;
      try {
        compile(q, config);
      } catch (err) {
        if (!(err instanceof NnfpgaError)) throw err;
        runs.push({ model: name, config: label, fits: false, note: err.message.split('\n')[0] });
        continue;
      }
      say(`${b.name} board top in simulation: ${name}`);
      const r = await benchOnTop(q, x, b);
      report.layers.push(...r.layers.map((l) => ({ ...l, model: name, config: label })));
      report.models.push(modelRow(name, label, b.targetMhz, q, r, 'top'));
      runs.push({ model: name, config: label, fits: true, note: null });
    }
  }
  const mlperfRows = report.layers.filter((l) => (names as string[]).includes(l.model));
  const targets = TARGETS.map((t): TargetFigure => {
    const config = configOf[t.config];
    let measured: number | null = null;
    const q = t.quantity;
    if (q.kind === 'utilization') {
      const rows = mlperfRows.filter((l) => l.config === config);
      const want = q.layers === 'conv3x3' ? 'other_conv' : q.layers;
      measured = utilizationOver(rows, (i) => {
        const l = quantized.get(rows[i].model as MlperfName)!.layers.find((k) => k.name === rows[i].name)!;
        return (
          convClass(l) === want &&
          (q.layers !== 'conv3x3' || (l.kind === 'conv' && l.kernel[0] === 3 && l.kernel[1] === 3))
        );
      });
    } else {
      const m = report.models.find((e) => e.model === q.model && e.config === config);
      if (m) measured = q.kind === 'latency_ms' ? m.latency_ms : m.ideal_ratio;
    }
    const met = measured !== null && (t.sense === 'max' ? measured <= t.bound : measured >= t.bound);
    const unit = q.kind === 'latency_ms' ? 'ms' : q.kind === 'utilization' ? 'fraction' : 'ratio';
    return { name: t.name, config, sense: t.sense, unit, bound: t.bound, measured, met };
  });
  return {
    runs,
    targets,
    published: PUBLISHED.map((p) => ({ ...p })),
    wall_seconds: (performance.now() - t0) / 1000,
  };
}

async function benchExamples(
  report: BenchReport,
  opts: BenchOptions,
  say: (line: string) => void,
): Promise<void> {
  const fixturesDir = opts.fixturesDir ?? path.resolve(PACKAGE_ROOT, 'examples');
  say('core: conv 32->32 3x3 over 28x28 on the 8x8 simulation configuration');
  const conv = convModel(32, 32, 3, 28, 28);
  addCore(
    report,
    'conv32x32_3x3_28x28',
    SIM_LABEL,
    SIM_CLOCK_MHZ,
    conv,
    await benchModel('conv', conv, SIM_CONFIG),
  );
  const fixtures = { cnn_a: fixtureModel('cnn_a', fixturesDir), mlp: fixtureModel('mlp', fixturesDir) };
  const boardCompute: Record<string, Record<string, number>> = {};
  for (const b of Object.values(BOARDS)) {
    const config = boardConfig(b);
    boardCompute[b.name] = {};
    for (const [name, f] of Object.entries(fixtures)) {
      try {
        compile(f.model, config);
      } catch (err) {
        if (err instanceof NnfpgaError) continue; // does not fit this board: said in the board figures
        throw err;
      }
      say(`core: ${name} on the ${b.name} configuration (${config.dim}x${config.dim})`);
      const r = await benchModel(name, f.model, config, f.input);
      addCore(report, name, `${b.name} ${config.dim}x${config.dim}`, b.targetMhz, f.model, r);
      boardCompute[b.name][name] = r.cycles_per_inference;
    }
  }

  // Through the simulated boards on their pseudo-terminals.
  const streamed = opts.streamed ?? 16;
  for (const [name, f] of Object.entries(fixtures)) {
    say(`simulated board: ${name}, one inference then ${streamed} streamed`);
    report.inference.push(await measureInference(name, f.model, f.input, streamed));
  }
  const onBoardTop: Record<string, Record<string, InferenceFigures>> = {};
  for (const b of Object.values(BOARDS)) {
    onBoardTop[b.name] = {};
    for (const [name, f] of Object.entries(fixtures)) {
      if (boardCompute[b.name][name] === undefined) continue;
      say(`${b.name} board top in simulation: ${name}, one inference then ${streamed} streamed`);
      const fig = await measureInference(name, f.model, f.input, streamed, b);
      report.inference.push(fig);
      onBoardTop[b.name][name] = fig;
    }
  }

  for (const b of Object.values(BOARDS)) {
    const config = boardConfig(b);
    const clock = b.targetMhz * 1e6;
    const cpb = Math.round(clock / b.baud);
    const peak = config.dim * config.dim * clock;
    const figures = (name: 'cnn_a' | 'mlp'): BoardModelFigures | null => {
      const compute = boardCompute[b.name][name];
      const fig = onBoardTop[b.name][name];
      if (compute === undefined || !fig) return null;
      const ips = clock / fig.streaming_cycles;
      return {
        compute_cycles: compute,
        wire_bytes_out: fig.wire_bytes_out,
        wire_bytes_in: fig.wire_bytes_in,
        streaming_cycles: fig.streaming_cycles,
        inferences_per_s: ips,
        bound: Math.max(fig.wire_bytes_out, fig.wire_bytes_in) * 10 * cpb > compute ? 'uart' : 'compute',
        macs_fraction_of_peak:
          (ips * compile(fixtures[name].model, config).layers.reduce((a, l) => a + l.macs, 0)) / peak,
      };
    };
    const cnn = figures('cnn_a');
    let note: string | null = null;
    if (!cnn) {
      try {
        compile(fixtures.cnn_a.model, config);
      } catch (err) {
        note = err instanceof Error ? err.message : String(err);
      }
    }
    const built = readBuild(b.name);
    report.boards.push({
      board: b.name,
      array: `${config.dim}x${config.dim}`,
      clock_mhz: b.targetMhz,
      baud: b.baud,
      peak_macs_per_s: peak,
      cnn_a: cnn,
      mlp: figures('mlp'),
      cnn_a_note: note,
      build: built
        ? {
            logic_cells: `${built.resources.logic_cells.used}/${built.resources.logic_cells.available}`,
            dsp: `${built.resources.dsp.used}/${built.resources.dsp.available}`,
            ebr: `${built.resources.ebr.used}/${built.resources.ebr.available}`,
            spram: `${built.resources.spram.used}/${built.resources.spram.available}`,
            fmax_mhz: built.fmax_mhz,
            icetime_mhz: built.icetime_mhz ?? null,
            target_mhz: built.target_mhz,
          }
        : null,
      build_note: built ? null : `no build yet: nnfpga build --board ${b.name}`,
    });
  }
}
