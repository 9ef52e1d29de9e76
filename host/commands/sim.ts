// nnfpga sim [--trace FILE] [--ber P] [--seed N] [--board NAME]: starts the simulated
// board, prints its pseudo-terminal, serves until interrupted. Other commands reach it
// with --port PATH. With --board, the simulated design is that board's top (its clock,
// UART rate and memories) rather than the 8x8 simulation configuration.
import type { Command } from 'commander';
import { boardNames, lookupBoard, topParams } from '../board/boards.ts';
import { SIM_CONFIG } from '../compiler/configs.ts';
import { InputError } from '../errors.ts';
import { boardClocksPerBit, SIM_BOARD_PARAMS, startBoardSim } from '../sim/board.ts';
import { emit, log, withCommon, type CommonOptions, type Register } from './common.ts';

interface SimOptions extends CommonOptions {
  trace?: string;
  ber?: string;
  seed?: string;
  board?: string;
}

export async function serveSim(opts: SimOptions): Promise<void> {
  const ber = opts.ber === undefined ? 0 : Number(opts.ber);
  if (!Number.isFinite(ber) || ber < 0 || ber > 0.5)
    throw new InputError(`--ber ${opts.ber}: give a probability in [0, 0.5]`);
  const seed = opts.seed === undefined ? 1 : Number(opts.seed);
  if (!Number.isInteger(seed) || seed < 0)
    throw new InputError(`--seed ${opts.seed}: give a non-negative integer`);
  const spec = opts.board === undefined ? undefined : lookupBoard(opts.board);
  log('nnfpga sim: building the simulated board (cached after the first time)...');
  const board = await startBoardSim({ trace: opts.trace, ber, seed, stderr: 'inherit', board: spec });
  const p = spec
    ? { ClockHz: topParams(spec).ClockHz, ClksPerBit: boardClocksPerBit(spec), Dim: spec.core.dim }
    : { ClockHz: SIM_BOARD_PARAMS.ClockHz, ClksPerBit: SIM_BOARD_PARAMS.ClksPerBit, Dim: SIM_CONFIG.dim };
  emit(
    opts,
    {
      path: board.path,
      pid: board.process.pid,
      board: spec?.name ?? null,
      dim: p.Dim,
      clock_hz: p.ClockHz,
      clocks_per_bit: p.ClksPerBit,
      ber,
      trace: opts.trace ?? null,
    },
    () =>
      `${board.path}\n` +
      `simulated board${spec ? ` (${spec.name} top)` : ''}: ${p.Dim}x${p.Dim} array, ${p.ClksPerBit} clocks per bit${ber ? `, bit-error rate ${ber}` : ''}` +
      `${opts.trace ? `, tracing to ${opts.trace}` : ''}\n` +
      `use it with: nnfpga run MODEL --input X.npy --port ${board.path}    (Ctrl-C stops the board)`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    board.process.once('exit', stop);
  });
  await board.stop();
}

export const registerSim: Register = (program: Command) => {
  withCommon(
    program
      .command('sim')
      .description(
        'start the simulated board (Verilator) behind a pseudo-terminal and serve until interrupted',
      )
      .option('--trace <FILE>', 'write an FST waveform of the whole session to FILE')
      .option('--ber <P>', 'flip each bit on both UART lines with probability P')
      .option('--seed <N>', 'seed of the bit-error generator')
      .option(
        '--board <NAME>',
        `simulate this board's top (${boardNames().join(', ')}) instead of the 8x8 simulation configuration`,
      ),
  ).action((opts: SimOptions) => serveSim(opts));
};
