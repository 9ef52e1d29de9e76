// The integer reference: executes a QModel exactly as the accelerator does
// (docs/ARCHITECTURE.md section 2, SPEC section 3). Every layer output the device
// returns must equal what runInt computes, bit for bit.
//
//   conv/dense: acc = bias + Σ (x − x_zp)·w            wrapped to int32 like the
//               y   = clamp(y_zp + rule(acc, mult[o]), lo, hi)   hardware accumulator
//               (a grouped/depthwise conv sums over the channels of its group only)
//   maxpool:    y   = clamp(max over window (pads never win), lo, hi)
//   avgpool:    acc = Σ (x − x_zp) over the kh·kw window (pads count as x_zp, i.e. 0)
//               y   = clamp(y_zp + rule(acc, M = 1/(kh·kw)), lo, hi)
//               without count_include_pad (excludePad): separably, each row window
//               over its in-bounds count cx, rounded to int8, then each column window
//               of those over its count cy: t = clamp(zp + rule(Σ (x − zp), 1/cx)),
//               y = clamp(zp + rule(Σ (t − zp), 1/cy), lo, hi)
//   add:        acc = (a − a_zp)·w_a + (b − b_zp)·w_b
//               y   = clamp(y_zp + rule(acc, mult), lo, hi)
//   concat:     y   = clamp(y_zp + rule(x − x_zp_k, mults[k]), lo, hi) for input k's channels
//   pad:        the input, with y_zp (= x_zp) in the padded positions
//
// The hardware computes bias_folded + Σ x·w with bias_folded = bias − x_zp·Σw, all mod
// 2^32; that equals the sum above mod 2^32, so wrapping the exact sum once with `| 0`
// gives the same int32 as a 32-bit accumulator that wraps at every step. Partial sums
// here stay far below 2^53, so the plain-number sums are exact before the wrap.
//
// Tensors are CHW-flat Int8Arrays, shapes without batch ([C, H, W] or [M]).

import { transformInput } from '../ref/float.ts';
import { DEVICE_M0_BITS, encodeMultiplier, requant } from './requant.ts';
import type {
  ActQuant,
  Multiplier,
  QAdd,
  QConcat,
  QConv,
  QDense,
  QLayer,
  QModel,
  QPad,
  QPool,
} from './types.ts';
import { MODEL_INPUT } from './types.ts';

/**
 * Requantized value before the zero point and the clamp: y = clamp(y_zp + rule(acc), lo,
 * hi). A rule may carry its own residual add (`add`: the whole int8 result of one
 * element), as TFLite's and ONNX Runtime's do; without one, the add is the project's.
 */
export type RoundingRule = ((acc: number, mult: Multiplier) => number) & { add?: AddRule };

/** y = clamp(..., lo, hi) of one element of a residual add, from its int8 inputs. */
export type AddRule = (layer: QAdd, a: number, b: number) => number;

/** The project's rule (ARCHITECTURE section 2): floor((acc·M0 + 2^(S−1)) / 2^S). */
export const defaultRule: RoundingRule = (acc, mult) => requant(acc, mult.m0, mult.s);

function dims3(shape: number[]): [number, number, number] {
  if (shape.length === 3) return [shape[0], shape[1], shape[2]];
  if (shape.length === 1) return [shape[0], 1, 1];
  throw new RangeError(`expected a [C,H,W] or [M] shape, got [${shape.join(',')}]`);
}

function size(shape: number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function clamp(y: number, lo: number, hi: number): number {
  return y < lo ? lo : y > hi ? hi : y;
}

/** Conv over [C,H,W] with [K][C/group][kh][kw] weights; pads [top, left, bottom, right]. */
export function convInt(layer: QConv, x: Int8Array, rule: RoundingRule = defaultRule): Int8Array {
  const [ic, ih, iw] = dims3(layer.input);
  const [oc, oh, ow] = dims3(layer.output);
  const [kh, kw] = layer.kernel;
  const [sh, sw] = layer.stride;
  const pt = layer.pads[0];
  const pl = layer.pads[1];
  const group = layer.group ?? 1;
  const cpg = ic / group;
  const kpg = oc / group;
  const xzp = layer.inQ.zeroPoint;
  const yzp = layer.outQ.zeroPoint;
  const { lo, hi, weights: w, bias } = layer;
  // x − x_zp once, so padding is simply skipped (it contributes (x_zp − x_zp)·w = 0).
  const xs = new Int16Array(x.length);
  for (let i = 0; i < x.length; i++) xs[i] = x[i] - xzp;
  const y = new Int8Array(oc * oh * ow);
  const kstride = cpg * kh * kw;
  for (let o = 0; o < oc; o++) {
    const wo = o * kstride;
    const c0 = Math.floor(o / kpg) * cpg;
    const mult = layer.mult[o];
    const b = bias[o];
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * sh - pt;
      for (let ox = 0; ox < ow; ox++) {
        const x0 = ox * sw - pl;
        let acc = b;
        for (let c = 0; c < cpg; c++) {
          const xc = (c0 + c) * ih * iw;
          const wc = wo + c * kh * kw;
          for (let ky = 0; ky < kh; ky++) {
            const yy = y0 + ky;
            if (yy < 0 || yy >= ih) continue;
            const xr = xc + yy * iw;
            const wr = wc + ky * kw;
            for (let kx = 0; kx < kw; kx++) {
              const xx = x0 + kx;
              if (xx < 0 || xx >= iw) continue;
              acc += xs[xr + xx] * w[wr + kx];
            }
          }
        }
        y[(o * oh + oy) * ow + ox] = clamp(yzp + rule(acc | 0, mult), lo, hi);
      }
    }
  }
  return y;
}

