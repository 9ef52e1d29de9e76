// The integer reference: executes a QModel exactly as the accelerator does
// (docs/ARCHITECTURE.md section 2, SPEC section 3). Every layer output the device
// returns must equal what runInt computes, bit for bit.
//
//   conv/dense: acc = bias + Σ (x − x_zp)·w            wrapped to int32 like the
//               y   = clamp(y_zp + rule(acc, mult[o]), lo, hi)   hardware accumulator
//   maxpool:    y   = clamp(max over window (pads never win), lo, hi)
//   avgpool:    acc = Σ (x − x_zp) over the kh·kw window (pads count as x_zp, i.e. 0)
//               y   = clamp(y_zp + rule(acc, M = 1/(kh·kw)), lo, hi)
//
// The hardware computes bias_folded + Σ x·w with bias_folded = bias − x_zp·Σw, all mod
// 2^32; that equals the sum above mod 2^32, so wrapping the exact sum once with `| 0`
// gives the same int32 as a 32-bit accumulator that wraps at every step. Partial sums
// here stay far below 2^53, so the plain-number sums are exact before the wrap.
//
// Tensors are CHW-flat Int8Arrays, shapes without batch ([C, H, W] or [M]).

import { DEVICE_M0_BITS, encodeMultiplier, requant } from './requant.ts';
import type { ActQuant, Multiplier, QConv, QDense, QLayer, QModel, QPool } from './types.ts';

/** Requantized value before the zero point and the clamp: y = clamp(y_zp + rule(acc), lo, hi). */
export type RoundingRule = (acc: number, mult: Multiplier) => number;

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

/** Conv over [C,H,W] with OIHW weights; pads [top, left, bottom, right]. */
export function convInt(layer: QConv, x: Int8Array, rule: RoundingRule = defaultRule): Int8Array {
  const [ic, ih, iw] = dims3(layer.input);
  const [oc, oh, ow] = dims3(layer.output);
  const [kh, kw] = layer.kernel;
  const [sh, sw] = layer.stride;
  const pt = layer.pads[0];
  const pl = layer.pads[1];
  const xzp = layer.inQ.zeroPoint;
  const yzp = layer.outQ.zeroPoint;
  const { lo, hi, weights: w, bias } = layer;
  // x − x_zp once, so padding is simply skipped (it contributes (x_zp − x_zp)·w = 0).
  const xs = new Int16Array(x.length);
  for (let i = 0; i < x.length; i++) xs[i] = x[i] - xzp;
  const y = new Int8Array(oc * oh * ow);
  const kstride = ic * kh * kw;
  for (let o = 0; o < oc; o++) {
    const wo = o * kstride;
    const mult = layer.mult[o];
    const b = bias[o];
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * sh - pt;
      for (let ox = 0; ox < ow; ox++) {
        const x0 = ox * sw - pl;
        let acc = b;
        for (let c = 0; c < ic; c++) {
          const xc = c * ih * iw;
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

/** MaxPool (padding never wins) and AveragePool (padding counts as x_zp). */
export function poolInt(layer: QPool, x: Int8Array, rule: RoundingRule = defaultRule): Int8Array {
  const [c, ih, iw] = dims3(layer.input);
  const [, oh, ow] = dims3(layer.output);
  const [kh, kw] = layer.kernel;
  const [sh, sw] = layer.stride;
  const pt = layer.pads[0];
  const pl = layer.pads[1];
  const { lo, hi } = layer;
  const y = new Int8Array(c * oh * ow);
  const isMax = layer.kind === 'maxpool';
  const xzp = layer.inQ.zeroPoint;
  const yzp = layer.outQ.zeroPoint;
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

/** One layer. */
export function runLayer(layer: QLayer, x: Int8Array, rule: RoundingRule = defaultRule): Int8Array {
  switch (layer.kind) {
    case 'conv':
      return convInt(layer, x, rule);
    case 'dense':
      return denseInt(layer, x, rule);
    case 'maxpool':
    case 'avgpool':
      return poolInt(layer, x, rule);
  }
}

/** Runs the model on one quantized input; returns every layer's output (CHW flat). */
export function runInt(model: QModel, xq: Int8Array, rule: RoundingRule = defaultRule): Int8Array[] {
  const outs: Int8Array[] = [];
  let x = xq;
  for (const layer of model.layers) {
    x = runLayer(layer, x, rule);
    outs.push(x);
  }
  return outs;
}

/**
 * Quantizes a float input with the model's input quantization:
 * q = clamp(roundHalfToEven(x / scale) + zp, −128, 127) (half to even, as ONNX
 * QuantizeLinear does).
 */
export function quantizeInput(model: QModel, x: Float32Array): Int8Array {
  const { scale, zeroPoint } = model.inQ;
  const q = new Int8Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i] / scale;
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
