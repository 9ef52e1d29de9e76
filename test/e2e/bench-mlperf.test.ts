// `nnfpga bench --only mlperf --json` keeps SPEC sections 2 and 6 for the MLPerf Tiny
// reference shapes: every shape on the 8x8 simulation configuration and on each board
// where the compiler fits it (a one-line reason where not), each entry with the SPEC
// fields consistent with each other (latency = cycles at the configuration's clock,
// cycles at least the ideal, utilizations in (0, 1]) and bit-exact; the targets of
// host/bench/mlperf.ts each with its measured figure, its bound and a verdict that
// follows from them. One run, its JSON checked by every test; no speed is compared
// with a limit.
import { beforeAll, describe, expect, it } from 'vitest';
import { boardConfig, SIM_CLOCK_MHZ, type BenchReport } from '../../host/bench/bench.ts';
import { mlperfModels, mlperfQModel, PUBLISHED, TARGETS, type MlperfName } from '../../host/bench/mlperf.ts';
import { BOARDS } from '../../host/board/boards.ts';
import { compile } from '../../host/compiler/compile.ts';
import { formatBench } from '../../host/commands/bench.ts';
import { NnfpgaError } from '../../host/errors.ts';
import { nnfpga } from './cli.ts';

const NAMES = Object.keys(mlperfModels) as MlperfName[];
const SPEC_FIELDS = [
  'model',
  'config',
  'macs',
  'cycles',
  'ideal_cycles',
  'utilization',
  'bit_exact',
  'latency_ms',
] as const;

