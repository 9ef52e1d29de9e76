// Typed errors and the one place that turns them into a message and an exit code
// (SPEC section 2: 1 for bad usage or input, 2 for device or link failures, 3 for an
// internal error, that is a bug in nnfpga).
import { PACKAGE_JSON } from './paths.ts';

export class NnfpgaError extends Error {
  /** Process exit code for this error. */
  readonly exitCode: number = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad usage or bad input: a file, a shape, an option. Exit code 1. */
export class InputError extends NnfpgaError {}

/** A command line that cannot run (options that conflict, a value out of range). Exit code 1. */
export class UsageError extends InputError {}

/** An ONNX node the toolchain cannot map. Exit code 1. */
export class UnsupportedOpError extends InputError {}

/** The model does not fit the device's memories. Exit code 1. */
export class ModelTooLargeError extends InputError {}

/** A program nnfpga runs (yosys, nextpnr-ice40, verilator, ...) is not installed. Exit code 1. */
export class MissingToolError extends NnfpgaError {}

/** Device or link failures. Exit code 2. */
export class DeviceError extends NnfpgaError {
  override readonly exitCode: number = 2;
}

/** The device stopped answering. */
export class LinkTimeoutError extends DeviceError {}

/** A tool that drives the hardware failed (openFPGALoader finds no board, for instance). */
export class ToolError extends DeviceError {}

/** Exit code of an internal error: a bug in nnfpga, neither bad input nor a device failure. */
export const INTERNAL_ERROR_EXIT = 3;

/** Where to report a bug: package.json's bugs URL, or the project's maintainers. */
function reportHint(): string {
  const bugs = PACKAGE_JSON.bugs;
  const url = typeof bugs === 'string' ? bugs : bugs?.url;
  const where = url ? ` at ${url}` : ' to the nnfpga maintainers';
  return `please report it${where} with the command line and what it prints with --verbose`;
}

/** An operating-system error (ENOENT, EACCES, ENOSPC ...) from a file the user named. */
function isSystemError(err: unknown): err is NodeJS.ErrnoException & { syscall: string } {
  return (
    err instanceof Error &&
    typeof (err as NodeJS.ErrnoException).code === 'string' &&
    typeof (err as NodeJS.ErrnoException).syscall === 'string'
  );
}

/**
 * Writes any thrown value as one line on standard error (the stack only with --verbose)
 * and returns the exit code: the error's own for nnfpga's typed errors, 1 for an
 * operating-system error (a file that cannot be written), 3 for anything else, which is
 * a bug and is said to be one.
 */
export function reportError(
  err: unknown,
  verbose: boolean,
  write: (text: string) => void = (text) => void process.stderr.write(text),
): number {
  const stack = () => {
    if (verbose && err instanceof Error && err.stack) write(`${err.stack}\n`);
  };
  if (err instanceof NnfpgaError) {
    write(`nnfpga: ${err.message}\n`);
    stack();
    return err.exitCode;
  }
  if (isSystemError(err)) {
    write(`nnfpga: ${err.message}\n`);
    stack();
    return 1;
  }
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  write(`nnfpga: internal error (a bug in nnfpga, not in your input): ${message}; ${reportHint()}\n`);
  stack();
  return INTERNAL_ERROR_EXIT;
}
