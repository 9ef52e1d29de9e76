import type { Command } from 'commander';

/** Options every command takes (SPEC section 2). */
export interface CommonOptions {
  json?: boolean;
  verbose?: boolean;
}

export function withCommon(cmd: Command): Command {
  return cmd
    .option('--json', 'print exactly one JSON document on standard output')
    .option('--verbose', 'show stack traces and tool logs on errors');
}

/** Writes the command's result: JSON document or the human-readable text. */
export function emit(opts: CommonOptions, data: unknown, human: () => string): void {
  if (opts.json) process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
  else process.stdout.write(`${human()}\n`);
}

/** Progress and logs go to standard error so that --json output stays clean. */
export function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

export type Register = (program: Command) => void;
