// Typed errors and the one place that turns them into a message and an exit code
// (SPEC section 2: 1 for bad usage or input, 2 for device or link failures).

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

/** An ONNX node the toolchain cannot map. Exit code 1. */
export class UnsupportedOpError extends InputError {}

/** The model does not fit the device's memories. Exit code 1. */
export class ModelTooLargeError extends InputError {}

/** Device or link failures. Exit code 2. */
export class DeviceError extends NnfpgaError {
  override readonly exitCode: number = 2;
}

/** The device stopped answering. */
export class LinkTimeoutError extends DeviceError {}

/** A board or tool is missing (flash without a board, for instance). */
export class ToolError extends DeviceError {}

/** Formats any thrown value as one line; stack only with --verbose. */
export function reportError(err: unknown, verbose: boolean): number {
  if (err instanceof NnfpgaError) {
    process.stderr.write(`nnfpga: ${err.message}\n`);
    if (verbose && err.stack) process.stderr.write(`${err.stack}\n`);
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`nnfpga: internal error: ${message} (run with --verbose for the stack)\n`);
  if (verbose && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return 1;
}
