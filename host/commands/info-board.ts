// nnfpga info MODEL --board B | --config sim8: the fit check and per-layer estimates
// (host/board-info.ts), wired into `info` by host/commands/info.ts.
import Table from 'cli-table3';
import { Option } from '@commander-js/extra-typings';
import { boardNames } from '../board/boards.ts';
import { boardInfo, CONFIG_NAMES, modelForEstimate, resolveTarget, type BoardInfo } from '../board-info.ts';
import { formatShape } from '../ir.ts';
import { emit, type CommonOptions } from './common.ts';
import { createProgress } from './progress.ts';

export interface InfoBoardOptions extends CommonOptions {
  board?: string;
  config?: string;
  calib?: string;
}

const n = (v: number): string => Math.round(v).toLocaleString('en-US');
const kib = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;

export function formatBoardInfo(r: BoardInfo): string {
  const table = new Table({
    head: [
      'layer',
      'op',
      'output',
      'MACs',
      'ideal cyc',
      'est. cycles',
      'bound',
      'util.',
      'live AMEM B',
      'WMEM B',
    ],
    colAligns: ['left', 'left', 'left', 'right', 'right', 'right', 'left', 'right', 'right', 'right'],
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const l of r.layers) {
    table.push([
      l.name,
      l.op,
      formatShape(l.output),
      n(l.macs),
      l.ideal_cycles === null ? '-' : n(l.ideal_cycles),
      l.estimated_cycles === null ? '-' : n(l.estimated_cycles),
      l.bound === null ? '-' : l.bound === 'wire' ? `wire (${l.compute_bound} on chip)` : l.bound,
      l.estimated_cycles && l.ideal_cycles
        ? `${((100 * l.ideal_cycles) / l.estimated_cycles).toFixed(1)} %`
        : '-',
      l.memory ? n(l.memory.AMEM) : '-',
      l.memory ? n(l.memory.WMEM) : '-',
    ]);
  }
  const mem = Object.entries(r.memory)
    .map(
      ([s, m]) =>
        `${s} ${kib(m.needed)} of ${kib(m.available)}${m.needed > m.available ? ' (TOO LARGE)' : ''}`,
    )
    .join(', ');
  const w = r.inference;
  return [
    `${r.model} on ${r.target} (${r.array} array): ${r.fits ? 'FITS' : 'DOES NOT FIT'}`,
    ...(r.fit_reason ? [r.fit_reason] : []),
    `memory: ${mem}`,
    table.toString(),
    `estimated run: ${n(r.estimated_run_cycles)} cycles; one inference over the UART ` +
      `(${w.clocks_per_bit} clocks per bit): wire out ${n(w.wire_out_cycles)} (${n(w.wire_bytes_out)} B), ` +
      `compute ${n(w.compute_cycles)}, wire in ${n(w.wire_in_cycles)} (${n(w.wire_bytes_in)} B): ${w.bound}-bound`,
  ].join('\n');
}

/** The options `info` takes for the fit check (declared, so bad values fail before any work). */
export const infoBoardOptions = {
  board: new Option('--board <B>', 'also: does it fit this board, estimated cycles and bound per layer')
    .choices(boardNames())
    .conflicts('config'),
  config: new Option(
    '--config <C>',
    'also: does it fit this configuration (sim8: the simulated board)',
  ).choices(CONFIG_NAMES),
  calib: new Option('--calib <CALIB.npy>', 'with --board/--config: calibration samples for an ONNX model'),
};

/** The `info` action when --board or --config is given. */
export function infoBoardAction(model: string, opts: InfoBoardOptions): void {
  const target = resolveTarget(opts.board, opts.config);
  const m = modelForEstimate(model, opts.calib, (line) => createProgress().log(line));
  const r = boardInfo(m.q, m.info, target, m.calibration);
  emit(opts, r, () => formatBoardInfo(r));
}
