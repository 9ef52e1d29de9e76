// nnfpga command line: this file only wires commands; each command lives in
// host/commands/NAME.ts and the work is in the modules they call.
import { Command, CommanderError } from 'commander';
import { reportError } from './errors.ts';
import { commands } from './commands/index.ts';

const program = new Command('nnfpga')
  .description(
    'Run int8 neural networks on a systolic-array accelerator: simulated in Verilator or on an iCE40 board',
  )
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

for (const register of commands) register(program);

const verbose = process.argv.includes('--verbose');
try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // commander has already printed its one-line message (or the help text).
    process.exitCode = err.exitCode === 0 ? 0 : 1;
  } else {
    process.exitCode = reportError(err, verbose);
  }
}
