// The quantized model (QModel): what `nnfpga quantize` writes, what the integer
// reference executes and what the compiler turns into accelerator memory images.
// Arithmetic: docs/ARCHITECTURE.md section 2 (SPEC section 3).
//
// A QModel is a graph like the float IR (host/ir.ts) without its reshapes: layer i reads
// the tensors `inputs` names by index (-1 = the model input, k = the output of layer k <
// i) and the last layer writes the model output.

import type { HostStep, InputTransform } from '../ir.ts';

/** Per-tensor activation quantization: real = scale * (q - zeroPoint). */
export interface ActQuant {
  scale: number;
  zeroPoint: number; // int8, [-128, 127]
}

/** Tensor shapes are without the batch dimension: [C, H, W] or [M]. */
export type Shape = number[];

/** requant(acc) = (acc * m0 + 2^(s-1)) >> s, s = 31 + n in [1, 62]. */
export interface Multiplier {
  m0: number; // int32 in [2^30, 2^31), or 0; a multiple of 2^(31 - QModel.m0Bits)
  s: number; // total right shift
}

/** The model input in QLayer.inputs. */
export const MODEL_INPUT = -1;

interface QLayerBase {
  name: string;
  /** Tensors read: MODEL_INPUT or the index of an earlier layer. */
  inputs: number[];
  /** Shape of the first input (the producer's output shape). */
  input: Shape;
  output: Shape;
  /** Quantization of the first input (the producer's output quantization). */
  inQ: ActQuant;
  outQ: ActQuant;
  /** Clamp bounds after requantization (fused Relu / Clip), int8. */
  lo: number;
  hi: number;
}

/**
 * Conv: weights [outC][inC/group][kh][kw] int8, per-output-channel scale; output channel
 * o reads the input channels of its group (host/ir.ts ConvLayer). group = inC = outC is
 * a depthwise convolution.
 */
export interface QConv extends QLayerBase {
  kind: 'conv';
  kernel: [number, number];
  stride: [number, number];
  pads: [number, number, number, number]; // top, left, bottom, right
  group: number;
  weights: Int8Array;
  bias: Int32Array; // [outC], scale = inQ.scale * weightScale[o], zero point 0 (not folded)
  weightScale: Float64Array; // [outC]
  mult: Multiplier[]; // [outC]
}

/** Dense: weights [N][M] int8 over the input flattened in C,H,W order. */
export interface QDense extends QLayerBase {
  kind: 'dense';
  weights: Int8Array; // [N][M]
  bias: Int32Array; // [N]
  weightScale: Float64Array; // [N]
  mult: Multiplier[]; // [N]
}

export interface QPool extends QLayerBase {
  kind: 'maxpool' | 'avgpool';
  kernel: [number, number];
  stride: [number, number];
  pads: [number, number, number, number];
  /** avgpool only: M = 1 / (kh * kw) (input and output share quantization). */
  mult?: Multiplier;
  /**
   * avgpool only: padded positions are left out of the divisor (ONNX count_include_pad =
   * 0 with pads). Computed separably (docs/ARCHITECTURE.md section 2): each row window
   * averaged over its in-bounds count, rounded, then each column window of those.
   */
  excludePad?: boolean;
}

/**
 * Residual add (docs/ARCHITECTURE.md section 2):
 *   acc = (a - a_zp)*weights[0] + (b - b_zp)*weights[1]
 *   y   = clamp(y_zp + requant(acc, mult), lo, hi)
 * with small integer weights in the ratio of the input scales, M = s_a / (w_a s_y).
 */
export interface QAdd extends QLayerBase {
  kind: 'add';
  /** Quantization of the second input. */
  inQB: ActQuant;
  weights: [number, number];
  mult: Multiplier;
}

/**
 * Concat on channels: input k's channels, each requantized to the output:
 *   y = clamp(y_zp + requant(x - x_zp_k, mults[k]), lo, hi), M_k = s_k / s_y.
 */
export interface QConcat extends QLayerBase {
  kind: 'concat';
  /** Every input's shape and quantization (the first are `input` and `inQ`). */
  inputShapes: Shape[];
  inQs: ActQuant[];
  mults: Multiplier[];
}

/** Zero padding of H and W: the padded positions hold the zero point. */
export interface QPad extends QLayerBase {
  kind: 'pad';
  pads: [number, number, number, number];
}

export type QLayer = QConv | QDense | QPool | QAdd | QConcat | QPad;

export interface QModel {
  format: 'nnfpga-qmodel';
  version: 2;
  /** The ONNX file this came from, and how it was calibrated. */
  source: { model: string; calibration: string; calibrationSamples: number };
  /**
   * Significant bits of every M0 (SPEC section 3): 16 (M0 = m * 2^15, what the devices
   * run) or 31. Absent in files written before revision 2: 31.
   */
  m0Bits?: 16 | 31;
  input: Shape;
  inQ: ActQuant;
  /** Input normalization the host applies before quantizing an input. */
  inputTransform?: InputTransform;
  layers: QLayer[];
  output: Shape;
  outQ: ActQuant;
  /** Softmax / LogSoftmax / Sigmoid the host applies to the dequantized output. */
  hostStep?: HostStep;
}
