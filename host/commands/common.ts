// The program every command hangs from, and what all commands share: the global options
// (--json, --verbose, before or after the command), writing the result, and turning
// commander's usage errors into nnfpga's one-line form.
import { Command, CommanderError } from '@commander-js/extra-typings';
import { UsageError } from '../errors.ts';
import { PACKAGE_JSON } from '../paths.ts';
import { colors, colorWanted, type Colors } from './color.ts';
import { formatJson } from './json.ts';

export function newProgram() {
  return (
    new Command('nnfpga')
      .description(
        'Run int8 neural networks on a systolic-array accelerator: simulated in Verilator or on an iCE40 board',
      )
      .version(PACKAGE_JSON.version, '-V, --version', 'print the version')
      .option('--json', 'print exactly one JSON document on standard output (logs go to standard error)')
      .option('--verbose', 'more detail: every input in run, stack traces and tool command lines on errors')
      .helpOption('-h, --help', 'show help (nnfpga COMMAND --help for a command)')
      .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
      // Usage errors are written by main() as one line; commander itself stays silent.
      .configureOutput({ outputError: () => {} })
      .exitOverride()
  );
}

export type Program = ReturnType<typeof newProgram>;
export type Register = (program: Program) => void;

/** Options every command sees (SPEC section 2), wherever they stood on the line. */
export interface CommonOptions {
  json?: true;
  verbose?: true;
}

/** Writes the command's result: the JSON document, or the text for people. */
export function emit(opts: CommonOptions, data: unknown, human: (c: Colors) => string): void {
  if (opts.json) process.stdout.write(`${formatJson(data)}\n`);
  else process.stdout.write(`${human(colors(colorWanted(process.stdout)))}\n`);
}

/**
 * commander's message for a usage error, as one nnfpga line: "option '--limit <N>'
 * argument '0' is invalid. expected ..." becomes "--limit 0: expected ...", and the
 * command's help is named.
 */
export function usageLine(err: CommanderError, command?: string): string {
  let m = err.message
    .replace(/^error: /, '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ');
  const invalid = /^option '(-[^' ]+)[^']*' argument '(.*)' is invalid\. (.*)$/s.exec(m);
  if (invalid) {
    const [, flag, value, why] = invalid;
    m = `${flag} ${value}: ${why.replace(/^Allowed choices are/, 'choose one of').replace(/\.$/, '')}`;
  } else {
    m = m
      .replace(/(?<=(unknown|required) )option '(-[^' ]+)[^']*'/g, "option '$2'")
      .replace(/option '(-[^' ]+) [^']*'/g, "option '$1'")
      .replace(/(?<!(unknown|required) )option '(-[^' ]+)'/g, '$2');
  }
  return `${m} (see nnfpga ${command ? `${command} ` : ''}--help)`;
}

/**
 * Runs the command line. Returns the exit code for a usage error or a help/version
 * request; other errors are thrown for the caller (host/cli.ts) to report.
 */
export async function parse(program: Program, argv: string[]): Promise<number | undefined> {
  try {
    await program.parseAsync(argv, { from: 'user' });
    return undefined;
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    // help and --version have been written already
    if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(err.code))
      return err.exitCode;
    const command = program.commands.find((c) => argv.includes(c.name()))?.name();
    throw new UsageError(usageLine(err, command));
  }
}

/** The commands whose options conflict or depend on each other: checked before the action. */
export function requireTogether(
  opts: object,
  rules: [option: string, needs: string, flag: string, needsFlag: string][],
): void {
  const o = opts as Record<string, unknown>;
  for (const [name, needs, flag, needsFlag] of rules)
    if (o[name] !== undefined && o[needs] === undefined) throw new UsageError(`${flag} needs ${needsFlag}`);
}
