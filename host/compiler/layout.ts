// AMEM tensor layout (docs/ARCHITECTURE.md section 3): tensor [C, H, W] at memory word
// (y*W + x)*G + g, G = ceil(C/N), byte lane j of a word = channel g*N + j; lanes past C
// hold padValue. Host word a is bytes 4a..4a+3 of the byte image (little-endian), i.e.
// lanes 4(a mod N/4).. of memory word a div (N/4). Shapes are [C, H, W] or [M] (= [M,1,1]),
// data CHW-flat.

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

/**
 * The planar layout of a [C, H, W] tensor (docs/ARCHITECTURE.md section 3): G = ceil(C/N)
 * planes one after another, plane g a one-group tensor [N, H, W] of channels g*N ..
 * g*N + N - 1 (word g*H*W + y*W + x). The compiler keeps the inputs and outputs of
 * channelwise layers (depthwise conv, average pooling) planar so that each plane is a
 * layer of its own on the array. With one group, or one pixel, it is the usual layout.
 */
export function unpackPlanar(words: Uint32Array, shape: readonly number[], dim: number): Int8Array {
  const [c, h, w] = shape3(shape);
  const g = Math.ceil(c / dim);
  const hw = h * w;
  if (words.length * 4 < g * hw * dim)
    throw new RangeError(
      `${words.length} words given, planar tensor [${shape.join(',')}] needs ${(g * hw * dim) / 4}`,
    );
  const bytes = new Int8Array(words.buffer, words.byteOffset, g * hw * dim);
  const out = new Int8Array(c * hw);
  for (let ch = 0; ch < c; ch++) {
    const lane = ch % dim;
    const grp = (ch - lane) / dim;
    for (let p = 0; p < hw; p++) out[ch * hw + p] = bytes[(grp * hw + p) * dim + lane];
  }
  return out;
}

/** A placed tensor's words → CHW int8 tensor, in whichever layout it has. */
export function unpackPlacement(
  words: Uint32Array,
  placement: { shape: readonly number[]; planar?: boolean },
  dim: number,
): Int8Array {
  return placement.planar
    ? unpackPlanar(words, placement.shape, dim)
    : unpackTensor(words, placement.shape, dim);
}
