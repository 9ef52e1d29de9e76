// nnfpga build --board BOARD: synthesis, place and route and bitstream for one board
// (host/board/build.ts), then the resources and Fmax (nextpnr and icetime) against the
// target clock.
import { Option } from '@commander-js/extra-typings';
import { boardNames, lookupBoard } from '../board/boards.ts';
import { buildBoard, type BuildResult } from '../board/build.ts';
import { plain, type Colors } from './color.ts';
import { emit, type Register } from './common.ts';
import { integer } from './parse.ts';
import { createProgress } from './progress.ts';

function pct(used: number, available: number): string {
  return available > 0 ? `${Math.round((100 * used) / available)}%` : '-';
}

export function formatBuild(r: BuildResult, col: Colors = plain): string {
  const res = r.resources;
  const row = (name: string, u: { used: number; available: number }) =>
    `  ${name.padEnd(12)} ${String(u.used).padStart(6)} / ${String(u.available).padEnd(6)} ${pct(u.used, u.available)}`;
  const c = r.core;
  return [
    `${r.board} (${r.device}): ${r.bitstream}`,
    row('logic cells', res.logic_cells),
    row('DSP', res.dsp),
    row('EBR', res.ebr),
    row('SPRAM', res.spram),
    row('PLL', res.pll),
    `  Fmax         ${r.fmax_mhz.toFixed(2)} MHz nextpnr, ${r.icetime_mhz.toFixed(2)} MHz icetime (target ${r.target_mhz} MHz: ${r.timing_met ? col.green('met') : col.red('MISSED')})`,
    `  array        ${c.dim} x ${c.dim} = ${c.dim * c.dim} MACs/cycle, ${(r.peak_macs_per_s / 1e6).toFixed(0)} M MAC/s peak`,
    `  memories     AMEM ${c.amemWords} x ${c.dim} B${c.amemExtWords > 0 ? ` + ${c.amemExtWords} x ${c.dim} B in WMEM's upper half` : ''}, WMEM ${c.wmemWords} x ${c.dim} B, DMEM ${c.dmemWords} x 4 B, AccDepth ${c.accDepth}`,
    `  time         ${r.seconds.total.toFixed(0)} s (synthesis ${r.seconds.synth.toFixed(0)} s, place and route ${r.seconds.pnr.toFixed(0)} s, icetime ${r.seconds.icetime.toFixed(0)} s)`,
  ].join('\n');
}

export const registerBuild: Register = (program) => {
  program
    .command('build')
    .description(
      'synthesise, place and route and pack the bitstream for a board (yosys, nextpnr-ice40, icepack)',
    )
    .addOption(new Option('--board <NAME>', 'the board').choices(boardNames()).makeOptionMandatory())
    .addOption(new Option('--seed <N>', 'nextpnr placer seed').argParser(integer(0, 2 ** 31 - 1)).default(1))
    .action(async (opts, cmd) => {
      const progress = createProgress();
      const result = await buildBoard(lookupBoard(opts.board), { progress: progress.log, seed: opts.seed });
      emit(cmd.optsWithGlobals(), result, (c) => formatBuild(result, c));
    });
};
