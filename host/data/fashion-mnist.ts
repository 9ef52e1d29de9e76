// Fashion-MNIST test set from the IDX files of Debian's dataset-fashion-mnist
// (http://yann.lecun.com/exdb/mnist/ format, gzip-compressed):
//   images: u32 BE 0x00000803, n, rows, cols, then n*rows*cols u8 pixels
//   labels: u32 BE 0x00000801, n, then n u8 labels
// Pixels are scaled to [0, 1] (pixel / 255), as the fixtures were trained.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { InputError } from '../errors.ts';

export const DEFAULT_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export interface LabelledSet {
  images: Float32Array; // [n, 1, rows, cols]
  labels: Uint8Array;
  count: number;
  shape: number[]; // [1, rows, cols]
}

function readIdx(path: string, magic: number): { dims: number[]; data: Uint8Array } {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch {
    throw new InputError(
      `${path}: not found; install the data set with 'make deps' (Debian package dataset-fashion-mnist) or pass --data-dir`,
    );
  }
  let bytes: Buffer;
  try {
    bytes = path.endsWith('.gz') ? gunzipSync(raw) : raw;
  } catch (err) {
    throw new InputError(`${path}: corrupt gzip file (${(err as Error).message})`);
  }
  if (bytes.length < 8 || bytes.readUInt32BE(0) !== magic) {
    throw new InputError(
      `${path}: not an IDX file of the expected kind (magic 0x${magic.toString(16).padStart(8, '0')})`,
    );
  }
  const rank = magic & 0xff;
  const dims = Array.from({ length: rank }, (_, i) => bytes.readUInt32BE(4 + 4 * i));
  const start = 4 + 4 * rank;
  const n = dims.reduce((a, b) => a * b, 1);
  if (bytes.length < start + n) throw new InputError(`${path}: truncated IDX file`);
  return { dims, data: bytes.subarray(start, start + n) };
}

/** The 10,000-image test set (or its first `limit` images). */
export function loadFashionMnistTest(dir = DEFAULT_FASHION_MNIST_DIR, limit?: number): LabelledSet {
  const img = readIdx(join(dir, 't10k-images-idx3-ubyte.gz'), 0x00000803);
  const lab = readIdx(join(dir, 't10k-labels-idx1-ubyte.gz'), 0x00000801);
  const [n, rows, cols] = img.dims;
  if (lab.dims[0] !== n) throw new InputError(`${dir}: ${n} images but ${lab.dims[0]} labels`);
  const count = limit === undefined ? n : Math.min(n, limit);
  const size = rows * cols;
  const images = new Float32Array(count * size);
  for (let i = 0; i < count * size; i++) images[i] = img.data[i] / 255;
  return { images, labels: lab.data.slice(0, count), count, shape: [1, rows, cols] };
}
