// Post-training quantization (SPEC section 3, docs/ARCHITECTURE.md section 2):
//   weights: per output channel, symmetric, s_w[o] = max|W[o]| / 127, w_q in [-127, 127];
//   activations: per tensor, asymmetric, from min/max over the calibration set with the
//     range widened to include 0: s = (max - min) / 255, zp = round(-128 - min / s);
//   bias: int32, b_q = round(b / (s_in * s_w[o])), zero point 0;
//   multiplier M[o] = s_in * s_w[o] / s_out, encoded as M0 * 2^-S with the devices' 16
//     significant bits of M0 (requant.ts: DEVICE_M0_BITS, recorded as QModel.m0Bits);
//   pooling and padding keep their input quantization; average pooling multiplies by
//   1 / (kh * kw); a residual add weighs its inputs by small integers in the ratio of
//   their scales (addWeights); concat requantizes each input to the output's scale.
// Reshape/Flatten layers disappear: CHW-flat data does not move, and a dense layer keeps
// the [C, H, W] shape it reads (docs/ARCHITECTURE.md section 1).
import { UnsupportedOpError } from '../errors.ts';
import type { Activation, ConvLayer, DenseLayer, FloatModel, Shape } from '../ir.ts';
import { INPUT, formatShape, numel } from '../ir.ts';
import { runFloat, transformInput } from '../ref/float.ts';
import { DEVICE_M0_BITS, encodeMultiplier } from './requant.ts';
import type { ActQuant, Multiplier, QLayer, QModel } from './types.ts';
import { MODEL_INPUT } from './types.ts';
import { QMODEL_FORMAT, QMODEL_VERSION } from './qmodel-io.ts';

/** Observed ranges: the model input (normalized) and every layer's output (after its fused activation). */
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
    for (const v of transformInput(model.inputTransform, x)) {
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
  const zeroPoint = Math.max(-128, Math.min(127, Math.round(-128 - lo / scale))) + 0; // never -0
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
    return encodeMultiplier(m, DEVICE_M0_BITS);
  } catch (err) {
    throw new UnsupportedOpError(
      `layer '${layer}': requantization multiplier ${m} cannot be encoded (${(err as Error).message})`,
    );
  }
}

/**
 * The residual add rule's integer weights and multiplier (docs/ARCHITECTURE.md section
 * 2): acc = (a - a_zp) w_a + (b - b_zp) w_b, y = y_zp + requant(acc, M). Of all w_a, w_b
 * in [1, 127] with M making one of the two terms exact (M = s_a / (w_a s_y) or s_b /
 * (w_b s_y)), the pair whose other term is off by the least (in output LSBs per input
 * LSB), the smaller weights on a tie.
 */
export function addWeights(sa: number, sb: number, sy: number): { weights: [number, number]; m: number } {
  let best = { cost: Infinity, weights: [1, 1] as [number, number], m: sa / sy };
  const r = sb / sa;
  for (let wa = 1; wa <= 127; wa++) {
    const near = Math.round(r * wa);
    for (const wb of [near - 1, near, near + 1]) {
      if (wb < 1 || wb > 127) continue;
      for (const m of [sa / (wa * sy), sb / (wb * sy)]) {
        const cost = Math.abs(m * wa - sa / sy) + Math.abs(m * wb - sb / sy);
        if (cost < best.cost * (1 - 1e-12)) best = { cost, weights: [wa, wb], m };
      }
    }
  }
  return { weights: best.weights, m: best.m };
}

