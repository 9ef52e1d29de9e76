// nnfpga flash --board BOARD [--bitstream FILE]: writes the bitstream to the board's
// flash with openFPGALoader (host/board/flash.ts).
import type { Command } from 'commander';
import { boardNames } from '../board/boards.ts';
import { flashBoard } from '../board/flash.ts';
import { lookupBoard } from '../board/boards.ts';
import { type CommonOptions, emit, log, withCommon } from './common.ts';

interface FlashOpts extends CommonOptions {
  board: string;
  bitstream?: string;
}

export function registerFlash(program: Command): void {
  withCommon(
    program
      .command('flash')
      .description('program the board with openFPGALoader (default bitstream: build/BOARD/BOARD.bin)')
      .requiredOption('--board <name>', `board: ${boardNames().join(', ')}`)
      .option('--bitstream <file>', 'bitstream to write'),
  ).action(async (opts: FlashOpts) => {
    const board = lookupBoard(opts.board);
    // The command line is shown with --verbose only: a failure then stays one line.
    const result = await flashBoard(board, {
      bitstream: opts.bitstream,
      progress: opts.verbose ? log : undefined,
    });
    emit(
      opts,
      result,
      () =>
        `${result.board}: ${result.bitstream} written with ${result.programmer} in ${result.seconds.toFixed(1)} s`,
    );
  });
}