/** Dense over the input flattened in C,H,W order; weights [N][M]. */
export function denseInt(layer: QDense, x: Int8Array, rule: RoundingRule = defaultRule): Int8Array {
  const m = size(layer.input);
  const n = size(layer.output);
  if (x.length !== m) throw new RangeError(`${layer.name}: input has ${x.length} values, expected ${m}`);
  const xzp = layer.inQ.zeroPoint;
  const yzp = layer.outQ.zeroPoint;
  const xs = new Int16Array(m);
  for (let i = 0; i < m; i++) xs[i] = x[i] - xzp;
  const w = layer.weights;
  const y = new Int8Array(n);
  for (let o = 0; o < n; o++) {
    let acc = layer.bias[o];
    const wo = o * m;
    for (let i = 0; i < m; i++) acc += xs[i] * w[wo + i];
    y[o] = clamp(yzp + rule(acc | 0, layer.mult[o]), layer.lo, layer.hi);
  }
  return y;
}

/**
 * One-dimensional window sums along rows (axis 'w') or columns (axis 'h') of a [C,H,W]
 * tensor, each divided by its in-bounds count: the passes of an exclude-pad average pool.
 */
function avgPass(
  x: Int8Array,
  [c, h, w]: [number, number, number],
  axis: 'h' | 'w',
  k: number,
  s: number,
  p0: number,
  out: number,
  zp: number,
  lo: number,
  hi: number,
  rule: RoundingRule,
): Int8Array {
  const n = axis === 'w' ? w : h;
  const [oh, ow] = axis === 'w' ? [h, out] : [out, w];
  const y = new Int8Array(c * oh * ow);
  const mults = Array.from({ length: k + 1 }, (_, i) =>
    i > 0 ? encodeMultiplier(1 / i, DEVICE_M0_BITS) : { m0: 0, s: 31 },
  );
  for (let ch = 0; ch < c; ch++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++) {
        const o = axis === 'w' ? ox : oy;
        let acc = 0;
        let count = 0;
        for (let t = 0; t < k; t++) {
          const i = o * s - p0 + t;
          if (i < 0 || i >= n) continue;
          acc += (axis === 'w' ? x[(ch * h + oy) * w + i] : x[(ch * h + i) * w + ox]) - zp;
          count++;
        }
        y[(ch * oh + oy) * ow + ox] = clamp(zp + rule(acc, mults[count]), lo, hi);
      }
  return y;
}

/** MaxPool (padding never wins) and AveragePool (padding counts as x_zp, or is left out). */
export function poolInt(layer: QPool, x: Int8Array, rule: RoundingRule = defaultRule): Int8Array {
  const [c, ih, iw] = dims3(layer.input);
  const [, oh, ow] = dims3(layer.output);
  const [kh, kw] = layer.kernel;
  const [sh, sw] = layer.stride;
  const pt = layer.pads[0];
  const pl = layer.pads[1];
  const { lo, hi } = layer;
  const xzp = layer.inQ.zeroPoint;
  const yzp = layer.outQ.zeroPoint;
  if (layer.kind === 'avgpool' && layer.excludePad) {
    const t = avgPass(x, [c, ih, iw], 'w', kw, sw, pl, ow, xzp, -128, 127, rule);
    return avgPass(t, [c, ih, ow], 'h', kh, sh, pt, oh, xzp, lo, hi, rule);
  }
  const y = new Int8Array(c * oh * ow);
  const isMax = layer.kind === 'maxpool';
  const mult = layer.mult ?? encodeMultiplier(1 / (kh * kw), DEVICE_M0_BITS);
  for (let ch = 0; ch < c; ch++) {
    const xc = ch * ih * iw;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let acc = isMax ? -128 : 0;
        for (let ky = 0; ky < kh; ky++) {
          const yy = oy * sh - pt + ky;
          if (yy < 0 || yy >= ih) continue;
          for (let kx = 0; kx < kw; kx++) {
            const xx = ox * sw - pl + kx;
            if (xx < 0 || xx >= iw) continue;
            const v = x[xc + yy * iw + xx];
            if (isMax) {
              if (v > acc) acc = v;
            } else acc += v - xzp;
          }
        }
        const r = isMax ? acc : yzp + rule(acc, mult);
        y[(ch * oh + oy) * ow + ox] = clamp(r, lo, hi);
      }
    }
  }
  return y;
}

