// The byte pipe under the link. The link only needs open/write/onData/close, so the
// transport is injected (as node-serialport injects its binding): a serial port (a
// board's USB UART or the simulated board's pty) here, an in-process mock device in
// host/link/mock.ts.
import { SerialPortStream } from '@serialport/stream';
import { autoDetect, type BindingInterface } from '@serialport/bindings-cpp';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DeviceError } from '../errors.ts';

export interface Transport {
  /** What the user named: /dev/ttyUSB1, /dev/pts/3, mock. */
  readonly path: string;
  write(data: Uint8Array): Promise<void>;
  onData(listener: (chunk: Uint8Array) => void): void;
  /** Discards bytes received but not yet read (stale replies of an earlier host). */
  discardInput(): Promise<void>;
  close(): Promise<void>;
  /**
   * Called once if the port goes away or fails while open (not after close()), with
   * what happened ("closed", "failed (EIO)").
   */
  onClose?(listener: (reason: string) => void): void;
}

export interface SerialOptions {
  baudRate: number;
  /** node-serialport binding; the platform's by default (tests may pass MockBinding). */
  binding?: BindingInterface;
}

export class SerialTransport implements Transport {
  private listeners: ((chunk: Uint8Array) => void)[] = [];
  private closeListeners: ((reason: string) => void)[] = [];
  private closed = false;
  private lost: string | null = null;

  private constructor(
    readonly path: string,
    private readonly port: SerialPortStream,
  ) {
    port.on('data', (chunk: Buffer) => {
      const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      for (const l of this.listeners) l(bytes);
    });
    // A port that vanishes (USB unplugged, the simulated board killed) or fails is
    // reported at once to whoever waits on it.
    port.on('error', (err: Error) => this.lose(`failed (${err.message})`));
    port.on('close', () => this.lose('closed'));
  }

  private lose(reason: string): void {
    if (this.closed || this.lost) return;
    this.lost = reason;
    for (const l of this.closeListeners) l(reason);
  }

  onClose(listener: (reason: string) => void): void {
    this.closeListeners.push(listener);
    if (this.lost) listener(this.lost);
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
    if (this.lost) return Promise.reject(new DeviceError(`serial port ${this.path} ${this.lost}`));
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

/**
 * The FTDI latency timer (Linux ftdi_sio): the USB serial bridge holds received bytes up
 * to this many ms before it sends a short packet to the host, so every reply of a
 * request/answer protocol waits for it (16 ms by default). tuneFtdiLatency() sets it to
 * `wantMs` through sysfs when it can, and otherwise returns one line telling how.
 */
export interface LatencyTuning {
  /** not-ftdi: no latency_timer for this port (a pty, a CDC-ACM port, another OS). */
  outcome: 'not-ftdi' | 'already' | 'set' | 'cannot';
  file?: string;
  wasMs?: number;
  /** For 'cannot': what the user should run, one line. */
  advice?: string;
}

export function tuneFtdiLatency(
  portPath: string,
  opts: { sysfsRoot?: string; wantMs?: number; write?: (file: string, text: string) => void } = {},
): LatencyTuning {
  const root = opts.sysfsRoot ?? '/sys';
  const want = opts.wantMs ?? 1;
  let name: string;
  try {
    name = path.basename(realpathSync(portPath)); // /dev/serial/by-id/... -> ttyUSB1
  } catch {
    name = path.basename(portPath);
  }
  const file = path.join(root, 'bus', 'usb-serial', 'devices', name, 'latency_timer');
  let was: number;
  try {
    was = Number(readFileSync(file, 'utf8').trim());
  } catch {
    return { outcome: 'not-ftdi' };
  }
  if (Number.isFinite(was) && was <= want) return { outcome: 'already', file, wasMs: was };
  try {
    (opts.write ?? writeFileSync)(file, `${want}\n`);
    if (Number(readFileSync(file, 'utf8').trim()) <= want) return { outcome: 'set', file, wasMs: was };
  } catch {
    // not allowed: fall through to the advice
  }
  return {
    outcome: 'cannot',
    file,
    wasMs: was,
    advice:
      `the FTDI latency timer of ${name} is ${was} ms and every reply waits for it; ` +
      `set it to ${want} ms: echo ${want} | sudo tee ${file} (or a udev rule)`,
  };
}
