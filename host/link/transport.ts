// The byte pipe under the link. The link only needs open/write/onData/close, so the
// transport is injected (as node-serialport injects its binding): a serial port (a
// board's USB UART or the simulated board's pty) here, an in-process mock device in
// host/link/mock.ts.
import { SerialPortStream } from '@serialport/stream';
import { autoDetect, type BindingInterface } from '@serialport/bindings-cpp';
import { existsSync } from 'node:fs';
import { DeviceError } from '../errors.ts';

export interface Transport {
  /** What the user named: /dev/ttyUSB1, /dev/pts/3, mock. */
  readonly path: string;
  write(data: Uint8Array): Promise<void>;
  onData(listener: (chunk: Uint8Array) => void): void;
  /** Discards bytes received but not yet read (stale replies of an earlier host). */
  discardInput(): Promise<void>;
  close(): Promise<void>;
}

export interface SerialOptions {
  baudRate: number;
  /** node-serialport binding; the platform's by default (tests may pass MockBinding). */
  binding?: BindingInterface;
}

export class SerialTransport implements Transport {
  private listeners: ((chunk: Uint8Array) => void)[] = [];
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly port: SerialPortStream,
  ) {
    port.on('data', (chunk: Buffer) => {
      const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      for (const l of this.listeners) l(bytes);
    });
    // A port that vanishes (USB unplugged) surfaces as a timeout of the pending request.
    port.on('error', () => {});
  }

  static async open(path: string, opts: SerialOptions): Promise<SerialTransport> {
    const binding = opts.binding ?? autoDetect();
    if (!opts.binding && !existsSync(path)) {
      throw new DeviceError(
        `serial port ${path} does not exist: is the board plugged in? (nnfpga ports lists the ports)`,
      );
    }
    const port = new SerialPortStream({ binding, path, baudRate: opts.baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) =>
      port.open((err) => {
        if (!err) return resolve();
        const why = /Cannot lock port/.test(err.message)
          ? 'it is in use by another program (another nnfpga, a terminal emulator?)'
          : err.message;
        reject(new DeviceError(`cannot open serial port ${path}: ${why}`, { cause: err }));
      }),
    );
    return new SerialTransport(path, port);
  }

  write(data: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.port.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength), (err) =>
        err
          ? reject(new DeviceError(`write to ${this.path} failed: ${err.message}`, { cause: err }))
          : resolve(),
      );
    });
  }

  onData(listener: (chunk: Uint8Array) => void): void {
    this.listeners.push(listener);
  }

  discardInput(): Promise<void> {
    return new Promise((resolve) => this.port.flush(() => resolve()));
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => {
      if (!this.port.isOpen) return resolve();
      this.port.close(() => resolve());
    });
  }
}
