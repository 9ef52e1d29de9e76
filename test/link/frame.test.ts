import { describe, expect, it } from 'vitest';
import { crc16 } from '../../host/link/crc16.ts';
import { encodeFrame, FrameDecoder } from '../../host/link/frame.ts';

describe('crc16 (CCITT-FALSE)', () => {
  it('has the catalogue check value 0x29B1 for "123456789"', () => {
    expect(crc16(new TextEncoder().encode('123456789'))).toBe(0x29b1);
  });
  it('is 0xFFFF (the initial value) over no bytes', () => {
    expect(crc16(new Uint8Array(0))).toBe(0xffff);
  });
});

describe('frames', () => {
  it('encodes sync, cmd, seq, little-endian length, payload and CRC over cmd..payload', () => {
    const f = encodeFrame(0x03, 0x42, new Uint8Array([1, 2, 3]));
    expect([...f.subarray(0, 8)]).toEqual([0xa5, 0x03, 0x42, 3, 0, 1, 2, 3]);
    const crc = crc16(f, 1, 8);
    expect(f[8] | (f[9] << 8)).toBe(crc);
  });

  it('decodes frames split across chunks, with garbage before and between them', () => {
    const a = encodeFrame(0x81, 1, new Uint8Array([0, 9]));
    const b = encodeFrame(0x82, 2, new Uint8Array([0]));
    const stream = new Uint8Array([0x00, 0x13, ...a, 0xff, 0xa5, ...b]);
    const dec = new FrameDecoder((cmd, seq) => (cmd & 0x80) !== 0 && (seq === 1 || seq === 2));
    const frames = [];
    for (let i = 0; i < stream.length; i += 3) {
      for (const ev of dec.push(stream.subarray(i, i + 3))) if (ev.kind === 'frame') frames.push(ev.frame);
    }
    expect(frames.map((f) => [f.cmd, f.seq, [...f.payload]])).toEqual([
      [0x81, 1, [0, 9]],
      [0x82, 2, [0]],
    ]);
  });

  it('reports a corrupted frame and still finds the good frame after it', () => {
    const bad = encodeFrame(0x81, 1, new Uint8Array([0, 1, 2, 3]));
    bad[6] ^= 0x04;
    const good = encodeFrame(0x81, 2, new Uint8Array([0]));
    const events = new FrameDecoder().push(new Uint8Array([...bad, ...good]));
    expect(events.some((e) => e.kind === 'corrupt')).toBe(true);
    const frames = events.filter((e) => e.kind === 'frame');
    expect(frames).toHaveLength(1);
  });

  it('skips a sync byte followed by an implausible header (length over the limit)', () => {
    const good = encodeFrame(0x81, 7, new Uint8Array([0]));
    const dec = new FrameDecoder((_cmd, _seq, len) => len <= 100);
    const events = dec.push(new Uint8Array([0xa5, 0x81, 0, 0xff, 0xff, ...good]));
    expect(events.filter((e) => e.kind === 'frame')).toHaveLength(1);
  });
});
