// Float reference: executes the float IR (host/ir.ts) in Float64 arithmetic on one
// sample at a time. It is the yardstick for the integer reference and the device, and
// it must match ONNX Runtime within 1e-4 (test/host/ref/float.test.ts).
import type { ConvLayer, DenseLayer, FloatModel, Layer, PoolLayer } from '../ir.ts';
import { numel } from '../ir.ts';

/** Outputs of every layer (CHW-flat) for one input sample (CHW-flat). */
export function runFloat(model: FloatModel, x: ArrayLike<number>): Float64Array[] {
  if (x.length !== numel(model.input)) {
    throw new RangeError(
      `float reference: input has ${x.length} values, the model needs ${numel(model.input)}`,
    );
  }
  const outs: Float64Array[] = [];
  let cur: Float64Array = Float64Array.from(x);
  for (const layer of model.layers) {
    cur = runLayer(layer, cur);
    outs.push(cur);
  }
  return outs;
}

/** The model output (logits) for one sample. */
export function inferFloat(model: FloatModel, x: ArrayLike<number>): Float64Array {
  const outs = runFloat(model, x);
  return outs[outs.length - 1];
}

export function runLayer(layer: Layer, x: Float64Array): Float64Array {
  let y: Float64Array;
  switch (layer.kind) {
    case 'conv':
      y = conv(layer, x);
      break;
    case 'dense':
      y = dense(layer, x);
      break;
    case 'maxpool':
    case 'avgpool':
      y = pool(layer, x);
      break;
    case 'reshape':
      return x; // CHW-flat data does not move
  }
  const { lo, hi } = layer.act;
  if (lo > -Infinity || hi < Infinity) {
    for (let i = 0; i < y.length; i++) y[i] = y[i] < lo ? lo : y[i] > hi ? hi : y[i];
  }
  return y;
}

/** y[o][oy][ox] = b[o] + sum_{c,ky,kx} W[o][c][ky][kx] * x[c][oy*sh+ky-pt][ox*sw+kx-pl] (zero outside). */
function conv(l: ConvLayer, x: Float64Array): Float64Array {
  const [c, h, w] = l.input;
  const [k, oh, ow] = l.output;
  const [kh, kw] = l.kernel;
  const [sh, sw] = l.stride;
  const [pt, pl] = l.pads;
  const y = new Float64Array(k * oh * ow);
  for (let o = 0; o < k; o++) {
    const yo = o * oh * ow;
    y.fill(l.bias[o], yo, yo + oh * ow);
    for (let ci = 0; ci < c; ci++) {
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++) {
          const wv = l.weights[((o * c + ci) * kh + ky) * kw + kx];
          if (wv === 0) continue;
          for (let oy = 0; oy < oh; oy++) {
            const iy = oy * sh + ky - pt;
            if (iy < 0 || iy >= h) continue;
            const xr = (ci * h + iy) * w;
            const yr = yo + oy * ow;
            for (let ox = 0; ox < ow; ox++) {
              const ix = ox * sw + kx - pl;
              if (ix >= 0 && ix < w) y[yr + ox] += wv * x[xr + ix];
            }
          }
        }
      }
    }
  }
  return y;
}

/** y[n] = b[n] + sum_m W[n][m] x[m]. */
function dense(l: DenseLayer, x: Float64Array): Float64Array {
  const n = l.output[0];
  const m = x.length;
  const y = new Float64Array(n);
  for (let o = 0; o < n; o++) {
    let s = l.bias[o];
    const r = o * m;
    for (let i = 0; i < m; i++) s += l.weights[r + i] * x[i];
    y[o] = s;
  }
  return y;
}

/** Max: padding never wins. Average: divisor kh*kw, or the in-bounds count without count_include_pad. */
function pool(l: PoolLayer, x: Float64Array): Float64Array {
  const [c, h, w] = l.input;
  const [, oh, ow] = l.output;
  const [kh, kw] = l.kernel;
  const [sh, sw] = l.stride;
  const [pt, pl] = l.pads;
  const y = new Float64Array(c * oh * ow);
  const isMax = l.kind === 'maxpool';
  for (let ci = 0; ci < c; ci++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let acc = isMax ? -Infinity : 0;
        let count = 0;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh + ky - pt;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw + kx - pl;
            if (ix < 0 || ix >= w) continue;
            const v = x[(ci * h + iy) * w + ix];
            if (isMax) acc = v > acc ? v : acc;
            else acc += v;
            count++;
          }
        }
        y[(ci * oh + oy) * ow + ox] = isMax ? acc : acc / (l.countIncludePad ? kh * kw : count);
      }
    }
  }
  return y;
}

export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}
