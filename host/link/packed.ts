// The packed wire layout of INFER (docs/ARCHITECTURE.md section 6): a tensor crosses the
// link as the bytes of its AMEM words in address order, but only lanes 0..L-1 of each
// memory word of N lanes (N = the array side). A tensor of C <= N channels has L = C, so
// only its real channels travel (a one-channel 28x28 image is 784 bytes, not 784 * N).
// A wider tensor (C > N, ceil(C/N) groups per pixel) has L = N; only the padding lanes
// of its last word are left out, which makes a vector [M] exactly M bytes.
import { shape3 } from '../compiler/layout.ts';

export interface WireLayout {
  /** Bytes per memory word on the wire (1..N). */
  lanes: number;
  /** Bytes on the wire for the whole tensor. */
  bytes: number;
}

export function wireLayout(shape: readonly number[], dim: number): WireLayout {
  const [c, h, w] = shape3(shape);
  const groups = Math.ceil(c / dim);
  if (groups === 1) return { lanes: c, bytes: h * w * c };
  return { lanes: dim, bytes: (h * w - 1) * groups * dim + c };
}

/** CHW int8 tensor -> its packed wire bytes (lanes past C in a partial group: pad). */
export function packWire(xq: Int8Array, shape: readonly number[], dim: number, pad: number): Uint8Array {
  const [c, h, w] = shape3(shape);
  if (xq.length !== c * h * w)
    throw new RangeError(`tensor has ${xq.length} values, shape [${shape.join(',')}] needs ${c * h * w}`);
  const { lanes, bytes } = wireLayout(shape, dim);
  const groups = Math.ceil(c / dim);
  const out = new Int8Array(bytes);
  const hw = h * w;
  if (groups === 1) {
    for (let ch = 0; ch < c; ch++) for (let p = 0; p < hw; p++) out[p * lanes + ch] = xq[ch * hw + p];
  } else {
    out.fill(pad);
    for (let ch = 0; ch < c; ch++) for (let p = 0; p < hw; p++) out[p * groups * dim + ch] = xq[ch * hw + p];
  }
  return new Uint8Array(out.buffer);
}

/** Packed wire bytes -> CHW int8 tensor. */
export function unpackWire(bytes: Uint8Array, shape: readonly number[], dim: number): Int8Array {
  const [c, h, w] = shape3(shape);
  const layout = wireLayout(shape, dim);
  if (bytes.length < layout.bytes)
    throw new RangeError(`${bytes.length} bytes given, tensor [${shape.join(',')}] needs ${layout.bytes}`);
  const groups = Math.ceil(c / dim);
  const src = new Int8Array(bytes.buffer, bytes.byteOffset, layout.bytes);
  const out = new Int8Array(c * h * w);
  const hw = h * w;
  const stride = groups === 1 ? layout.lanes : groups * dim;
  for (let ch = 0; ch < c; ch++) for (let p = 0; p < hw; p++) out[ch * hw + p] = src[p * stride + ch];
  return out;
}
