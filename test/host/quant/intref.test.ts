import { describe, expect, it } from 'vitest';
import { dequantize, quantizeInput, runInt, runLayer } from '../../../host/quant/intref.ts';
import type {
  Multiplier,
  QAdd,
  QConcat,
  QConv,
  QDense,
  QModel,
  QPad,
  QPool,
} from '../../../host/quant/types.ts';

// M = 1/2 exactly: M0 = 2^30, S = 31 → requant(acc) = floor((acc + 1) / 2) (half up).
const HALF: Multiplier = { m0: 2 ** 30, s: 31 };
// M = 1: M0 = 2^30, S = 30.
const ONE: Multiplier = { m0: 2 ** 30, s: 30 };

const q = (zeroPoint: number) => ({ scale: 1, zeroPoint });

function conv(p: Partial<QConv> & Pick<QConv, 'input' | 'output' | 'weights' | 'kernel'>): QConv {
  const oc = p.output[0];
  return {
    kind: 'conv',
    name: 'c',
    inputs: [-1],
    group: 1,
    inQ: q(0),
    outQ: q(0),
    lo: -128,
    hi: 127,
    stride: [1, 1],
    pads: [0, 0, 0, 0],
    bias: new Int32Array(oc),
    weightScale: new Float64Array(oc).fill(1),
    mult: Array.from({ length: oc }, () => ONE),
    ...p,
  };
}

