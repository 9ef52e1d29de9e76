// The pieces of the command line that turn text into values and errors into lines:
// the option parsers, commander's usage errors as one nnfpga line, and reportError's
// exit codes (1 input, 2 device, 3 a bug, said to be one).
import { CommanderError, InvalidArgumentError } from '@commander-js/extra-typings';
import { describe, expect, it } from 'vitest';
import { usageLine } from '../../../host/commands/common.ts';
import { integer, probability } from '../../../host/commands/parse.ts';
import { DeviceError, InputError, MissingToolError, reportError } from '../../../host/errors.ts';

function report(err: unknown, verbose = false): { code: number; text: string } {
  let text = '';
  const code = reportError(err, verbose, (s) => {
    text += s;
  });
  return { code, text };
}

describe('option parsers', () => {
  it('integer accepts whole numbers in range only', () => {
    const limit = integer(1);
    expect(limit('300')).toBe(300);
    for (const bad of ['0', '-3', '1.5', 'abc', '', ' ', '1e400', '0x'])
      expect(() => limit(bad)).toThrow(InvalidArgumentError);
    expect(() => integer(0, 10)('11')).toThrow('expected a whole number in [0, 10]');
    expect(() => limit('0')).toThrow('expected a whole number >= 1');
  });

  it('probability accepts [0, 0.5]', () => {
    expect(probability('1e-4')).toBe(1e-4);
    expect(probability('0')).toBe(0);
    expect(probability('0.5')).toBe(0.5);
    for (const bad of ['0.6', '-1e-4', 'NaN', 'Infinity', 'x', ''])
      expect(() => probability(bad)).toThrow(InvalidArgumentError);
  });
});

describe('usage errors as one line', () => {
  const err = (message: string, code = 'commander.error') => new CommanderError(1, code, message);

  it('says which option and value, and where the help is', () => {
    expect(
      usageLine(
        err("error: option '--limit <N>' argument '0' is invalid. expected a whole number >= 1"),
        'eval',
      ),
    ).toBe('--limit 0: expected a whole number >= 1 (see nnfpga eval --help)');
    expect(
      usageLine(
        err(
          "error: option '--board <NAME>' argument 'nope' is invalid. Allowed choices are icebreaker, hx8k.",
        ),
        'build',
      ),
    ).toBe('--board nope: choose one of icebreaker, hx8k (see nnfpga build --help)');
    expect(usageLine(err("error: option '--sim' cannot be used with option '--port <PATH>'"), 'run')).toBe(
      '--sim cannot be used with --port (see nnfpga run --help)',
    );
    expect(usageLine(err("error: required option '--input <X.npy>' not specified"), 'run')).toBe(
      "required option '--input' not specified (see nnfpga run --help)",
    );
    expect(usageLine(err("error: unknown option '--jsn'\n(Did you mean --json?)"))).toBe(
      "unknown option '--jsn' (Did you mean --json?) (see nnfpga --help)",
    );
  });
});

describe('reportError', () => {
  it('prints typed errors as one line with their exit code: 1 for input and missing tools, 2 for devices', () => {
    expect(report(new InputError('x.npy: no such file'))).toEqual({
      code: 1,
      text: 'nnfpga: x.npy: no such file\n',
    });
    expect(report(new MissingToolError('yosys not found on PATH')).code).toBe(1);
    expect(report(new DeviceError('the device stopped answering')).code).toBe(2);
  });

  it('reports an operating-system error on a file as bad input (exit 1)', () => {
    const e = Object.assign(new Error("EACCES: permission denied, open '/root/q.json'"), {
      code: 'EACCES',
      syscall: 'open',
    });
    expect(report(e)).toEqual({ code: 1, text: "nnfpga: EACCES: permission denied, open '/root/q.json'\n" });
  });

  it('reports anything else as an internal error: exit 3, said to be a bug, how to report it, one line', () => {
    const r = report(new TypeError("Cannot read properties of undefined (reading 'dims')"));
    expect(r.code).toBe(3);
    expect(r.text.split('\n').filter(Boolean)).toHaveLength(1);
    expect(r.text).toMatch(
      /^nnfpga: internal error \(a bug in nnfpga, not in your input\): TypeError: Cannot read .*; please report it .* with the command line and what it prints with --verbose\n$/,
    );
    expect(report('a thrown string').code).toBe(3);
  });

  it('adds the stack with --verbose', () => {
    const r = report(new TypeError('boom'), true);
    expect(r.text.split('\n')[0]).toMatch(/^nnfpga: internal error/);
    expect(r.text).toMatch(/\n\s+at /);
  });
});
