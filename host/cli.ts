// nnfpga command line: this file only wires commands; each command lives in
// host/commands/NAME.ts and the work is in the modules they call.
import { reportError } from './errors.ts';
import { commands } from './commands/index.ts';
import { newProgram, parse } from './commands/common.ts';

const program = newProgram();
for (const register of commands) register(program);

const args = process.argv.slice(2);
try {
  const code = await parse(program, args);
  if (code !== undefined) process.exitCode = code;
} catch (err) {
  process.exitCode = reportError(err, args.includes('--verbose'));
}