/** Residual add: acc = (a − a_zp)·w_a + (b − b_zp)·w_b, one multiplier. */
export function addInt(layer: QAdd, a: Int8Array, b: Int8Array, rule: RoundingRule = defaultRule): Int8Array {
  const [wa, wb] = layer.weights;
  const azp = layer.inQ.zeroPoint;
  const bzp = layer.inQB.zeroPoint;
  const yzp = layer.outQ.zeroPoint;
  const y = new Int8Array(a.length);
  if (rule.add) {
    for (let i = 0; i < a.length; i++) y[i] = rule.add(layer, a[i], b[i]);
    return y;
  }
  for (let i = 0; i < a.length; i++)
    y[i] = clamp(yzp + rule((a[i] - azp) * wa + (b[i] - bzp) * wb, layer.mult), layer.lo, layer.hi);
  return y;
}

/** Concat on channels, each input requantized to the output. */
export function concatInt(layer: QConcat, xs: Int8Array[], rule: RoundingRule = defaultRule): Int8Array {
  const y = new Int8Array(size(layer.output));
  const yzp = layer.outQ.zeroPoint;
  let o = 0;
  xs.forEach((x, k) => {
    const zp = layer.inQs[k].zeroPoint;
    const m = layer.mults[k];
    for (let i = 0; i < x.length; i++) y[o++] = clamp(yzp + rule(x[i] - zp, m), layer.lo, layer.hi);
  });
  return y;
}

/** Zero padding: the input in the middle, the zero point around it. */
export function padInt(layer: QPad, x: Int8Array): Int8Array {
  const [c, h, w] = dims3(layer.input);
  const [, oh, ow] = dims3(layer.output);
  const [pt, pl] = layer.pads;
  const zp = layer.outQ.zeroPoint;
  const y = new Int8Array(c * oh * ow).fill(clamp(zp, layer.lo, layer.hi));
  for (let ch = 0; ch < c; ch++)
    for (let iy = 0; iy < h; iy++)
      for (let ix = 0; ix < w; ix++)
        y[(ch * oh + iy + pt) * ow + ix + pl] = clamp(x[(ch * h + iy) * w + ix], layer.lo, layer.hi);
  return y;
}

/** One layer over its input tensors (or its one input). */
export function runLayer(
  layer: QLayer,
  xs: Int8Array | Int8Array[],
  rule: RoundingRule = defaultRule,
): Int8Array {
  const ins = Array.isArray(xs) ? xs : [xs];
  switch (layer.kind) {
    case 'conv':
      return convInt(layer, ins[0], rule);
    case 'dense':
      return denseInt(layer, ins[0], rule);
    case 'maxpool':
    case 'avgpool':
      return poolInt(layer, ins[0], rule);
    case 'add':
      return addInt(layer, ins[0], ins[1], rule);
    case 'concat':
      return concatInt(layer, ins, rule);
    case 'pad':
      return padInt(layer, ins[0]);
  }
}

/** Runs the model on one quantized input; returns every layer's output (CHW flat), in order. */
export function runInt(model: QModel, xq: Int8Array, rule: RoundingRule = defaultRule): Int8Array[] {
  const outs: Int8Array[] = [];
  model.layers.forEach((layer, i) => {
    const ins = (layer.inputs ?? [i - 1]).map((t) => (t === MODEL_INPUT ? xq : outs[t]));
    outs.push(runLayer(layer, ins, rule));
  });
  return outs;
}

/**
 * Quantizes a float input with the model's input quantization, after its input
 * transform (normalization): q = clamp(roundHalfToEven(x' / scale) + zp, −128, 127) (half
 * to even, as ONNX QuantizeLinear does).
 */
export function quantizeInput(model: QModel, x: Float32Array): Int8Array {
  const { scale, zeroPoint } = model.inQ;
  const xt = model.inputTransform ? transformInput(model.inputTransform, x) : x;
  const q = new Int8Array(xt.length);
  for (let i = 0; i < xt.length; i++) {
    const v = xt[i] / scale;
    let r = Math.round(v); // half up
    if (r - v === 0.5 && (r & 1) !== 0) r -= 1; // exact half: go to the even neighbour
    q[i] = clamp(r + zeroPoint, -128, 127);
  }
  return q;
}

/** real = scale·(q − zeroPoint). */
export function dequantize(q: Int8Array, quant: ActQuant): Float32Array {
  const y = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) y[i] = quant.scale * (q[i] - quant.zeroPoint);
  return y;
}
