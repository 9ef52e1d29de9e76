// The quantized model (QModel): what `nnfpga quantize` writes, what the integer
// reference executes and what the compiler turns into accelerator memory images.
// Arithmetic: docs/ARCHITECTURE.md section 2 (SPEC section 3).

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

interface QLayerBase {
  name: string;
  input: Shape;
  output: Shape;
  inQ: ActQuant;
  outQ: ActQuant;
  /** Clamp bounds after requantization (fused Relu / Clip), int8. */
  lo: number;
  hi: number;
}

/** Conv: weights OIHW int8, per-output-channel scale. */
export interface QConv extends QLayerBase {
  kind: 'conv';
  kernel: [number, number];
  stride: [number, number];
  pads: [number, number, number, number]; // top, left, bottom, right
  weights: Int8Array; // [outC][inC][kh][kw]
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
}

export type QLayer = QConv | QDense | QPool;

export interface QModel {
  format: 'nnfpga-qmodel';
  version: 1;
  /** The ONNX file this came from, and how it was calibrated. */
  source: { model: string; calibration: string; calibrationSamples: number };
  /**
   * Significant bits of every M0 (SPEC section 3): 16 (M0 = m * 2^15, what the devices
   * run) or 31. Absent in files written before revision 2: 31.
   */
  m0Bits?: 16 | 31;
  input: Shape;
  inQ: ActQuant;
  layers: QLayer[];
  output: Shape;
  outQ: ActQuant;
}