describe('integer reference', () => {
  it('conv 3x3 pad 1: padding reads as x_zp (contributes zero)', () => {
    // 1 channel 2x2 input, x_zp = 3; all-ones 3x3 kernel; every output sees all 4 pixels.
    const x = Int8Array.from([4, 5, 6, 7]); // x − zp = 1,2,3,4 → sum 10
    const layer = conv({
      input: [1, 2, 2],
      output: [1, 2, 2],
      kernel: [3, 3],
      pads: [1, 1, 1, 1],
      weights: new Int8Array(9).fill(1),
      inQ: q(3),
      outQ: q(-5),
      bias: Int32Array.from([2]),
    });
    // y = -5 + (2 + 10) = 7 at every position
    expect(Array.from(runLayer(layer, x))).toEqual([7, 7, 7, 7]);
  });

  it('conv stride 2, two in/out channels, asymmetric pads, rounding half up', () => {
    // in [2,3,3]: channel 0 = 0..8, channel 1 = all 1. Kernel 2x2 stride 2 pads top/left 1.
    const x = Int8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    // out channel 0: w(c0) = [1,0,0,1] (top-left, bottom-right), w(c1) = 0
    // out channel 1: w(c0) = 0, w(c1) = [1,1,1,1]
    const weights = Int8Array.from([1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
    const layer = conv({
      input: [2, 3, 3],
      output: [2, 2, 2],
      kernel: [2, 2],
      stride: [2, 2],
      pads: [1, 1, 0, 0],
      weights,
      mult: [ONE, HALF],
      bias: Int32Array.from([0, 1]),
    });
    // oc0 at (oy,ox): window rows oy*2-1..oy*2, cols ox*2-1..ox*2; acc = x(top-left) + x(bottom-right)
    //  (0,0): tl pad, br x(0,0)=0 → 0;  (0,1): tl pad, br x(0,2)=2 → 2
    //  (1,0): tl pad (col -1), br x(2,0)=6 → 6;  (1,1): tl x(1,1)=4, br x(2,2)=8 → 12
    // oc1: acc = 1 + count of in-range positions; half up: (0,0): 1+1=2 → 1; (0,1): 1+2=3 → 2
    //  (1,0): 1+2=3 → 2; (1,1): 1+4=5 → 3
    expect(Array.from(runLayer(layer, x))).toEqual([0, 2, 6, 12, 1, 2, 2, 3]);
  });

  it('relu clamp and int8 saturation', () => {
    const layer = conv({
      input: [1, 1, 3],
      output: [1, 1, 3],
      kernel: [1, 1],
      weights: Int8Array.from([100]),
      outQ: q(10),
      lo: 10, // fused Relu: lo = y_zp
      hi: 127,
    });
    // acc = 100·x: -100 → 10 + -100 = -90 → 10; 1 → 110; 2 → 210 → 127
    expect(Array.from(runLayer(layer, Int8Array.from([-1, 1, 2])))).toEqual([10, 110, 127]);
  });

  it('accumulator wraps like a 32-bit register', () => {
    const layer = conv({
      input: [1, 1, 1],
      output: [1, 1, 1],
      kernel: [1, 1],
      weights: Int8Array.from([127]),
      bias: Int32Array.from([2 ** 31 - 100]),
      mult: [{ m0: 2 ** 30, s: 55 }], // M = 2^-25
    });
    // acc = 2^31 − 100 + 127 wraps to −2^31 + 27; ·2^-25 rounds to −64
    expect(Array.from(runLayer(layer, Int8Array.from([1])))).toEqual([-64]);
  });

  it('dense flattens CHW and subtracts x_zp', () => {
    const layer: QDense = {
      kind: 'dense',
      name: 'd',
      inputs: [-1],
      input: [2, 1, 2],
      output: [2],
      inQ: q(1),
      outQ: q(0),
      lo: -128,
      hi: 127,
      weights: Int8Array.from([1, 2, 3, 4, -1, -1, -1, -1]),
      bias: Int32Array.from([10, 0]),
      weightScale: new Float64Array([1, 1]),
      mult: [ONE, HALF],
    };
    // x − zp = [0, 1, 2, 3]: o0 = 10 + 0+2+6+12 = 30; o1 = −6 → half: floor(−5/2) = −3
    expect(Array.from(runLayer(layer, Int8Array.from([1, 2, 3, 4])))).toEqual([30, -3]);
  });

  it('maxpool: pads never win even when every value is negative', () => {
    const layer: QPool = {
      kind: 'maxpool',
      name: 'm',
      inputs: [-1],
      input: [1, 2, 2],
      output: [1, 2, 2],
      inQ: q(0),
      outQ: q(0),
      lo: -128,
      hi: 127,
      kernel: [2, 2],
      stride: [1, 1],
      pads: [1, 1, 0, 0],
    };
    expect(Array.from(runLayer(layer, Int8Array.from([-5, -7, -9, -6])))).toEqual([-5, -5, -5, -5]);
    // (1,1) sees all four; (0,1) sees -5,-7; (1,0) sees -5,-9. With lo = -6 (a clamp)
    // and -8 in the corner the result changes only where the max is below -6.
    expect(Array.from(runLayer({ ...layer, lo: -6 }, Int8Array.from([-8, -7, -9, -6])))).toEqual([
      -6, -6, -6, -6,
    ]);
    expect(Array.from(runLayer(layer, Int8Array.from([-8, -7, -9, -6])))).toEqual([-8, -7, -8, -6]);
  });

  it('avgpool counts pads as the zero point and rounds half up', () => {
    const layer: QPool = {
      kind: 'avgpool',
      name: 'a',
      inputs: [-1],
      input: [1, 2, 2],
      output: [1, 1, 2],
      inQ: q(2),
      outQ: q(2),
      lo: -128,
      hi: 127,
      kernel: [2, 2],
      stride: [1, 1],
      pads: [0, 0, 0, 1],
      mult: { m0: 2 ** 30, s: 32 }, // 1/4
    };
    // x − zp = [1, 2, 4, 6]; (0,0): 13/4 = 3.25 → 3 → 5; (0,1): (2+6+0+0)/4 = 2 → 4
    expect(Array.from(runLayer(layer, Int8Array.from([3, 4, 6, 8])))).toEqual([5, 4]);
    // exact half: sum 2 → 0.5 → 1 (half up); sum −2 → −0.5 → 0
    expect(Array.from(runLayer(layer, Int8Array.from([4, 2, 2, 2])))).toEqual([3, 2]);
    expect(Array.from(runLayer(layer, Int8Array.from([0, 2, 2, 2])))).toEqual([2, 2]);
  });

  it('runInt chains layers and returns each output; quantizeInput/dequantize', () => {
    const c = conv({ input: [1, 1, 2], output: [1, 1, 2], kernel: [1, 1], weights: Int8Array.from([2]) });
    const model: QModel = {
      format: 'nnfpga-qmodel',
      version: 2,
      source: { model: 't', calibration: 't', calibrationSamples: 0 },
      input: [1, 1, 2],
      inQ: { scale: 0.5, zeroPoint: 1 },
      layers: [c, { ...c, name: 'c2', inputs: [0] }],
      output: [1, 1, 2],
      outQ: q(0),
    };
    const xq = quantizeInput(model, Float32Array.from([0.25, 0.75]));
    expect(Array.from(xq)).toEqual([1, 3]); // 0.5 → 0 (even), 1.5 → 2 (even), + zp 1
    expect(Array.from(quantizeInput(model, Float32Array.from([1000, -1000])))).toEqual([127, -128]);
    const outs = runInt(model, xq);
    expect(outs.map((o) => Array.from(o))).toEqual([
      [2, 6],
      [4, 12],
    ]);
    expect(Array.from(dequantize(Int8Array.from([3, -1]), { scale: 0.5, zeroPoint: 1 }))).toEqual([1, -1]);
  });

  it('depthwise conv (group = C): each output channel sums only its own input channel', () => {
    // 2 channels 1x2, 1x1 kernels: w[0] = 2, w[1] = -1; x - zp = [1, 2 | 3, 4]
    const layer = conv({
      input: [2, 1, 2],
      output: [2, 1, 2],
      kernel: [1, 1],
      group: 2,
      weights: Int8Array.from([2, -1]),
      inQ: q(1),
    });
    expect(Array.from(runLayer(layer, Int8Array.from([2, 3, 4, 5])))).toEqual([2, 4, -3, -4]);
    // group 1 with the same 2x2 weights (block diagonal) gives the same
    const full = conv({ ...layer, group: 1, weights: Int8Array.from([2, 0, 0, -1]) });
    expect(Array.from(runLayer(full, Int8Array.from([2, 3, 4, 5])))).toEqual([2, 4, -3, -4]);
  });

  it('residual add: (a - a_zp) w_a + (b - b_zp) w_b, one multiplier, fused Relu clamp', () => {
    const layer: QAdd = {
      kind: 'add',
      name: 'r',
      inputs: [-1, 0],
      input: [3],
      output: [3],
      inQ: q(1),
      inQB: q(-2),
      outQ: q(3),
      lo: 3,
      hi: 127,
      weights: [2, 3],
      mult: HALF,
    };
    // a - 1 = [4, -6, 0], b + 2 = [1, 1, -1]: acc = [11, -9, -3] -> half up [6, -4, -1] + 3
    expect(Array.from(runLayer(layer, [Int8Array.from([5, -5, 1]), Int8Array.from([-1, -1, -3])]))).toEqual([
      9, 3, 3,
    ]);
  });

  it('concat requantizes each input to the output scale', () => {
    const layer: QConcat = {
      kind: 'concat',
      name: 'c',
      inputs: [-1, 0],
      input: [1, 1, 2],
      output: [3, 1, 2],
      inputShapes: [
        [1, 1, 2],
        [2, 1, 2],
      ],
      inQ: q(0),
      inQs: [q(0), q(4)],
      outQ: q(-1),
      lo: -128,
      hi: 127,
      mults: [ONE, HALF],
    };
    const y = runLayer(layer, [Int8Array.from([7, -7]), Int8Array.from([5, 6, 8, 1])]);
    // first input copied (-1 + x), second: -1 + half-up((x - 4) / 2) = -1 + [1, 1, 2, -1]
    expect(Array.from(y)).toEqual([6, -8, 0, 0, 1, -2]);
  });

  it('pad puts the zero point around the input', () => {
    const layer: QPad = {
      kind: 'pad',
      name: 'p',
      inputs: [-1],
      input: [1, 1, 2],
      output: [1, 2, 3],
      inQ: q(-3),
      outQ: q(-3),
      lo: -128,
      hi: 127,
      pads: [1, 0, 0, 1],
    };
    expect(Array.from(runLayer(layer, Int8Array.from([5, 6])))).toEqual([-3, -3, -3, 5, 6, -3]);
  });

  it('exclude-pad average pool: row windows over their in-bounds count, rounded, then column windows', () => {
    const layer: QPool = {
      kind: 'avgpool',
      name: 'a',
      inputs: [-1],
      input: [1, 2, 3],
      output: [1, 2, 3],
      inQ: q(0),
      outQ: q(0),
      lo: -128,
      hi: 127,
      kernel: [3, 3],
      stride: [1, 1],
      pads: [1, 1, 1, 1],
      mult: { m0: 2 ** 30, s: 32 },
      excludePad: true,
    };
    // rows [1, 2, 6], [4, 8, 9]: row means over 2, 3, 2 values: [1.5, 3, 4] -> [2, 3, 4],
    // [6, 7, 8.5] -> [6, 7, 9]; columns over 2 values: [4, 5, 6.5] -> [4, 5, 7] (both rows)
    expect(Array.from(runLayer(layer, Int8Array.from([1, 2, 6, 4, 8, 9])))).toEqual([4, 5, 7, 4, 5, 7]);
  });

  it('runInt follows the graph: a layer reads the tensors its inputs name', () => {
    const c = conv({ input: [1, 1, 2], output: [1, 1, 2], kernel: [1, 1], weights: Int8Array.from([2]) });
    const add: QAdd = {
      kind: 'add',
      name: 'add',
      inputs: [-1, 0], // the model input and the conv's output
      input: [1, 1, 2],
      output: [1, 1, 2],
      inQ: q(0),
      inQB: q(0),
      outQ: q(0),
      lo: -128,
      hi: 127,
      weights: [1, 1],
      mult: ONE,
    };
    const model: QModel = {
      format: 'nnfpga-qmodel',
      version: 2,
      source: { model: 't', calibration: 't', calibrationSamples: 0 },
      input: [1, 1, 2],
      inQ: q(0),
      layers: [c, add],
      output: [1, 1, 2],
      outQ: q(0),
    };
    expect(runInt(model, Int8Array.from([3, -4])).map((o) => Array.from(o))).toEqual([
      [6, -8],
      [9, -12],
    ]);
  });
});
