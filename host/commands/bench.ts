// nnfpga bench [--json]: the performance figures of SPEC section 6 (host/bench/bench.ts).
import { Option } from '@commander-js/extra-typings';
import Table from 'cli-table3';
import { runBench, type BenchReport } from '../bench/bench.ts';
import { plain, type Colors } from './color.ts';
import { emit, type Register } from './common.ts';
import { integer } from './parse.ts';
import { createProgress } from './progress.ts';

const int = (v: number): string => Math.round(v).toLocaleString('en-US');
const pct = (v: number): string => `${(100 * v).toFixed(1)} %`;
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
  out.push('Per model (one inference on the core)');
  out.push(
    table(
      ['model', 'config', 'MACs', 'cycles', 'ideal', 'utilization', 'cycles / ideal', 'bit-exact'],
      r.models.map((m) => [
        m.model,
        m.config,
        int(m.macs),
        int(m.cycles),
        int(m.ideal_cycles),
        pct(m.utilization),
        `${m.ideal_ratio.toFixed(2)}x`,
        m.bit_exact ? c.green('yes') : c.red('NO'),
      ]),
    ),
  );
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
  out.push(
    `Simulation speed: ${r.simulation.map((s) => `${s.config} ${si(s.cycles_per_second)} cycles/s`).join('; ')}`,
  );
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
    .action(async (opts, cmd) => {
      const progress = createProgress();
      const report = await runBench({ progress: progress.log, streamed: opts.streamed });
      emit(cmd.optsWithGlobals(), report, (c) => formatBench(report, c));
    });
};
