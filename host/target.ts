// TARGET options of `run` and `eval` (SPEC section 2): --sim, --port PATH [--baud N],
// --sim-ber P. This build has no device support yet: the link (host/link/) replaces the
// body of openTarget with one that opens the simulated board or a serial port.
import type { Command } from 'commander';
import { InputError } from './errors.ts';
import type { QModel } from './quant/types.ts';
import type { InferenceBackend } from './run.ts';

export interface TargetOptions {
  sim?: boolean;
  port?: string;
  baud?: string;
  simBer?: string;
}

export function withTarget(cmd: Command): Command {
  return cmd
    .option('--sim', 'run on the simulated board (built if needed, started for this command)')
    .option('--port <PATH>', 'run on a board (or a simulated board from `nnfpga sim`) at this serial port')
    .option('--baud <N>', 'serial baud rate for --port')
    .option('--sim-ber <P>', 'with --sim: flip each UART bit with probability P (link fault test)');
}

/** Opens the device named by the TARGET options, or returns null when none is given. */
export async function openTarget(opts: TargetOptions, _model: QModel): Promise<InferenceBackend | null> {
  if (!opts.sim && opts.port === undefined) {
    if (opts.simBer !== undefined || opts.baud !== undefined) {
      throw new InputError('--sim-ber needs --sim and --baud needs --port');
    }
    return null;
  }
  throw new InputError('--sim/--port: no device support in this build yet');
}
