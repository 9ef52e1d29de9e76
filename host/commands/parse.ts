// Argument parsers for commander options (`.argParser()`): each turns the text into a
// value or throws commander's InvalidArgumentError, which the CLI reports as one line
// (host/commands/common.ts) before any work is done.
import { InvalidArgumentError } from '@commander-js/extra-typings';

/** A whole number in [min, max]. */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER): (text: string) => number {
  return (text) => {
    const v = Number(text);
    if (text.trim() === '' || !Number.isSafeInteger(v) || v < min || v > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
      throw new InvalidArgumentError(`expected a whole number ${range}`);
    }
    return v;
  };
}

/** A bit-error probability: a number in [0, 0.5] (0.5 is a line of pure noise). */
export function probability(text: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v < 0 || v > 0.5)
    throw new InvalidArgumentError('expected a probability in [0, 0.5], e.g. 1e-4');
  return v;
}