/** addWeights with the multiplier encoded (M0, S). */
export function addRule(sa: number, sb: number, sy: number): { weights: [number, number]; mult: Multiplier } {
  const { weights, m } = addWeights(sa, sb, sy);
  return { weights, mult: encodeMultiplier(m, DEVICE_M0_BITS) };
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

/** A tensor of the QModel: who writes it, its shape there and its quantization. */
interface QTensor {
  index: number;
  shape: Shape;
  q: ActQuant;
}

export function quantizeModel(model: FloatModel, stats: CalibrationStats, source: QuantizeSource): QModel {
  const inQ = chooseActQuant(stats.input.min, stats.input.max);
  const tensors = new Map<string, QTensor>([[INPUT, { index: MODEL_INPUT, shape: model.input, q: inQ }]]);
  const floatShapes = new Map<string, Shape>([
    [INPUT, model.input],
    ...model.layers.map((l) => [l.name, l.output] as [string, Shape]),
  ]);
  const layers: QLayer[] = [];
  model.layers.forEach((l, i) => {
    const ins = l.inputs.map((t) => tensors.get(t)!);
    if (l.kind === 'reshape') {
      // The data does not move: readers see the producer's tensor.
      tensors.set(l.name, ins[0]);
      return;
    }
    // Only a dense layer reads a tensor whatever its shape (its weights are in CHW order
    // of any [C, H, W]); the others need the shape they were built for, which a device
    // tensor only has in its producer's layout.
    if (l.kind !== 'dense') {
      l.inputs.forEach((t, k) => {
        const want = floatShapes.get(t)!;
        if (ins[k].shape.join() !== want.join()) {
          throw new UnsupportedOpError(
            `layer '${l.name}' (${l.op}) reads a tensor reshaped from ${formatShape(ins[k].shape)} to ${formatShape(want)}; only dense layers may read reshaped tensors`,
          );
        }
      });
    }
    const base = {
      name: l.name,
      inputs: ins.map((t) => t.index),
      input: ins[0].shape,
      output: l.output,
      inQ: ins[0].q,
    };
    const statQ = () => chooseActQuant(stats.layers[i].min, stats.layers[i].max);
    let q: QLayer;
    switch (l.kind) {
      case 'conv': {
        const outQ = statQ();
        q = {
          ...base,
          kind: 'conv',
          outQ,
          ...clampBounds(l.act, outQ),
          ...quantWeights(l, base.inQ, outQ),
          kernel: l.kernel,
          stride: l.stride,
          pads: l.pads,
          group: l.group,
        };
        break;
      }
      case 'dense': {
        const outQ = statQ();
        q = { ...base, kind: 'dense', outQ, ...clampBounds(l.act, outQ), ...quantWeights(l, base.inQ, outQ) };
        break;
      }
      case 'maxpool':
      case 'avgpool': {
        const [kh, kw] = l.kernel;
        const excludePad = l.kind === 'avgpool' && !l.countIncludePad && l.pads.some((p) => p > 0);
        q = {
          ...base,
          kind: l.kind,
          outQ: base.inQ,
          ...clampBounds(l.act, base.inQ),
          kernel: l.kernel,
          stride: l.stride,
          pads: l.pads,
          ...(l.kind === 'avgpool' ? { mult: multiplier(1 / (kh * kw), l.name) } : {}),
          ...(excludePad ? { excludePad } : {}),
        };
        break;
      }
      case 'add': {
        const outQ = statQ();
        const inQB = ins[1].q;
        const { weights, m } = addWeights(base.inQ.scale, inQB.scale, outQ.scale);
        q = {
          ...base,
          kind: 'add',
          outQ,
          ...clampBounds(l.act, outQ),
          inQB,
          weights,
          mult: multiplier(m, l.name),
        };
        break;
      }
      case 'concat': {
        const outQ = statQ();
        q = {
          ...base,
          kind: 'concat',
          outQ,
          ...clampBounds(l.act, outQ),
          inputShapes: ins.map((t) => t.shape),
          inQs: ins.map((t) => t.q),
          mults: ins.map((t) => multiplier(t.q.scale / outQ.scale, l.name)),
        };
        break;
      }
      case 'pad':
        q = { ...base, kind: 'pad', outQ: base.inQ, ...clampBounds(l.act, base.inQ), pads: l.pads };
        break;
    }
    tensors.set(l.name, { index: layers.length, shape: q.output, q: q.outQ });
    layers.push(q);
  });
  const last = layers[layers.length - 1];
  return {
    format: QMODEL_FORMAT,
    version: QMODEL_VERSION,
    source: { model: source.model, calibration: source.calibration, calibrationSamples: stats.samples },
    m0Bits: DEVICE_M0_BITS,
    input: model.input,
    inQ,
    ...(model.inputTransform ? { inputTransform: model.inputTransform } : {}),
    layers,
    output: last.output,
    outQ: last.outQ,
    ...(model.hostStep ? { hostStep: model.hostStep } : {}),
  };
}
