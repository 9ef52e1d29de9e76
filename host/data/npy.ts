// NumPy .npy reader (format versions 1, 2 and 3; little-endian; C order) and a float32
// writer. Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
//   "\x93NUMPY" major minor | header length (u16 for v1, u32 for v2/v3) | header | data
// The header is a Python dict literal: {'descr': '<f4', 'fortran_order': False, 'shape': (N, ...), }
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.ts';

export type NpyDtype = 'float32' | 'float64' | 'int64' | 'int32' | 'uint8' | 'int8';

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  /** int64 is returned as Float64Array (values must fit in 2^53, e.g. labels). */
  data: Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array;
}

const DESCR: Record<string, { dtype: NpyDtype; size: number }> = {
  '<f4': { dtype: 'float32', size: 4 },
  '<f8': { dtype: 'float64', size: 8 },
  '<i8': { dtype: 'int64', size: 8 },
  '<i4': { dtype: 'int32', size: 4 },
  '|u1': { dtype: 'uint8', size: 1 },
  '<u1': { dtype: 'uint8', size: 1 },
  '|i1': { dtype: 'int8', size: 1 },
  '<i1': { dtype: 'int8', size: 1 },
};

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function readNpy(path: string): NpyArray {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(
      code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read (${code ?? String(err)})`,
    );
  }
  return parseNpy(bytes, path);
}

export function parseNpy(bytes: Uint8Array, where: string): NpyArray {
  const bad = (why: string): InputError =>
    new InputError(`${where}: not a valid .npy file (${why}); save it with numpy.save`);
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw bad('missing the \\x93NUMPY magic');
  const major = bytes[6];
  if (major < 1 || major > 3) throw bad(`format version ${major}.${bytes[7]} is not 1, 2 or 3`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) throw bad('truncated header');
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = 8 + lenBytes + hlen;
  if (bytes.length < start) throw bad('truncated header');
  const header = Buffer.from(bytes.subarray(8 + lenBytes, start)).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw bad('unreadable header');
  const kind = DESCR[descr];
  if (!kind) {
    throw new InputError(
      `${where}: .npy dtype '${descr}' is not supported (float32, float64, int64, int32, uint8, int8, little-endian)`,
    );
  }
  if (fortran === 'True')
    throw new InputError(`${where}: .npy array is in Fortran order; save a C-ordered array`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw bad(`bad shape (${shapeText})`);
  const n = shape.reduce((a, b) => a * b, 1);
  const need = n * kind.size;
  if (bytes.length - start < need) {
    throw bad(
      `truncated: ${bytes.length - start} data bytes for shape (${shape.join(', ')}) of ${kind.dtype}`,
    );
  }
  // Copy so the typed array is aligned whatever the header length was.
  const body = new Uint8Array(bytes.subarray(start, start + need));
  const buf = body.buffer;
  let data: NpyArray['data'];
  switch (kind.dtype) {
    case 'float32':
      data = new Float32Array(buf, 0, n);
      break;
    case 'float64':
      data = new Float64Array(buf, 0, n);
      break;
    case 'int32':
      data = new Int32Array(buf, 0, n);
      break;
    case 'uint8':
      data = new Uint8Array(buf, 0, n);
      break;
    case 'int8':
      data = new Int8Array(buf, 0, n);
      break;
    case 'int64': {
      const big = new BigInt64Array(buf, 0, n);
      data = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = Number(big[i]);
        if (!Number.isSafeInteger(v))
          throw new InputError(`${where}: int64 value ${big[i]} does not fit in 2^53`);
        data[i] = v;
      }
      break;
    }
  }
  return { dtype: kind.dtype, shape, data };
}

/** Encodes a typed array as a version 1 .npy file of dtype `descr` (e.g. '<f4', '<i8'). */
export function encodeNpy(
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array,
  descr: string,
  shape: number[],
): Buffer {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  // Header padded with spaces and ended by \n so that the data starts on a 64-byte boundary.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const out = Buffer.alloc(total + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(header.length, 8);
  out.write(header, 10, 'latin1');
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(out, total);
  return out;
}

/** Encodes a float32 array as a version 1 .npy file. */
export function encodeNpyFloat32(data: Float32Array, shape: number[]): Buffer {
  return encodeNpy(data, '<f4', shape);
}

/** A batch of float32 samples for a model whose per-sample shape is `shape`. */
export interface Samples {
  data: Float32Array;
  count: number;
}

/** The multi-dimensional index of flat (C-order) index `flat` in an array of `shape`. */
export function unravelIndex(flat: number, shape: number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  for (let d = shape.length - 1, r = flat; d >= 0; d--) {
    idx[d] = r % shape[d];
    r = Math.floor(r / shape[d]);
  }
  return idx;
}

/**
 * Refuses NaN and +-Inf: they would quantize to arbitrary int8 values (calibration) or
 * saturate silently (inputs). The message names the file, the first such value's flat
 * index and its index in the array's shape, and how many there are.
 */
export function checkFinite(
  a: { shape: number[]; data: ArrayLike<number> },
  path: string,
  what: string,
): void {
  const d = a.data;
  let first = -1;
  let count = 0;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (v - v !== 0) {
      if (first < 0) first = i;
      count++;
    }
  }
  if (first < 0) return;
  throw new InputError(
    `${path}: ${what} hold ${d[first]} at flat index ${first}, index [${unravelIndex(first, a.shape).join(', ')}]` +
      `${count > 1 ? ` (${count} non-finite values in all)` : ''}; nnfpga needs finite values: clean the data (e.g. np.nan_to_num)`,
  );
}

/**
 * Reads X.npy as samples of `shape`: float32 of shape [N, ...shape] or one sample
 * (`shape` itself, or [1, ...shape] collapsed), as SPEC section 2 says.
 */
export function readSamples(path: string, shape: number[], what = 'samples'): Samples {
  const a = readNpy(path);
  if (a.dtype !== 'float32') {
    throw new InputError(
      `${path}: ${what} must be float32 (.npy '<f4'), got ${a.dtype}; convert with x.astype(np.float32)`,
    );
  }
  const same = (s: number[]): boolean => s.length === shape.length && s.every((d, i) => d === shape[i]);
  let count: number;
  if (same(a.shape)) count = 1;
  else if (a.shape.length === shape.length + 1 && same(a.shape.slice(1))) count = a.shape[0];
  else {
    throw new InputError(
      `${path}: ${what} has shape (${a.shape.join(', ')}); the model needs [N, ${shape.join(', ')}] or one sample [${shape.join(', ')}]`,
    );
  }
  if (count === 0) throw new InputError(`${path}: ${what} holds no samples`);
  checkFinite(a, path, what);
  return { data: a.data as Float32Array, count };
}

const INTEGER_DTYPES: NpyDtype[] = ['int64', 'int32', 'uint8', 'int8'];

/**
 * Labelled inputs of the user's own for `eval --inputs X.npy --labels Y.npy`: X float32
 * [N, ...] and finite, Y integers of shape [N]; the first `limit` of them. The label
 * range is checked against the model's classes later (host/run.ts evalModel).
 */
export function readLabelledNpy(
  inputsPath: string,
  labelsPath: string,
  limit?: number,
): Samples & { labels: ArrayLike<number> } {
  const x = readNpy(inputsPath);
  if (x.dtype !== 'float32') {
    throw new InputError(
      `${inputsPath}: inputs must be float32 (.npy '<f4'), got ${x.dtype}; convert with x.astype(np.float32)`,
    );
  }
  if (x.shape.length < 2 || x.shape[0] === 0) {
    throw new InputError(
      `${inputsPath}: inputs have shape (${x.shape.join(', ')}); eval needs [N, ...input shape] with N >= 1`,
    );
  }
  checkFinite(x, inputsPath, 'inputs');
  const y = readNpy(labelsPath);
  if (!INTEGER_DTYPES.includes(y.dtype)) {
    throw new InputError(
      `${labelsPath}: labels must be integers (int64, int32, uint8 or int8), got ${y.dtype}; save them with y.astype(np.int64)`,
    );
  }
  const n = x.shape[0];
  if (y.shape.length !== 1 || y.shape[0] !== n) {
    throw new InputError(
      `${labelsPath}: labels have shape (${y.shape.join(', ')}${y.shape.length === 1 ? ',' : ''}); ${inputsPath} holds ${n} inputs, so the labels must be [${n}]`,
    );
  }
  const count = limit === undefined ? n : Math.min(n, limit);
  const size = (x.data.length / n) | 0;
  return {
    data: (x.data as Float32Array).subarray(0, count * size),
    count,
    labels: Array.from(y.data.subarray(0, count)),
  };
}
