// The float layer IR that ONNX import produces and that the float reference, `info`
// and the quantizer read. A model is a graph of layers: each layer reads the tensors
// named in `inputs` (the model input, INPUT, or earlier layers, by name) and writes one
// tensor named after itself. `layers` is in a topological order and its last layer
// writes the model output; a chain is the special case where every layer reads the one
// before it. Every shape is known at import time.
//
// Shapes are per sample, without the batch dimension of the ONNX graph (which must be 1):
// [C, H, W] for images, [M] for vectors. Data is always CHW-flat, row-major, so reshapes
// never move data.

export type Shape = number[];

/** The tensor id of the model input in `Layer.inputs`. */
export const INPUT = '@input';

/** Elementwise activation fused into the layer before it: y = min(max(x, lo), hi). */
export interface Activation {
  /** ONNX ops that were fused, in order (e.g. ['Relu'] or ['Clip']). */
  ops: string[];
  lo: number; // -Infinity when unbounded
  hi: number; // +Infinity when unbounded
}

interface LayerBase {
  /** Unique in the model; also the id of the tensor the layer writes. */
  name: string;
  /** ONNX op type(s) this layer came from, for reports: 'Conv', 'Gemm', 'MatMul', ... */
  op: string;
  /** Tensor ids read: INPUT or the names of earlier layers. */
  inputs: string[];
  /** Shape of the first input. */
  input: Shape;
  output: Shape;
  act: Activation;
}

/** pads are [top, left, bottom, right] (ONNX gives [begin..., end...]). */
export type Pads = [number, number, number, number];

/**
 * y[o][oy][ox] = b[o] + sum over the channels c of o's group, ky, kx of
 * W[o][c - g0][ky][kx] * x[c][oy*sh+ky-pt][ox*sw+kx-pl]; group g of `group` groups holds
 * input channels [g*C/group, (g+1)*C/group) and output channels [g*K/group, (g+1)*K/group).
 * group = 1 is a plain convolution, group = C = K a depthwise one.
 */
export interface ConvLayer extends LayerBase {
  kind: 'conv';
  kernel: [number, number];
  stride: [number, number];
  pads: Pads;
  group: number;
  weights: Float64Array; // [K][C/group][kh][kw]
  bias: Float64Array; // [outC]; zeros when the model stores none
  /** Whether the model stores a bias (a folded BatchNormalization provides one). */
  hasBias: boolean;
  /** A BatchNormalization was folded into weights and bias. */
  foldedBatchNorm: boolean;
}

/** y[n] = sum_m W[n][m] * x[m] + b[n] over the input flattened in CHW order. */
export interface DenseLayer extends LayerBase {
  kind: 'dense';
  weights: Float64Array; // [N][M]
  bias: Float64Array; // [N]
  hasBias: boolean;
  foldedBatchNorm: boolean;
}

export interface PoolLayer extends LayerBase {
  kind: 'maxpool' | 'avgpool';
  kernel: [number, number];
  stride: [number, number];
  pads: Pads;
  /** AveragePool: whether padded positions count in the divisor (ONNX count_include_pad). */
  countIncludePad: boolean;
}

/** Flatten / Reshape: a new shape over the same CHW-flat data. */
export interface ReshapeLayer extends LayerBase {
  kind: 'reshape';
}

/** Elementwise sum of two tensors of the same shape (a residual connection). */
export interface AddLayer extends LayerBase {
  kind: 'add';
}

/** Concatenation on the channel axis ([C, H, W] or vectors [M] as [M, 1, 1]). */
export interface ConcatLayer extends LayerBase {
  kind: 'concat';
}

/** Zero padding of the spatial axes of a [C, H, W] tensor. */
export interface PadLayer extends LayerBase {
  kind: 'pad';
  pads: Pads;
}

export type Layer = ConvLayer | DenseLayer | PoolLayer | ReshapeLayer | AddLayer | ConcatLayer | PadLayer;

/** What the host applies, in float, to the model output (SPEC section 3). */
export interface HostStep {
  op: 'Softmax' | 'LogSoftmax' | 'Sigmoid';
  /**
   * Softmax/LogSoftmax: the per-sample axis it normalizes over; with `flatten`, that axis
   * and every later one together (ONNX opset < 13 semantics).
   */
  axis: number;
  flatten: boolean;
}

/**
 * Per-channel affine map of the raw input that the model applies first (Sub/Mul/Div/Add
 * by constants, i.e. input normalization): x' = x * scale[c] + offset[c]. The host
 * applies it while quantizing the input, so the device never sees it.
 */
export interface InputTransform {
  scale: number[];
  offset: number[];
}

export interface FloatModel {
  /** Where it came from (file path), for reports. */
  source: string;
  inputName: string;
  outputName: string;
  input: Shape;
  /** The shape of the last layer's output (before any host step). */
  output: Shape;
  layers: Layer[];
  inputTransform?: InputTransform;
  hostStep?: HostStep;
}

export function numel(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function noActivation(): Activation {
  return { ops: [], lo: -Infinity, hi: Infinity };
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** [C, H, W] of an image shape, [M, 1, 1] of a vector. */
export function chw(shape: Shape): [number, number, number] {
  if (shape.length === 3) return [shape[0], shape[1], shape[2]];
  if (shape.length === 1) return [shape[0], 1, 1];
  throw new RangeError(`expected a [C,H,W] or [M] shape, got [${shape.join(',')}]`);
}

/** Applies a host step to a (dequantized) output tensor of shape `shape`. */
export function applyHostStep(step: HostStep | undefined, y: ArrayLike<number>, shape: Shape): Float64Array {
  const out = Float64Array.from(y);
  if (!step) return out;
  if (step.op === 'Sigmoid') {
    for (let i = 0; i < out.length; i++) out[i] = 1 / (1 + Math.exp(-out[i]));
    return out;
  }
  // Softmax over `axis` (and the axes after it with `flatten`): the tensor is
  // [outer][n][inner] with n the normalized extent.
  const ax = step.axis;
  const outer = numel(shape.slice(0, ax));
  const n = step.flatten ? numel(shape.slice(ax)) : shape[ax];
  const inner = step.flatten ? 1 : numel(shape.slice(ax + 1));
  for (let a = 0; a < outer; a++) {
    for (let b = 0; b < inner; b++) {
      const at = (k: number) => (a * n + k) * inner + b;
      let max = -Infinity;
      for (let k = 0; k < n; k++) max = Math.max(max, out[at(k)]);
      let sum = 0;
      for (let k = 0; k < n; k++) sum += Math.exp(out[at(k)] - max);
      const logSum = Math.log(sum);
      for (let k = 0; k < n; k++) {
        const v = out[at(k)] - max - logSum;
        out[at(k)] = step.op === 'LogSoftmax' ? v : Math.exp(v);
      }
    }
  }
  return out;
}
