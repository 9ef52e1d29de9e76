// The float layer IR that ONNX import produces and that the float reference, `info`
// and the quantizer read. A model is a chain of layers (the accelerator runs layers one
// after another); every shape is known at import time.
//
// Shapes are per sample, without the batch dimension of the ONNX graph (which must be 1):
// [C, H, W] for images, [M] for vectors. Data is always CHW-flat, row-major, so reshapes
// never move data.

export type Shape = number[];

/** Elementwise activation fused into the layer before it: y = min(max(x, lo), hi). */
export interface Activation {
  /** ONNX ops that were fused, in order (e.g. ['Relu'] or ['Clip']). */
  ops: string[];
  lo: number; // -Infinity when unbounded
  hi: number; // +Infinity when unbounded
}

interface LayerBase {
  name: string;
  /** ONNX op type(s) this layer came from, for reports: 'Conv', 'Gemm', 'MatMul', ... */
  op: string;
  input: Shape;
  output: Shape;
  act: Activation;
}

/** pads are [top, left, bottom, right] (ONNX gives [begin..., end...]). */
export type Pads = [number, number, number, number];

export interface ConvLayer extends LayerBase {
  kind: 'conv';
  kernel: [number, number];
  stride: [number, number];
  pads: Pads;
  weights: Float64Array; // OIHW
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

export type Layer = ConvLayer | DenseLayer | PoolLayer | ReshapeLayer;

export interface FloatModel {
  /** Where it came from (file path), for reports. */
  source: string;
  inputName: string;
  outputName: string;
  input: Shape;
  output: Shape;
  layers: Layer[];
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
