// nnfpga bench [--json]: the performance figures of SPEC section 6 (host/bench/bench.ts).
import { Option } from '@commander-js/extra-typings';
import Table from 'cli-table3';
import { BENCH_PARTS, runBench, type BenchReport } from '../bench/bench.ts';
import { plain, type Colors } from './color.ts';
import { emit, type Register } from './common.ts';
import { integer } from './parse.ts';
import { createProgress } from './progress.ts';

const int = (v: number): string => Math.round(v).toLocaleString('en-US');
const pct = (v: number): string => `${(100 * v).toFixed(1)} %`;
const pctOr = (v: number | null): string => (v === null ? '-' : pct(v));
const ms = (v: number): string => `${v.toFixed(v < 10 ? 3 : 2)} ms`;
const si = (v: number): string =>
  v >= 1e9
    ? `${(v / 1e9).toFixed(2)} G`
    : v >= 1e6
      ? `${(v / 1e6).toFixed(2)} M`
      : v >= 1e3
        ? `${(v / 1e3).toFixed(1)} k`
        : v.toFixed(1);

function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const r of rows) t.push(r.map(String));
  return t.toString();
}

export function formatBench(r: BenchReport, c: Colors = plain): string {
  const out: string[] = [];
  out.push('Per layer (hardware counters; ideal = MACs / PEs; utilization = ideal / cycles)');
  out.push(
    table(
      ['model', 'config', 'layer', 'MACs', 'cycles', 'ideal', 'utilization', 'dense: weight bound'],
      r.layers.map((l) => [
        l.model,
        l.config,
        l.name,
        int(l.macs),
        int(l.cycles),
        int(l.ideal_cycles),
        l.macs > 0 ? pct(l.utilization) : '-',
        l.weight_bound_cycles !== undefined
          ? `${int(l.weight_bound_cycles)} (${pct(l.weight_bound_ratio ?? 0)} of it)`
          : '',
      ]),
    ),
  );
  out.push(
    'Per model (one inference on the core, or through a board top in simulation; latency = cycles at the clock; utilization of depthwise / pointwise / other convs)',
  );
  out.push(
    table(
      [
        'model',
        'config',
        'on',
        'MACs',
        'cycles',
        'ideal',
        'utilization',
        'cycles / ideal',
        'latency',
        'dw / pw / other conv',
        'bit-exact',
      ],
      r.models.map((m) => [
        m.model,
        m.config,
        m.measured_on,
        int(m.macs),
        int(m.cycles),
        int(m.ideal_cycles),
        pct(m.utilization),
        `${m.ideal_ratio.toFixed(2)}x`,
        `${ms(m.latency_ms)} at ${m.clock_mhz} MHz`,
        [m.depthwise_utilization, m.pointwise_utilization, m.other_conv_utilization].map(pctOr).join(' / '),
        m.bit_exact ? c.green('yes') : c.red('NO'),
      ]),
    ),
  );
  if (r.inference.length > 0 || r.boards.length > 0) out.push(formatBoards(r, c));
  if (r.mlperf) out.push(formatMlperf(r, c));
  out.push(simulationLine(r));
  return out.join('\n');
}

/** Inferences through the simulated boards, and the boards' figures. */
function formatBoards(r: BenchReport, c: Colors): string {
  const out: string[] = [];
  out.push(
    'Per inference through the simulated boards (pseudo-terminal, real link; cycles of the board clock, measured)',
  );
  out.push(
    table(
      [
        'model',
        'target',
        'cyc/bit',
        'payload B',
        'wire B (out+in)',
        'overhead',
        'compute cyc',
        'UART bound cyc',
        'single cyc',
        'streamed cyc (bound)',
        'streamed/s (wall)',
        'exact',
      ],
      r.inference.map((i) => [
        i.model,
        i.target,
        String(i.clocks_per_bit),
        int(i.payload_bytes),
        `${int(i.wire_bytes)} (${int(i.wire_bytes_out)}+${int(i.wire_bytes_in)})`,
        `${i.wire_overhead.toFixed(2)}x`,
        int(i.compute_cycles),
        int(i.uart_bound_cycles),
        int(i.single_cycles),
        `${int(i.streaming_cycles)} (${int(i.streaming_bound_cycles)})`,
        i.streamed_per_second_wall.toFixed(1),
        i.exact ? c.green('yes') : c.red('NO'),
      ]),
    ),
  );
  out.push(
    'Boards (peak MACs/s = PEs x clock; cnn_a and mlp streamed through the board top in simulation at its baud rate)',
  );
  out.push(
    table(
      [
        'board',
        'array',
        'clock',
        'peak MACs/s',
        'cnn_a inf/s',
        'mlp inf/s',
        'bound',
        'of peak',
        'LCs',
        'DSP',
        'EBR',
        'SPRAM',
        'Fmax (nextpnr / icetime / target)',
      ],
      r.boards.map((b) => [
        b.board,
        b.array,
        `${b.clock_mhz} MHz`,
        si(b.peak_macs_per_s),
        b.cnn_a ? b.cnn_a.inferences_per_s.toFixed(0) : 'does not fit',
        b.mlp ? b.mlp.inferences_per_s.toFixed(0) : 'does not fit',
        b.cnn_a ? `${b.cnn_a.bound} (${int(b.cnn_a.compute_cycles)} cyc)` : '-',
        b.cnn_a ? pct(b.cnn_a.macs_fraction_of_peak) : '-',
        b.build?.logic_cells ?? '-',
        b.build?.dsp ?? '-',
        b.build?.ebr ?? '-',
        b.build?.spram ?? '-',
        b.build
          ? `${b.build.fmax_mhz.toFixed(1)}${b.build.icetime_mhz === null ? '' : ` / ${b.build.icetime_mhz.toFixed(1)}`} / ${b.build.target_mhz} MHz`
          : '-',
      ]),
    ),
  );
  for (const b of r.boards) {
    if (b.cnn_a_note) out.push(`${b.board}: cnn_a: ${b.cnn_a_note}`);
    if (b.build_note) out.push(`${b.board}: ${b.build_note}`);
  }
  return out.join('\n');
}

