// `nnfpga info`: per-layer cost of a model (float IR or quantized model).
//   dense, M inputs, N outputs:          weights = N*M,        biases = N, MACs = N*M
//   conv, K kernels F1xF2 over D channels: weights = K*F1*F2*D, biases = K,
//                                          MACs = K*F1*F2*D * OH*OW (one dot product per output pixel)
//   pooling, activations, reshapes:      0 params, 0 MACs
//   FLOPs = 2 * MACs (a multiply and an add).
// params = weights + biases actually stored (a Conv without bias has none, unless a
// BatchNormalization was folded into it). Bytes: weights at int8 are 1 byte each and
// biases int32 (4 bytes), at fp32 everything is 4 bytes; activation bytes are those of
// the tensor the layer writes (1 byte per value at int8, 4 at fp32).
import type { FloatModel, HostStep, Layer } from './ir.ts';
import { INPUT, numel } from './ir.ts';
import type { QLayer, QModel } from './quant/types.ts';
import { MODEL_INPUT } from './quant/types.ts';

export interface LayerInfo {
  name: string;
  op: string;
  activation: string | null;
  input: number[];
  output: number[];
  weights: number;
  biases: number;
  params: number;
  macs: number;
  flops: number;
  weight_bytes_int8: number;
  weight_bytes_fp32: number;
  activation_bytes_int8: number;
  activation_bytes_fp32: number;
  /** A host step (SPEC section 2): run by the host on the device's output. */
  host?: boolean;
  /** Convolutions: the kernel [KH, KW] and the group count (C for a depthwise one). */
  kernel?: [number, number];
  group?: number;
}

export interface ModelInfo {
  model: string;
  format: 'onnx' | 'nnfpga-qmodel';
  input: number[];
  output: number[];
  layers: LayerInfo[];
  total: {
    weights: number;
    biases: number;
    params: number;
    macs: number;
    flops: number;
    weight_bytes_int8: number;
    weight_bytes_fp32: number;
    /** Input plus every tensor a layer writes (reshapes write none). */
    activation_bytes_int8: number;
    activation_bytes_fp32: number;
    /**
     * Most int8 activation bytes alive at once, layers run in order: a tensor lives from
     * the layer that writes it (the input: from the start) to the last layer that reads it.
     */
    peak_activation_bytes_int8: number;
  };
}

function row(
  l: { name: string; input: number[]; output: number[] },
  op: string,
  activation: string | null,
  weights: number,
  biases: number,
  macs: number,
  writes: boolean,
): LayerInfo {
  const out = writes ? numel(l.output) : 0;
  return {
    name: l.name,
    op,
    activation,
    input: l.input,
    output: l.output,
    weights,
    biases,
    params: weights + biases,
    macs,
    flops: 2 * macs,
    weight_bytes_int8: weights + 4 * biases,
    weight_bytes_fp32: 4 * (weights + biases),
    activation_bytes_int8: out,
    activation_bytes_fp32: 4 * out,
  };
}

function floatRow(l: Layer): LayerInfo {
  const act = l.act.ops.length > 0 ? l.act.ops.join('+') : null;
  switch (l.kind) {
    case 'conv': {
      const [k, oh, ow] = l.output;
      const w = (k * l.input[0] * l.kernel[0] * l.kernel[1]) / l.group;
      return {
        ...row(l, l.op, act, w, l.hasBias ? k : 0, w * oh * ow, true),
        kernel: l.kernel,
        group: l.group,
      };
    }
    case 'dense': {
      const w = l.output[0] * numel(l.input);
      return row(l, l.op, act, w, l.hasBias ? l.output[0] : 0, w, true);
    }
    case 'maxpool':
    case 'avgpool':
    case 'add':
    case 'concat':
    case 'pad':
      return row(l, l.op, act, 0, 0, 0, true);
    case 'reshape':
      return row(l, l.op, null, 0, 0, 0, false);
  }
}

/** The host step as a row: no parameters, no MACs, nothing written on the device. */
function hostRow(step: HostStep, shape: number[]): LayerInfo {
  return {
    ...row({ name: step.op, input: shape, output: shape }, step.op, null, 0, 0, 0, false),
    host: true,
  };
}

