import { describe, expect, it } from 'vitest';
import { InputError } from '../../../host/errors.ts';
import { encodeNpyFloat32, parseNpy, readNpy, readSamples } from '../../../host/data/npy.ts';
import { fixture } from '../helpers.ts';

/** A .npy file with any header version and payload, written byte by byte. */
function npy(descr: string, shape: string, payload: Uint8Array, major = 1): Buffer {
  const header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }\n`;
  const lenBytes = major === 1 ? 2 : 4;
  const out = Buffer.alloc(8 + lenBytes + header.length + payload.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  if (major === 1) out.writeUInt16LE(header.length, 8);
  else out.writeUInt32LE(header.length, 8);
  out.write(header, 8 + lenBytes, 'latin1');
  out.set(payload, 8 + lenBytes + header.length);
  return out;
}

describe('npy reader', () => {
  it('reads the float32 fixtures with their shapes', () => {
    const x = readNpy(fixture('inputs200.npy'));
    expect([x.dtype, x.shape]).toEqual(['float32', [200, 1, 28, 28]]);
    expect(Math.max(...x.data.subarray(0, 784))).toBeLessThanOrEqual(1);
    const c = readNpy(fixture('calib256.npy'));
    expect(c.shape).toEqual([256, 1, 28, 28]);
  });

  it('reads the int64 labels as numbers in 0..9', () => {
    const l = readNpy(fixture('labels200.npy'));
    expect([l.dtype, l.shape]).toEqual(['int64', [200]]);
    expect(Array.from(l.data).every((v) => Number.isInteger(v) && v >= 0 && v <= 9)).toBe(true);
  });

  it('reads uint8 and header version 2, and 1-D shapes written as (n,)', () => {
    const a = parseNpy(npy('|u1', '(3,)', Uint8Array.of(1, 2, 255), 2), 'a.npy');
    expect([a.dtype, a.shape, Array.from(a.data)]).toEqual(['uint8', [3], [1, 2, 255]]);
    const b = parseNpy(npy('<i8', '(2,)', new Uint8Array(BigInt64Array.of(-5n, 7n).buffer)), 'b.npy');
    expect(Array.from(b.data)).toEqual([-5, 7]);
  });

  it('round-trips what encodeNpyFloat32 writes', () => {
    const data = Float32Array.of(0.5, -1, 3.25, 7, 8, 9);
    const back = parseNpy(encodeNpyFloat32(data, [2, 3]), 'x.npy');
    expect([back.shape, Array.from(back.data)]).toEqual([[2, 3], Array.from(data)]);
  });

  it('refuses bad magic, truncated data, big-endian and Fortran order with an InputError', () => {
    expect(() => parseNpy(Buffer.from('not numpy at all'), 'x.npy')).toThrow(/magic/);
    expect(() => parseNpy(npy('<f4', '(4,)', new Uint8Array(8)), 'x.npy')).toThrow(/truncated/);
    expect(() => parseNpy(npy('>f4', '(1,)', new Uint8Array(4)), 'x.npy')).toThrow(/dtype '>f4'/);
    const f = npy('<f4', '(1,)', new Uint8Array(4)).toString('latin1').replace('False', 'True ');
    expect(() => parseNpy(Buffer.from(f, 'latin1'), 'x.npy')).toThrow(/Fortran/);
    expect(() => readNpy('/nonexistent/x.npy')).toThrow(InputError);
  });

  it('accepts [N, ...shape] or one sample, and refuses other shapes and dtypes', () => {
    expect(readSamples(fixture('inputs200.npy'), [1, 28, 28], 'inputs').count).toBe(200);
    expect(() => readSamples(fixture('inputs200.npy'), [784], 'inputs')).toThrow(/shape \(200, 1, 28, 28\)/);
    expect(() => readSamples(fixture('labels200.npy'), [1], 'inputs')).toThrow(/must be float32/);
  });
});