function simulationLine(r: BenchReport): string {
  return `Simulation speed: ${r.simulation.map((s) => `${s.config} ${si(s.cycles_per_second)} cycles/s`).join('; ')}`;
}

/** The MLPerf Tiny section: where each shape runs, the targets, the published latencies. */
function formatMlperf(r: BenchReport, c: Colors): string {
  const m = r.mlperf!;
  const out: string[] = [];
  out.push('MLPerf Tiny reference shapes (random weights; host/bench/mlperf.ts)');
  out.push(
    table(
      ['model', 'config', 'cycles', 'latency', 'bit-exact'],
      m.runs.map((x) => {
        const e = r.models.find((k) => k.model === x.model && k.config === x.config);
        return e
          ? [x.model, x.config, int(e.cycles), ms(e.latency_ms), e.bit_exact ? c.green('yes') : c.red('NO')]
          : [x.model, x.config, '-', 'does not fit', '-'];
      }),
    ),
  );
  for (const x of m.runs) if (!x.fits) out.push(`${x.model} on ${x.config}: ${x.note ?? ''}`);
  const fmt = (v: number, unit: string) =>
    unit === 'ms' ? ms(v) : unit === 'fraction' ? pct(v) : `${v.toFixed(3)}x`;
  out.push('MLPerf Tiny targets (measured beside bound)');
  out.push(
    table(
      ['target', 'config', 'measured', 'bound', ''],
      m.targets.map((t) => [
        t.name,
        t.config || '-',
        t.measured === null ? 'not measured' : fmt(t.measured, t.unit),
        `${t.sense === 'max' ? '<=' : '>='} ${fmt(t.bound, t.unit)}`,
        t.met ? c.green('met') : c.red('NOT MET'),
      ]),
    ),
  );
  out.push('Published MLPerf Tiny single-stream latencies beside ours (ms)');
  out.push(
    table(
      ['system', 'KWS', 'IC'],
      [
        ...m.published.map((p) => [p.system, p.mlperf_kws.toString(), p.mlperf_ic.toString()]),
        ...r.models
          .filter((e) => e.model === 'mlperf_kws' || e.model === 'mlperf_ic')
          .map((e) => e.config)
          .filter((cfg, i, all) => all.indexOf(cfg) === i)
          .map((cfg) => {
            const at = (model: string) => {
              const e = r.models.find((k) => k.model === model && k.config === cfg);
              return e ? e.latency_ms.toFixed(3) : 'does not fit';
            };
            const clock = r.models.find((k) => k.config === cfg)!.clock_mhz;
            return [
              `nnfpga ${cfg} at ${clock} MHz${cfg.startsWith('sim ') ? ' (nominal)' : ''}`,
              at('mlperf_kws'),
              at('mlperf_ic'),
            ];
          }),
      ],
    ),
  );
  out.push(`MLPerf part: ${m.wall_seconds.toFixed(0)} s of wall time`);
  return out.join('\n');
}

export const registerBench: Register = (program) => {
  program
    .command('bench')
    .description('performance figures: per-layer utilization, per-inference cycles and bytes, boards')
    .addOption(
      new Option('--streamed <N>', 'inputs streamed per model on the simulated board')
        .argParser(integer(1))
        .default(16),
    )
    .addOption(
      new Option(
        '--only <PART>',
        'run one part: the example models, or the MLPerf Tiny reference shapes',
      ).choices(BENCH_PARTS),
    )
    .action(async (opts, cmd) => {
      const progress = createProgress();
      const report = await runBench({ progress: progress.log, streamed: opts.streamed, only: opts.only });
      emit(cmd.optsWithGlobals(), report, (c) => formatBench(report, c));
    });
};
