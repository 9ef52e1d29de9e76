// Float reference: executes the float layer graph (host/ir.ts) in Float64 arithmetic on
// one sample at a time. It is the yardstick for the integer reference and the device, and
// it must match ONNX Runtime within 1e-4 (test/host/ref/float.test.ts).
import type {
  ConcatLayer,
  ConvLayer,
  DenseLayer,
  FloatModel,
  InputTransform,
  Layer,
  PadLayer,
  PoolLayer,
} from '../ir.ts';
import { applyHostStep, chw, INPUT, numel } from '../ir.ts';

/** The model's input normalization (x' = x * scale[c] + offset[c]) applied to one sample. */
export function transformInput(tr: InputTransform | undefined, x: ArrayLike<number>): Float64Array {
  const y = Float64Array.from(x);
  if (!tr) return y;
  const per = y.length / tr.scale.length;
  for (let i = 0; i < y.length; i++) {
    const c = Math.floor(i / per);
    y[i] = y[i] * tr.scale[c] + tr.offset[c];
  }
  return y;
}

/**
 * Outputs of every layer (CHW-flat), in the order of model.layers, for one input sample
 * (CHW-flat). The last one is the model output before any host step.
 */
export function runFloat(model: FloatModel, x: ArrayLike<number>): Float64Array[] {
  if (x.length !== numel(model.input)) {
    throw new RangeError(
      `float reference: input has ${x.length} values, the model needs ${numel(model.input)}`,
    );
  }
  const values = new Map<string, Float64Array>([[INPUT, transformInput(model.inputTransform, x)]]);
  return model.layers.map((layer) => {
    const y = runLayer(
      layer,
      layer.inputs.map((t) => values.get(t)!),
    );
    values.set(layer.name, y);
    return y;
  });
}

/** The model output for one sample, with the host step (Softmax, ...) applied. */
export function inferFloat(model: FloatModel, x: ArrayLike<number>): Float64Array {
  const outs = runFloat(model, x);
  return applyHostStep(model.hostStep, outs[outs.length - 1], model.output);
}

export function runLayer(layer: Layer, xs: Float64Array[]): Float64Array {
  let y: Float64Array;
  const x = xs[0];
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
    case 'add':
      y = x.map((v, i) => v + xs[1][i]);
      break;
    case 'concat':
      y = concat(layer, xs);
      break;
    case 'pad':
      y = pad(layer, x);
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

/**
 * y[o][oy][ox] = b[o] + sum_{c in o's group, ky, kx} W[o][c - g0][ky][kx] *
 * x[c][oy*sh+ky-pt][ox*sw+kx-pl] (zero outside).
 */
function conv(l: ConvLayer, x: Float64Array): Float64Array {
  const [c, h, w] = l.input;
  const [k, oh, ow] = l.output;
  const [kh, kw] = l.kernel;
  const [sh, sw] = l.stride;
  const [pt, pl] = l.pads;
  const cpg = c / l.group; // input channels per group
  const kpg = k / l.group; // output channels per group
  const y = new Float64Array(k * oh * ow);
  for (let o = 0; o < k; o++) {
    const yo = o * oh * ow;
    const c0 = Math.floor(o / kpg) * cpg;
    y.fill(l.bias[o], yo, yo + oh * ow);
    for (let cc = 0; cc < cpg; cc++) {
      const ci = c0 + cc;
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++) {
          const wv = l.weights[((o * cpg + cc) * kh + ky) * kw + kx];
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

/** Channels of the inputs one after another (CHW-flat: the blocks simply follow). */
function concat(l: ConcatLayer, xs: Float64Array[]): Float64Array {
  const y = new Float64Array(numel(l.output));
  let o = 0;
  for (const x of xs) {
    y.set(x, o);
    o += x.length;
  }
  return y;
}

function pad(l: PadLayer, x: Float64Array): Float64Array {
  const [c, h, w] = chw(l.input);
  const [, oh, ow] = chw(l.output);
  const [pt, pl] = l.pads;
  const y = new Float64Array(c * oh * ow);
  for (let ci = 0; ci < c; ci++)
    for (let iy = 0; iy < h; iy++)
      y.set(x.subarray((ci * h + iy) * w, (ci * h + iy + 1) * w), (ci * oh + iy + pt) * ow + pl);
  return y;
}

export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}
