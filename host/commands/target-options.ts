// The TARGET options of `run` and `eval` (SPEC section 2), declared for commander:
// --sim or --port PATH (not both), --baud N with --port, --sim-ber P and --board NAME
// with --sim. Values are parsed and checked, and the combinations too, before the
// command does any work.
import { Option, type Command, type OptionValues } from '@commander-js/extra-typings';
import { boardNames } from '../board/boards.ts';
import { DEFAULT_BAUD } from '../target.ts';
import { UsageError } from '../errors.ts';
import { requireTogether } from './common.ts';
import { integer, probability } from './parse.ts';

/** The parsed TARGET options (what host/target.ts TargetOptions takes). */
export interface TargetOptionValues {
  sim?: true;
  port?: string;
  baud?: number;
  simBer?: number;
  berSeed?: number;
  board?: string;
}

export function addTargetOptions<A extends unknown[], O extends OptionValues, G extends OptionValues>(
  cmd: Command<A, O, G>,
): Command<A, O & TargetOptionValues, G> {
  return cmd
    .addOption(
      new Option('--sim', 'run on the simulated board (built if needed, started for this command)').conflicts(
        'port',
      ),
    )
    .addOption(
      new Option(
        '--port <PATH>',
        'run on a board (or a simulated board from `nnfpga sim`) at this serial port',
      ),
    )
    .addOption(
      new Option(
        '--baud <N>',
        `with --port: serial baud rate (default: the board's, ${DEFAULT_BAUD} for the iCEBreaker)`,
      ).argParser(integer(1)),
    )
    .addOption(
      new Option(
        '--sim-ber <P>',
        'with --sim: flip each bit on both UART lines with probability P (link fault test)',
      ).argParser(probability),
    )
    .addOption(
      new Option('--ber-seed <N>', 'with --sim-ber: seed of the bit-error generator (default 1)').argParser(
        integer(0, 2 ** 32 - 1),
      ),
    )
    .addOption(
      new Option(
        '--board <NAME>',
        "with --sim: simulate this board's top (its clock, UART rate and memories) instead of the 8x8 simulation configuration; with --port: the board there (its baud rate)",
      ).choices(boardNames()),
    )
    .hook('preAction', (_cmd, action) => {
      const o = action.opts() as TargetOptionValues;
      if (o.board !== undefined && o.sim === undefined && o.port === undefined)
        throw new UsageError('--board needs --sim (its top in simulation) or --port (the board there)');
      requireTogether(o, [
        ['simBer', 'sim', '--sim-ber', '--sim'],
        ['berSeed', 'simBer', '--ber-seed', '--sim-ber'],
        ['baud', 'port', '--baud', '--port'],
      ]);
    }) as unknown as Command<A, O & TargetOptionValues, G>; // the same type, spelt out for declarations
}