describe('nnfpga bench --only mlperf --json', () => {
  let b: BenchReport;
  beforeAll(async () => {
    const r = await nnfpga('bench', '--only', 'mlperf', '--json');
    expect(r.code, r.stderr).toBe(0);
    b = JSON.parse(r.stdout) as BenchReport;
  }, 900_000);

  it('runs only the MLPerf shapes: no example models, no streamed inferences or board figures', () => {
    expect(new Set(b.models.map((m) => m.model))).toEqual(new Set(NAMES));
    expect(b.inference).toEqual([]);
    expect(b.boards).toEqual([]);
  });

  it('runs every shape on sim 8x8 and on each board exactly where the compiler fits it, saying why not in one line', () => {
    const m = b.mlperf!;
    for (const name of NAMES) {
      const q = mlperfQModel(name);
      const sim = m.runs.find((x) => x.model === name && x.config === 'sim 8x8');
      expect(sim?.fits).toBe(true);
      for (const board of Object.values(BOARDS)) {
        const config = boardConfig(board);
        const run = m.runs.find((x) => x.model === name && x.config.startsWith(`${board.name} `))!;
        let fits = true;
        try {
          compile(q, config);
        } catch (err) {
          if (!(err instanceof NnfpgaError)) throw err;
          fits = false;
        }
        expect(run.fits, `${name} on ${board.name}`).toBe(fits);
        if (fits) expect(run.note).toBeNull();
        else expect(run.note).toMatch(/^[^\n]+$/);
      }
    }
    // every run that fits has its entry, measured on the core (sim) or the board's top
    for (const run of m.runs.filter((x) => x.fits)) {
      const e = b.models.find((x) => x.model === run.model && x.config === run.config);
      expect(e?.measured_on, `${run.model} on ${run.config}`).toBe(run.config === 'sim 8x8' ? 'core' : 'top');
    }
    expect(b.models).toHaveLength(m.runs.filter((x) => x.fits).length);
    // KWS fits the iCEBreaker (with the AMEM extension)
    expect(m.runs.find((x) => x.model === 'mlperf_kws' && x.config.startsWith('icebreaker'))?.fits).toBe(
      true,
    );
  });

  it('every entry has the SPEC fields, bit-exact, cycles >= ideal, latency = cycles at the clock, utilizations in (0, 1]', () => {
    for (const e of b.models) {
      const what = `${e.model} on ${e.config}`;
      for (const f of SPEC_FIELDS) expect(e[f], `${what}: ${f}`).toBeDefined();
      expect(e.bit_exact, what).toBe(true);
      const pes = Number(/(\d+)x\d+$/.exec(e.config)![1]) ** 2;
      expect(e.ideal_cycles).toBeCloseTo(e.macs / pes, 6);
      expect(e.cycles, what).toBeGreaterThanOrEqual(e.ideal_cycles);
      const clock = e.config === 'sim 8x8' ? SIM_CLOCK_MHZ : BOARDS[e.config.split(' ')[0]].targetMhz;
      expect(e.clock_mhz, what).toBe(clock);
      expect(e.latency_ms).toBeCloseTo(e.cycles / (clock * 1e3), 9);
      expect(e.utilization).toBeCloseTo(e.ideal_cycles / e.cycles, 9);
      for (const u of [
        e.utilization,
        e.depthwise_utilization,
        e.pointwise_utilization,
        e.other_conv_utilization,
      ])
        if (u !== null) {
          expect(u, what).toBeGreaterThan(0);
          expect(u, what).toBeLessThanOrEqual(1);
        }
      // the per-layer rows add up to the entry
      const layers = b.layers.filter((l) => l.model === e.model && l.config === e.config);
      expect(layers.reduce((a, l) => a + l.macs, 0)).toBe(e.macs);
      expect(layers.reduce((a, l) => a + l.cycles, 0)).toBeLessThanOrEqual(e.cycles);
    }
    // the layer classes each shape has: KWS depthwise, pointwise and its 10x4 conv; ResNet-8
    // 3x3 and 1x1 convs, no depthwise; the autoencoder dense layers only
    const at = (name: MlperfName) => b.models.find((e) => e.model === name && e.config === 'sim 8x8')!;
    const kinds = (name: MlperfName) => {
      const e = at(name);
      return [e.depthwise_utilization, e.pointwise_utilization, e.other_conv_utilization].map(
        (u) => u !== null,
      );
    };
    expect(kinds('mlperf_kws')).toEqual([true, true, true]);
    expect(kinds('mlperf_ic')).toEqual([false, true, true]);
    expect(kinds('mlperf_vww')).toEqual([true, true, true]);
    expect(kinds('mlperf_ad')).toEqual([false, false, false]);
  });

  it('names every target with its measured figure, its bound and a verdict that follows from them; the published latencies beside', () => {
    const m = b.mlperf!;
    expect(m.targets.map((t) => [t.name, t.sense, t.bound])).toEqual(
      TARGETS.map((t) => [t.name, t.sense, t.bound]),
    );
    for (const t of m.targets) {
      expect(t.measured, t.name).not.toBeNull();
      const v = t.measured!;
      expect(t.met, t.name).toBe(t.sense === 'max' ? v <= t.bound : v >= t.bound);
    }
    const kws = b.models.find((e) => e.model === 'mlperf_kws' && e.config.startsWith('icebreaker'))!;
    expect(m.targets[0].measured).toBe(kws.latency_ms);
    const ic = b.models.find((e) => e.model === 'mlperf_ic' && e.config === 'sim 8x8')!;
    expect(m.targets.find((t) => t.name.startsWith('ResNet-8'))!.measured).toBe(ic.ideal_ratio);
    for (const t of m.targets.filter((x) => x.unit === 'fraction')) {
      expect(t.measured).toBeGreaterThan(0);
      expect(t.measured).toBeLessThanOrEqual(1);
    }
    expect(m.published).toEqual(PUBLISHED);
    // the table prints each target, measured beside bound, with its verdict
    const text = formatBench(b);
    for (const t of m.targets) {
      const line = text.split('\n').find((l) => l.includes(t.name))!;
      expect(line, t.name).toMatch(t.met ? /│ met +│$/ : /│ NOT MET +│$/);
      expect(line).toMatch(t.sense === 'max' ? /<= / : />= /);
    }
    for (const p of PUBLISHED) expect(text).toContain(p.system);
  });
});
