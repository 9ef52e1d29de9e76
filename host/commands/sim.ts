// nnfpga sim [--trace FILE] [--ber P] [--seed N]: starts the simulated board, prints its
// pseudo-terminal, serves until interrupted. Other commands reach it with --port PATH.
import type { Command } from 'commander';
import { SIM_CONFIG } from '../compiler/configs.ts';
import { InputError } from '../errors.ts';
import { SIM_BOARD_PARAMS, startBoardSim } from '../sim/board.ts';
import { emit, log, withCommon, type CommonOptions, type Register } from './common.ts';

interface SimOptions extends CommonOptions {
  trace?: string;
  ber?: string;
  seed?: string;
}

export async function serveSim(opts: SimOptions): Promise<void> {
  const ber = opts.ber === undefined ? 0 : Number(opts.ber);
  if (!Number.isFinite(ber) || ber < 0 || ber > 0.5)
    throw new InputError(`--ber ${opts.ber}: give a probability in [0, 0.5]`);
  const seed = opts.seed === undefined ? 1 : Number(opts.seed);
  if (!Number.isInteger(seed) || seed < 0)
    throw new InputError(`--seed ${opts.seed}: give a non-negative integer`);
  log('nnfpga sim: building the simulated board (cached after the first time)...');
  const board = await startBoardSim({ trace: opts.trace, ber, seed, stderr: 'inherit' });
  const p = SIM_BOARD_PARAMS;
  emit(
    opts,
    {
      path: board.path,
      pid: board.process.pid,
      dim: SIM_CONFIG.dim,
      clock_hz: p.ClockHz,
      clocks_per_bit: p.ClksPerBit,
      ber,
      trace: opts.trace ?? null,
    },
    () =>
      `${board.path}\n` +
      `simulated board: ${SIM_CONFIG.dim}x${SIM_CONFIG.dim} array, ${p.ClksPerBit} clocks per bit${ber ? `, bit-error rate ${ber}` : ''}` +
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
      .option('--seed <N>', 'seed of the bit-error generator'),
  ).action((opts: SimOptions) => serveSim(opts));
};
