// nnfpga flash --board BOARD [--bitstream FILE]: writes the bitstream to the board's
// flash with openFPGALoader (host/board/flash.ts).
import { Option } from '@commander-js/extra-typings';
import { boardNames, lookupBoard } from '../board/boards.ts';
import { flashBoard } from '../board/flash.ts';
import { emit, type Register } from './common.ts';
import { createProgress } from './progress.ts';

export const registerFlash: Register = (program) => {
  program
    .command('flash')
    .description(
      'program the board with openFPGALoader (default bitstream: the last `nnfpga build` of the board)',
    )
    .addOption(new Option('--board <NAME>', 'the board').choices(boardNames()).makeOptionMandatory())
    .option('--bitstream <FILE>', 'bitstream to write')
    .action(async (opts, cmd) => {
      const g = cmd.optsWithGlobals();
      const progress = createProgress();
      // The command line is shown with --verbose only: a failure then stays one line.
      const result = await flashBoard(lookupBoard(opts.board), {
        bitstream: opts.bitstream,
        progress: g.verbose ? progress.log : undefined,
      });
      emit(
        g,
        result,
        (c) =>
          `${result.board}: ${result.bitstream} ${c.green('written')} with ${result.programmer} in ${result.seconds.toFixed(1)} s`,
      );
    });
};
