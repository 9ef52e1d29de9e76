// Post-training quantization (SPEC section 3, docs/ARCHITECTURE.md section 2):
//   weights: per output channel, symmetric, s_w[o] = max|W[o]| / 127, w_q in [-127, 127];
//   activations: per tensor, asymmetric, from min/max over the calibration set with the
//     range widened to include 0: s = (max - min) / 255, zp = round(-128 - min / s);
//   bias: int32, b_q = round(b / (s_in * s_w[o])), zero point 0;
//   multiplier M[o] = s_in * s_w[o] / s_out, encoded as M0 * 2^-S (requant.ts);
//   pooling keeps its input quantization; average pooling multiplies by 1 / (kh * kw).
// Reshape/Flatten layers disappear: CHW-flat data does not move, and a dense layer keeps
// the [C, H, W] shape it reads (docs/ARCHITECTURE.md section 1).
import { UnsupportedOpError } from '../errors.ts';
import type { Activation, ConvLayer, DenseLayer, FloatModel } from '../ir.ts';
import { numel } from '../ir.ts';
import { runFloat } from '../ref/float.ts';
import { encodeMultiplier } from './requant.ts';
import type { ActQuant, Multiplier, QConv, QDense, QLayer, QModel } from './types.ts';
import { QMODEL_FORMAT, QMODEL_VERSION } from './qmodel-io.ts';

/** Observed ranges: the model input and every layer's output (after its fused activation). */
export interface CalibrationStats {
  samples: number;
  input: { min: number; max: number };
  layers: { min: number; max: number }[];
}

/**
 * Min/max calibration over `count` samples stored back to back in `data`. Other
 * estimators (percentile, MSE, KL divergence) would replace only this function's
 * reduction; see README "Accuracy (integer reference)".
 */
export function calibrate(model: FloatModel, data: Float32Array, count: number): CalibrationStats {
  const size = numel(model.input);
  const stats: CalibrationStats = {
    samples: count,
    input: { min: Infinity, max: -Infinity },
    layers: model.layers.map(() => ({ min: Infinity, max: -Infinity })),
  };
  for (let s = 0; s < count; s++) {
    const x = data.subarray(s * size, (s + 1) * size);
    for (const v of x) {
      if (v < stats.input.min) stats.input.min = v;
      if (v > stats.input.max) stats.input.max = v;
    }
    const outs = runFloat(model, x);
    outs.forEach((y, i) => {
      const r = stats.layers[i];
      for (const v of y) {
        if (v < r.min) r.min = v;
        if (v > r.max) r.max = v;
      }
    });
  }
  return stats;
}

/** Asymmetric int8 quantization of the range [min, max] widened to include 0. */
export function chooseActQuant(min: number, max: number): ActQuant {
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  if (!(hi > lo)) return { scale: 1, zeroPoint: 0 }; // an all-zero tensor: any scale is exact
  const scale = (hi - lo) / 255;
  const zeroPoint = Math.max(-128, Math.min(127, Math.round(-128 - lo / scale)));
  return { scale, zeroPoint };
}

/** Round half away from zero (TFLite's std::round) for weights and biases. */
function roundAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

/** Clamp bounds of a fused activation in the output's int8 domain (ARCHITECTURE section 2). */
export function clampBounds(act: Activation, q: ActQuant): { lo: number; hi: number } {
  const lo =
    act.lo === -Infinity ? -128 : Math.max(-128, Math.min(127, q.zeroPoint + Math.round(act.lo / q.scale)));
  const hi =
    act.hi === Infinity ? 127 : Math.min(127, Math.max(-128, q.zeroPoint + Math.round(act.hi / q.scale)));
  return { lo, hi };
}

function multiplier(m: number, layer: string): Multiplier {
  try {
    return encodeMultiplier(m);
  } catch (err) {
    throw new UnsupportedOpError(
      `layer '${layer}': requantization multiplier ${m} cannot be encoded (${(err as Error).message})`,
    );
  }
}

