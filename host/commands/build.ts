// nnfpga build --board BOARD: synthesis, place and route and bitstream for one board
// (host/board/build.ts), then the resources and Fmax (nextpnr and icetime) against the
// target clock.
import type { Command } from 'commander';
import { boardNames, lookupBoard } from '../board/boards.ts';
import { InputError } from '../errors.ts';
import { buildBoard, type BuildResult } from '../board/build.ts';
import { type CommonOptions, emit, log, withCommon } from './common.ts';

interface BuildOpts extends CommonOptions {
  board: string;
  seed?: string;
}

function pct(used: number, available: number): string {
  return available > 0 ? `${Math.round((100 * used) / available)}%` : '-';
}

export function formatBuild(r: BuildResult): string {
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
    `  Fmax         ${r.fmax_mhz.toFixed(2)} MHz nextpnr, ${r.icetime_mhz.toFixed(2)} MHz icetime (target ${r.target_mhz} MHz: ${r.timing_met ? 'met' : 'MISSED'})`,
    `  array        ${c.dim} x ${c.dim} = ${c.dim * c.dim} MACs/cycle, ${(r.peak_macs_per_s / 1e6).toFixed(0)} M MAC/s peak`,
    `  memories     AMEM ${c.amemWords} x ${c.dim} B, WMEM ${c.wmemWords} x ${c.dim} B, DMEM ${c.dmemWords} x 4 B, AccDepth ${c.accDepth}`,
    `  time         ${r.seconds.total.toFixed(0)} s (synthesis ${r.seconds.synth.toFixed(0)} s, place and route ${r.seconds.pnr.toFixed(0)} s, icetime ${r.seconds.icetime.toFixed(0)} s)`,
  ].join('\n');
}

export function registerBuild(program: Command): void {
  withCommon(
    program
      .command('build')
      .description(
        'synthesise, place and route and pack the bitstream for a board (yosys, nextpnr-ice40, icepack)',
      )
      .requiredOption('--board <name>', `board: ${boardNames().join(', ')}`)
      .option('--seed <n>', 'nextpnr placer seed', '1'),
  ).action(async (opts: BuildOpts) => {
    const board = lookupBoard(opts.board);
    const seed = Number(opts.seed ?? 1);
    if (!Number.isInteger(seed)) throw new InputError(`--seed must be an integer, not '${opts.seed}'`);
    const result = await buildBoard(board, { progress: log, seed });
    emit(opts, result, () => formatBuild(result));
  });
}