const Q_OPS: Record<QLayer['kind'], string> = {
  conv: 'Conv',
  dense: 'Dense',
  maxpool: 'MaxPool',
  avgpool: 'AveragePool',
  add: 'Add',
  concat: 'Concat',
  pad: 'Pad',
};

function qRow(l: QLayer): LayerInfo {
  // The quantized file keeps only the clamp; a clamp at the zero point is a Relu (when
  // the zero point is -128 the Relu clamps nothing and is not reported).
  const clamps = l.lo > -128 || l.hi < 127;
  const act = !clamps ? null : l.lo === l.outQ.zeroPoint && l.hi === 127 ? 'Relu' : 'Clip';
  switch (l.kind) {
    case 'conv': {
      const [, oh, ow] = l.output;
      return {
        ...row(l, Q_OPS.conv, act, l.weights.length, l.bias.length, l.weights.length * oh * ow, true),
        kernel: l.kernel,
        group: l.group,
      };
    }
    case 'dense':
      return row(l, Q_OPS.dense, act, l.weights.length, l.bias.length, l.weights.length, true);
    default:
      return row(l, Q_OPS[l.kind], act, 0, 0, 0, true);
  }
}

/**
 * Peak live int8 activation bytes: tensors (sizes, the input first) and, per step, the
 * tensors it reads; a tensor lives from its writer to its last reader.
 */
function peakLive(sizes: number[], reads: number[][]): number {
  // tensor 0 is the input (alive from step 0), tensor t + 1 is written by step t
  const last = sizes.map((_, t) => (t === 0 ? 0 : t - 1));
  reads.forEach((ins, step) => ins.forEach((t) => (last[t] = Math.max(last[t], step))));
  last[sizes.length - 1] = reads.length; // the output stays
  let peak = 0;
  for (let step = 0; step < reads.length; step++) {
    let live = 0;
    sizes.forEach((n, t) => {
      const born = t === 0 ? 0 : t - 1;
      if (born <= step && last[t] >= step) live += n;
    });
    peak = Math.max(peak, live);
  }
  return peak;
}

function totals(input: number[], layers: LayerInfo[], peak: number): ModelInfo['total'] {
  const sum = (k: keyof LayerInfo): number => layers.reduce((s, l) => s + (l[k] as number), 0);
  // Reshapes and host steps write no tensor (activation_bytes_int8 = 0); every other layer does.
  const acts = numel(input) + sum('activation_bytes_int8');
  return {
    weights: sum('weights'),
    biases: sum('biases'),
    params: sum('params'),
    macs: sum('macs'),
    flops: sum('flops'),
    weight_bytes_int8: sum('weight_bytes_int8'),
    weight_bytes_fp32: sum('weight_bytes_fp32'),
    activation_bytes_int8: acts,
    activation_bytes_fp32: 4 * acts,
    peak_activation_bytes_int8: peak,
  };
}

export function floatModelInfo(m: FloatModel): ModelInfo {
  const layers = m.layers.map(floatRow);
  // Tensors: the input, then one per layer that writes one (a reshape aliases its input).
  const id = new Map<string, number>([[INPUT, 0]]);
  const sizes = [numel(m.input)];
  const reads: number[][] = [];
  for (const l of m.layers) {
    if (l.kind === 'reshape') {
      id.set(l.name, id.get(l.inputs[0])!);
      continue;
    }
    reads.push(l.inputs.map((t) => id.get(t)!));
    id.set(l.name, sizes.length);
    sizes.push(numel(l.output));
  }
  if (m.hostStep) layers.push(hostRow(m.hostStep, m.output));
  return {
    model: m.source,
    format: 'onnx',
    input: m.input,
    output: m.output,
    layers,
    total: totals(m.input, layers, peakLive(sizes, reads)),
  };
}

export function qModelInfo(q: QModel, path: string): ModelInfo {
  const layers = q.layers.map(qRow);
  const sizes = [numel(q.input), ...q.layers.map((l) => numel(l.output))];
  const reads = q.layers.map((l, i) => (l.inputs ?? [i - 1]).map((t) => (t === MODEL_INPUT ? 0 : t + 1)));
  if (q.hostStep) layers.push(hostRow(q.hostStep, q.output));
  return {
    model: path,
    format: 'nnfpga-qmodel',
    input: q.input,
    output: q.output,
    layers,
    total: totals(q.input, layers, peakLive(sizes, reads)),
  };
}
