// AMEM tensor layout (docs/ARCHITECTURE.md section 3): tensor [C, H, W] at memory word
// (y*W + x)*G + g, G = ceil(C/N), byte lane j of a word = channel g*N + j; lanes past C
// hold padValue. Host word a is bytes 4a..4a+3 of the byte image (little-endian), i.e.
// lanes 4(a mod N/4).. of memory word a div (N/4). Shapes are [C, H, W] or [M] (= [M,1,1]),
// data CHW-flat.

import type { TensorPlacement } from './types.ts';

export function shape3(shape: readonly number[]): [number, number, number] {
  if (shape.length === 3) return [shape[0], shape[1], shape[2]];
  if (shape.length === 1) return [shape[0], 1, 1];
  throw new RangeError(`expected a [C,H,W] or [M] shape, got [${shape.join(',')}]`);
}

/** Memory words (N bytes each) a tensor occupies. */
export function tensorMemWords(shape: readonly number[], dim: number): number {
  const [c, h, w] = shape3(shape);
  return h * w * Math.ceil(c / dim);
}

/** Host words (32-bit) a tensor occupies. */
export function tensorHostWords(shape: readonly number[], dim: number): number {
  return (tensorMemWords(shape, dim) * dim) / 4;
}

/**
 * A model input [C, H, W] pixel-packed `g` columns a word: the tensor [g*C, H, ceil(W/g)]
 * whose channel j*C + c at column x' is X[c][y][g*x' + j], padValue past column W - 1 (ARCHITECTURE section 3).
 */
export function pixelPackTensor(
  xq: Int8Array,
  shape: readonly [number, number, number],
  g: number,
  padValue: number,
): Int8Array {
  const [c, h, w] = shape;
  if (xq.length !== c * h * w)
    throw new RangeError(`tensor has ${xq.length} values, shape [${shape.join(',')}] needs ${c * h * w}`);
  const wg = Math.ceil(w / g);
  const out = new Int8Array(g * c * h * wg).fill(padValue);
  for (let ch = 0; ch < c; ch++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        out[(((x % g) * c + ch) * h + y) * wg + Math.floor(x / g)] = xq[(ch * h + y) * w + x];
  return out;
}

/**
 * The model input as the device tensor of its placement (`placement.shape`): pixel-packed
 * when the placement says so, else as it is (CHW-flat either way).
 */
export function deviceInput(
  xq: Int8Array,
  placement: Pick<TensorPlacement, 'shape' | 'pixelPack'>,
  padValue: number,
): Int8Array {
  const pp = placement.pixelPack;
  return pp ? pixelPackTensor(xq, pp.modelShape, pp.pixels, padValue) : xq;
}

/** CHW int8 tensor → host words in the AMEM layout. */
export function packTensor(
  xq: Int8Array,
  shape: readonly number[],
  dim: number,
  padValue: number,
): Uint32Array {
  const [c, h, w] = shape3(shape);
  if (xq.length !== c * h * w)
    throw new RangeError(`tensor has ${xq.length} values, shape [${shape.join(',')}] needs ${c * h * w}`);
  const g = Math.ceil(c / dim);
  const bytes = new Int8Array(h * w * g * dim).fill(padValue);
  const hw = h * w;
  for (let ch = 0; ch < c; ch++) {
    const lane = ch % dim;
    const grp = (ch - lane) / dim;
    for (let p = 0; p < hw; p++) bytes[(p * g + grp) * dim + lane] = xq[ch * hw + p];
  }
  return new Uint32Array(bytes.buffer);
}

/** The model input (CHW int8) → host words of its placement in the AMEM layout. */
export function packInput(
  xq: Int8Array,
  placement: Pick<TensorPlacement, 'shape' | 'pixelPack'>,
  dim: number,
  padValue: number,
): Uint32Array {
  return packTensor(deviceInput(xq, placement, padValue), placement.shape, dim, padValue);
}

/** Host words in the AMEM layout → CHW int8 tensor. */
export function unpackTensor(words: Uint32Array, shape: readonly number[], dim: number): Int8Array {
  const [c, h, w] = shape3(shape);
  const g = Math.ceil(c / dim);
  const need = (h * w * g * dim) / 4;
  if (words.length < need)
    throw new RangeError(`${words.length} words given, tensor [${shape.join(',')}] needs ${need}`);
  const bytes = new Int8Array(words.buffer, words.byteOffset, need * 4);
  const out = new Int8Array(c * h * w);
  const hw = h * w;
  for (let ch = 0; ch < c; ch++) {
    const lane = ch % dim;
    const grp = (ch - lane) / dim;
    for (let p = 0; p < hw; p++) out[ch * hw + p] = bytes[(p * g + grp) * dim + lane];
  }
  return out;
}
