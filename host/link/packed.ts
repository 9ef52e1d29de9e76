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

/** INFER's header bytes: tag/last/part, part 0's input fields, the last part's output fields. */
export const PART_HEAD = 1;
export const PART_IN = 3;
export const PART_OUT = 6;

/**
 * How INFER splits an input of `total` wire bytes of `lanes` per memory word into parts
 * of at most `maxPayload` bytes (ARCHITECTURE section 6): the data bytes of each part.
 * Part 0 carries the input's fields, the last part the output's; every part but the last
 * holds whole memory words. One part when it all fits one frame.
 */
export function inferPartSizes(total: number, lanes: number, maxPayload: number): number[] {
  if (total + PART_HEAD + PART_IN + PART_OUT <= maxPayload) return [total];
  const sizes = [Math.floor((maxPayload - PART_HEAD - PART_IN) / lanes) * lanes];
  let at = sizes[0];
  const n = Math.floor((maxPayload - PART_HEAD) / lanes) * lanes;
  while (total - at > maxPayload - PART_HEAD - PART_OUT) {
    sizes.push(n);
    at += n;
  }
  sizes.push(total - at);
  return sizes;
}

/** Whether INFER can carry these outputs: they and the cycle count fit one reply. */
export function outputFitsReply(outputBytes: number, maxPayload: number): boolean {
  return outputBytes + 5 <= maxPayload;
}