function quantWeights(l: ConvLayer | DenseLayer, inQ: ActQuant, outQ: ActQuant) {
  const n = l.output[0];
  const per = l.weights.length / n;
  const weights = new Int8Array(l.weights.length);
  const bias = new Int32Array(n);
  const weightScale = new Float64Array(n);
  const mult: Multiplier[] = [];
  for (let o = 0; o < n; o++) {
    let amax = 0;
    for (let i = 0; i < per; i++) amax = Math.max(amax, Math.abs(l.weights[o * per + i]));
    const sw = amax > 0 ? amax / 127 : 1;
    weightScale[o] = sw;
    for (let i = 0; i < per; i++) {
      weights[o * per + i] = Math.max(-127, Math.min(127, roundAway(l.weights[o * per + i] / sw)));
    }
    const sb = inQ.scale * sw;
    bias[o] = Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, roundAway(l.bias[o] / sb)));
    mult.push(multiplier(sb / outQ.scale, l.name));
  }
  return { weights, bias, weightScale, mult };
}

export interface QuantizeSource {
  model: string;
  calibration: string;
}

/**
 * Calibrates on `samples` (min/max per tensor) and quantizes: `nnfpga quantize` in one
 * call. `source` is what the quantized model records about where it came from.
 */
export function quantize(
  model: FloatModel,
  samples: { data: Float32Array; count: number },
  source: QuantizeSource = { model: model.source, calibration: `${samples.count} samples` },
): QModel {
  return quantizeModel(model, calibrate(model, samples.data, samples.count), source);
}

export function quantizeModel(model: FloatModel, stats: CalibrationStats, source: QuantizeSource): QModel {
  const inQ = chooseActQuant(stats.input.min, stats.input.max);
  let cur = inQ;
  let prevShape = model.input; // last shape a kept layer wrote (reshapes do not count)
  const layers: QLayer[] = [];
  model.layers.forEach((l, i) => {
    if (l.kind === 'reshape') return;
    if (l.kind === 'conv' || l.kind === 'dense') {
      const outQ = chooseActQuant(stats.layers[i].min, stats.layers[i].max);
      const q = quantWeights(l, cur, outQ);
      const base = {
        name: l.name,
        output: l.output,
        inQ: cur,
        outQ,
        ...clampBounds(l.act, outQ),
        ...q,
      };
      if (l.kind === 'conv') {
        const conv: QConv = {
          ...base,
          kind: 'conv',
          input: l.input,
          kernel: l.kernel,
          stride: l.stride,
          pads: l.pads,
        };
        layers.push(conv);
      } else {
        // A dense layer reads the tensor before any Flatten/Reshape, in CHW order.
        const dense: QDense = { ...base, kind: 'dense', input: prevShape };
        layers.push(dense);
      }
      cur = outQ;
    } else {
      if (l.kind === 'avgpool' && !l.countIncludePad && l.pads.some((p) => p > 0)) {
        throw new UnsupportedOpError(
          `layer '${l.name}' (AveragePool): count_include_pad = 0 with non-zero pads is not supported by the integer arithmetic; export with count_include_pad=1 or without padding`,
        );
      }
      const [kh, kw] = l.kernel;
      layers.push({
        kind: l.kind,
        name: l.name,
        input: l.input,
        output: l.output,
        inQ: cur,
        outQ: cur,
        ...clampBounds(l.act, cur),
        kernel: l.kernel,
        stride: l.stride,
        pads: l.pads,
        ...(l.kind === 'avgpool' ? { mult: multiplier(1 / (kh * kw), l.name) } : {}),
      });
    }
    prevShape = l.output;
  });
  const last = layers[layers.length - 1];
  return {
    format: QMODEL_FORMAT,
    version: QMODEL_VERSION,
    source: { model: source.model, calibration: source.calibration, calibrationSamples: stats.samples },
    input: model.input,
    inQ,
    layers,
    output: last.output,
    outQ: last.outQ,
  };
}
