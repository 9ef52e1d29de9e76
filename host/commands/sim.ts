// nnfpga sim [--trace FILE] [--ber P] [--ber-seed N] [--board NAME]: starts the simulated
// board, prints its pseudo-terminal, serves until interrupted. Other commands reach it
// with --port PATH. With --board, the simulated design is that board's top (its clock,
// UART rate and memories) rather than the 8x8 simulation configuration. The bit-error
// rate is --ber P (SPEC) or, spelt as in run and eval, --sim-ber P.
import { Option } from '@commander-js/extra-typings';
import { boardNames, lookupBoard, topParams } from '../board/boards.ts';
import { SIM_CONFIG } from '../compiler/configs.ts';
import { boardClocksPerBit, SIM_BOARD_PARAMS, startBoardSim } from '../sim/board.ts';
import { emit, type CommonOptions, type Register } from './common.ts';
import { integer, probability } from './parse.ts';
import { createProgress } from './progress.ts';

export interface SimOptions extends CommonOptions {
  trace?: string;
  /** Bit-error rate on both UART lines. */
  ber?: number;
  berSeed?: number;
  board?: string;
}

export async function serveSim(opts: SimOptions): Promise<void> {
  const ber = opts.ber ?? 0;
  const spec = opts.board === undefined ? undefined : lookupBoard(opts.board);
  createProgress().log('nnfpga sim: building the simulated board (cached after the first time)...');
  const board = await startBoardSim({
    trace: opts.trace,
    ber,
    seed: opts.berSeed ?? 1,
    stderr: 'inherit',
    board: spec,
  });
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

export const registerSim: Register = (program) => {
  program
    .command('sim')
    .description('start the simulated board (Verilator) behind a pseudo-terminal and serve until interrupted')
    .option('--trace <FILE>', 'write an FST waveform of the whole session to FILE')
    .addOption(
      new Option('--ber <P>', 'flip each bit on both UART lines with probability P (also --sim-ber P)')
        .argParser(probability)
        .conflicts('simBer'),
    )
    .addOption(new Option('--sim-ber <P>', 'the same as --ber').argParser(probability).hideHelp())
    .addOption(
      new Option('--ber-seed <N>', 'seed of the bit-error generator (default 1)').argParser(
        integer(0, 2 ** 32 - 1),
      ),
    )
    .addOption(
      new Option(
        '--board <NAME>',
        "simulate this board's top instead of the 8x8 simulation configuration",
      ).choices(boardNames()),
    )
    .action((opts, cmd) => serveSim({ ...cmd.optsWithGlobals(), ber: opts.ber ?? opts.simBer }));
};
