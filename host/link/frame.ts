// Link frames (docs/ARCHITECTURE.md section 6):
//   0xA5 | cmd | seq | len_lo len_hi | payload[len] | crc_lo crc_hi
// with the CRC-16/CCITT-FALSE over cmd, seq, len and payload. Replies carry cmd | 0x80,
// the request's seq, and a payload whose first byte is a status.
import { DeviceError } from '../errors.ts';
import { crc16 } from './crc16.ts';

export const SYNC = 0xa5;
export const HEADER_BYTES = 5;
export const OVERHEAD_BYTES = 7; // sync, cmd, seq, len (2), crc (2)

export const Cmd = {
  IDENTIFY: 0x01,
  WRITE: 0x02,
  READ: 0x03,
  RUN: 0x04,
  INFER: 0x05,
  RESET: 0x06,
} as const;
export type CmdCode = (typeof Cmd)[keyof typeof Cmd];

export const Status = {
  OK: 0,
  BAD_CMD: 1,
  BAD_ADDR: 2,
  BAD_LEN: 3,
  BUSY: 4,
  BAD_SPACE: 5,
  /** The run reached its cycle limit and was stopped (RUN, INFER). */
  WATCHDOG: 6,
} as const;

/** The link protocol version this host speaks (IDENTIFY's first byte). */
export const PROTOCOL_VERSION = 2;

export function cmdName(cmd: number): string {
  const name = Object.entries(Cmd).find(([, v]) => v === (cmd & 0x7f));
  return name ? name[0] : `0x${cmd.toString(16)}`;
}

export function statusName(status: number): string {
  const name = Object.entries(Status).find(([, v]) => v === status);
  return name ? name[0] : `status ${status}`;
}

/** The device refused a request with a coded status. */
export class DeviceStatusError extends DeviceError {
  constructor(
    readonly cmd: number,
    readonly status: number,
    detail: string,
  ) {
    super(`device refused ${cmdName(cmd)} with ${statusName(status)}: ${detail}`);
  }
}

export function encodeFrame(cmd: number, seq: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (payload.length > 0xffff) throw new RangeError(`frame payload of ${payload.length} bytes exceeds 65535`);
  const f = new Uint8Array(payload.length + OVERHEAD_BYTES);
  f[0] = SYNC;
  f[1] = cmd;
  f[2] = seq & 0xff;
  f[3] = payload.length & 0xff;
  f[4] = payload.length >> 8;
  f.set(payload, HEADER_BYTES);
  const crc = crc16(f, 1, HEADER_BYTES + payload.length);
  f[HEADER_BYTES + payload.length] = crc & 0xff;
  f[HEADER_BYTES + payload.length + 1] = crc >> 8;
  return f;
}

export interface Frame {
  cmd: number;
  seq: number;
  payload: Uint8Array;
}

export type DecodeEvent =
  { kind: 'frame'; frame: Frame } | { kind: 'corrupt' } | { kind: 'skipped'; bytes: number };

/**
 * Streaming frame decoder. push() bytes as they arrive; it returns the good frames and
 * reports corrupt ones (a plausible header whose CRC fails) and skipped garbage. After a
 * bad frame it rescans from the byte after the sync, so a sync byte inside a corrupted
 * frame cannot hide the next good one for long.
 */
export class FrameDecoder {
  private buf = new Uint8Array(0);

  /**
   * plausible(cmd, seq, len) says whether a header can start a frame worth waiting for;
   * the link accepts only the replies it expects, so a stray sync byte followed by a
   * large length (garbage, a stale reply) cannot make it wait for bytes that never come.
   */
  constructor(private readonly plausible: (cmd: number, seq: number, len: number) => boolean = () => true) {}

  get buffered(): number {
    return this.buf.length;
  }

  reset(): void {
    this.buf = new Uint8Array(0);
  }

  push(chunk: Uint8Array): DecodeEvent[] {
    const merged = new Uint8Array(this.buf.length + chunk.length);
    merged.set(this.buf);
    merged.set(chunk, this.buf.length);
    const events: DecodeEvent[] = [];
    let pos = 0;
    let skipped = 0;
    while (pos < merged.length) {
      if (merged[pos] !== SYNC) {
        pos++;
        skipped++;
        continue;
      }
      if (merged.length - pos < HEADER_BYTES) break;
      const cmd = merged[pos + 1];
      const len = merged[pos + 3] | (merged[pos + 4] << 8);
      if (!this.plausible(cmd, merged[pos + 2], len)) {
        pos++;
        skipped++;
        continue;
      }
      const total = len + OVERHEAD_BYTES;
      if (merged.length - pos < total) break;
      const crc = merged[pos + HEADER_BYTES + len] | (merged[pos + HEADER_BYTES + len + 1] << 8);
      if (crc16(merged, pos + 1, pos + HEADER_BYTES + len) !== crc) {
        events.push({ kind: 'corrupt' });
        pos++;
        continue;
      }
      if (skipped) events.push({ kind: 'skipped', bytes: skipped });
      skipped = 0;
      events.push({
        kind: 'frame',
        frame: {
          cmd,
          seq: merged[pos + 2],
          payload: merged.slice(pos + HEADER_BYTES, pos + HEADER_BYTES + len),
        },
      });
      pos += total;
    }
    if (skipped) events.push({ kind: 'skipped', bytes: skipped });
    this.buf = merged.slice(pos);
    return events;
  }
}

// little-endian helpers for payloads
export function u16(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff];
}
export function u32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}
export function readU16(b: Uint8Array, at: number): number {
  return b[at] | (b[at + 1] << 8);
}
export function readU32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}
export function wordsToBytes(words: Uint32Array): Uint8Array {
  const out = new Uint8Array(words.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < words.length; i++) dv.setUint32(4 * i, words[i], true);
  return out;
}
export function bytesToWords(bytes: Uint8Array, at = 0, count = (bytes.length - at) >> 2): Uint32Array {
  const out = new Uint32Array(count);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < count; i++) out[i] = dv.getUint32(at + 4 * i, true);
  return out;
}
