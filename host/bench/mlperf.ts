// The MLPerf Tiny reference models' shapes as generated ONNX graphs (random weights, He
// scaled so activations keep their range through the layers; BatchNormalization as a
// node after every conv and hidden dense layer, as an export without folding writes it):
//   mlperf_kws  keyword spotting DS-CNN: 49x10x1, conv 10x4 s2 SAME 1->64 + BN + ReLU,
//               4 x [depthwise 3x3 + BN + ReLU, pointwise 64->64 + BN + ReLU], average
//               pool 25x5, dense 64->12
//   mlperf_ic   image classification ResNet-8: 32x32x3, conv 3x3 3->16 + BN + ReLU,
//               three stages of two 3x3 convs (stride 2 and a 1x1 stride-2 shortcut conv
//               in stages 2 and 3) whose sum with the shortcut goes through a ReLU,
//               average pool 8x8, dense 64->10
//   mlperf_vww  visual wake words MobileNetV1 alpha 0.25: 96x96x3, conv 3x3 s2 3->8, 13
//               depthwise-separable blocks (stride 2 at blocks 2, 4, 6, 12) with ReLU6,
//               average pool 3x3, dense 256->2
//   mlperf_ad   anomaly detection autoencoder: 640-128-128-128-128-8-128-128-128-128-640,
//               BN + ReLU after each hidden dense layer
// REFERENCE holds the parameter and MAC counts the MLPerf Tiny models have; TARGETS the
// bounds `nnfpga bench` checks them against, PUBLISHED the MLPerf Tiny single-stream
// latencies it prints beside them. mlperfQModel() quantizes a shape (min/max calibration
// on random inputs), mlperfInput() gives it a random input.
import { randomArray } from '../data/random.ts';
import { numel } from '../ir.ts';
import { attr, buildModel, floatTensor, node, rawFloatTensor, type GraphSpec } from '../onnx/build.ts';
import { importOnnx } from '../onnx/import.ts';
import { quantizeInput } from '../quant/intref.ts';
import { calibrate, quantizeModel } from '../quant/quantize.ts';
import type { QModel } from '../quant/types.ts';

export const REFERENCE = {
  mlperf_kws: { params: 22_604, macs: 2_656_768 },
  mlperf_ic: { params: 77_706, macs: 12_501_632 },
  mlperf_vww: { params: 210_850, macs: 7_489_664 },
  mlperf_ad: { params: 265_864, macs: 264_192 },
} as const;

export class Builder {
  readonly nodes: GraphSpec['nodes'] = [];
  readonly initializers: NonNullable<GraphSpec['initializers']> = [];
  private k = 0;
  constructor(private seed: number) {}

  private next(): number {
    return this.seed * 1000 + this.k++;
  }

  /** A weight tensor, uniform He initialization over `fanIn` inputs. */
  weight(name: string, dims: number[], fanIn: number): string {
    const n = dims.reduce((a, b) => a * b, 1);
    this.initializers.push(rawFloatTensor(name, dims, randomArray(n, this.next(), Math.sqrt(6 / fanIn))));
    return name;
  }

  bias(name: string, n: number): string {
    this.initializers.push(rawFloatTensor(name, [n], randomArray(n, this.next(), 0.1)));
    return name;
  }

  /** BatchNormalization with random statistics. */
  bn(x: string, c: number, name: string): string {
    const p = (s: string, scale: number, offset: number) => {
      this.initializers.push(rawFloatTensor(`${name}_${s}`, [c], randomArray(c, this.next(), scale, offset)));
      return `${name}_${s}`;
    };
    const ins = [x, p('g', 0.2, 1), p('b', 0.1, 0), p('m', 0.1, 0), p('v', 0.2, 1)];
    this.nodes.push(node('BatchNormalization', ins, [`${name}_out`], [attr.f('epsilon', 1e-3)], name));
    return `${name}_out`;
  }

  relu(x: string, name: string): string {
    this.nodes.push(node('Relu', [x], [`${name}_out`], [], name));
    return `${name}_out`;
  }

  relu6(x: string, name: string): string {
    this.initializers.push(floatTensor(`${name}_lo`, [], [0]), floatTensor(`${name}_hi`, [], [6]));
    this.nodes.push(node('Clip', [x, `${name}_lo`, `${name}_hi`], [`${name}_out`], [], name));
    return `${name}_out`;
  }

  conv(
    x: string,
    name: string,
    cin: number,
    cout: number,
    k: [number, number],
    opts: { stride?: number; pads?: number[]; autoPad?: string; group?: number; bias?: boolean } = {},
  ): string {
    const group = opts.group ?? 1;
    const w = this.weight(`${name}_w`, [cout, cin / group, k[0], k[1]], (cin / group) * k[0] * k[1]);
    const ins = opts.bias ? [x, w, this.bias(`${name}_b`, cout)] : [x, w];
    const attrs = [attr.ints('kernel_shape', k), attr.ints('strides', [opts.stride ?? 1, opts.stride ?? 1])];
    if (opts.autoPad) attrs.push(attr.s('auto_pad', opts.autoPad));
    else attrs.push(attr.ints('pads', opts.pads ?? [0, 0, 0, 0]));
    if (group > 1) attrs.push(attr.i('group', group));
    this.nodes.push(node('Conv', ins, [`${name}_out`], attrs, name));
    return `${name}_out`;
  }

  gemm(x: string, name: string, m: number, n: number): string {
    const w = this.weight(`${name}_w`, [n, m], m);
    this.nodes.push(
      node('Gemm', [x, w, this.bias(`${name}_b`, n)], [`${name}_out`], [attr.i('transB', 1)], name),
    );
    return `${name}_out`;
  }

  op(type: string, ins: string[], name: string, attrs: ReturnType<typeof attr.i>[] = []): string {
    this.nodes.push(node(type, ins, [`${name}_out`], attrs, name));
    return `${name}_out`;
  }

  spec(input: number[], output: string): GraphSpec {
    return {
      input: { name: 'input', dims: input },
      initializers: this.initializers,
      nodes: this.nodes,
      output,
    };
  }
}

function kws(): GraphSpec {
  const b = new Builder(1);
  // SAME for 49x10 with a 10x4 kernel at stride 2: 25x5 outputs, pads 4/5 rows, 1/1 columns
  let x = b.conv('input', 'conv1', 1, 64, [10, 4], { stride: 2, pads: [4, 1, 5, 1] });
  x = b.relu(b.bn(x, 64, 'conv1_bn'), 'conv1_relu');
  for (let i = 1; i <= 4; i++) {
    x = b.conv(x, `dw${i}`, 64, 64, [3, 3], { group: 64, pads: [1, 1, 1, 1] });
    x = b.relu(b.bn(x, 64, `dw${i}_bn`), `dw${i}_relu`);
    x = b.conv(x, `pw${i}`, 64, 64, [1, 1]);
    x = b.relu(b.bn(x, 64, `pw${i}_bn`), `pw${i}_relu`);
  }
  x = b.op('AveragePool', [x], 'pool', [attr.ints('kernel_shape', [25, 5])]);
  x = b.op('Flatten', [x], 'flatten');
  return b.spec([1, 1, 49, 10], b.gemm(x, 'fc', 64, 12));
}

function resnet8(): GraphSpec {
  const b = new Builder(2);
  let x = b.conv('input', 'stem', 3, 16, [3, 3], { pads: [1, 1, 1, 1] });
  x = b.relu(b.bn(x, 16, 'stem_bn'), 'stem_relu');
  let c = 16;
  for (const [s, cout] of [
    [1, 16],
    [2, 32],
    [3, 64],
  ]) {
    const stride = s === 1 ? 1 : 2;
    let y = b.conv(x, `s${s}_conv1`, c, cout, [3, 3], { stride, pads: [1, 1, 1, 1] });
    y = b.relu(b.bn(y, cout, `s${s}_bn1`), `s${s}_relu1`);
    y = b.bn(b.conv(y, `s${s}_conv2`, cout, cout, [3, 3], { pads: [1, 1, 1, 1] }), cout, `s${s}_bn2`);
    const shortcut = s === 1 ? x : b.conv(x, `s${s}_shortcut`, c, cout, [1, 1], { stride: 2, bias: true });
    x = b.relu(b.op('Add', [y, shortcut], `s${s}_add`), `s${s}_relu`);
    c = cout;
  }
  x = b.op('AveragePool', [x], 'pool', [attr.ints('kernel_shape', [8, 8])]);
  x = b.op('Flatten', [x], 'flatten');
  return b.spec([1, 3, 32, 32], b.gemm(x, 'fc', 64, 10));
}

function mobilenetV1(): GraphSpec {
  const b = new Builder(3);
  let x = b.conv('input', 'conv1', 3, 8, [3, 3], { stride: 2, autoPad: 'SAME_UPPER' });
  x = b.relu6(b.bn(x, 8, 'conv1_bn'), 'conv1_relu');
  const blocks: [number, number, number][] = [
    [8, 16, 1],
    [16, 32, 2],
    [32, 32, 1],
    [32, 64, 2],
    [64, 64, 1],
    [64, 128, 2],
    [128, 128, 1],
    [128, 128, 1],
    [128, 128, 1],
    [128, 128, 1],
    [128, 128, 1],
    [128, 256, 2],
    [256, 256, 1],
  ];
  blocks.forEach(([cin, cout, stride], i) => {
    const k = i + 1;
    x = b.conv(x, `dw${k}`, cin, cin, [3, 3], { group: cin, stride, autoPad: 'SAME_UPPER' });
    x = b.relu6(b.bn(x, cin, `dw${k}_bn`), `dw${k}_relu`);
    x = b.conv(x, `pw${k}`, cin, cout, [1, 1]);
    x = b.relu6(b.bn(x, cout, `pw${k}_bn`), `pw${k}_relu`);
  });
  x = b.op('AveragePool', [x], 'pool', [attr.ints('kernel_shape', [3, 3])]);
  x = b.op('Flatten', [x], 'flatten');
  return b.spec([1, 3, 96, 96], b.gemm(x, 'fc', 256, 2));
}

function autoencoder(): GraphSpec {
  const b = new Builder(4);
  const sizes = [640, 128, 128, 128, 128, 8, 128, 128, 128, 128, 640];
  let x = 'input';
  for (let i = 0; i + 1 < sizes.length; i++) {
    x = b.gemm(x, `dense${i + 1}`, sizes[i], sizes[i + 1]);
    if (i + 2 < sizes.length) x = b.relu(b.bn(x, sizes[i + 1], `bn${i + 1}`), `relu${i + 1}`);
  }
  return b.spec([1, 640], x);
}

export const mlperfModels: Record<keyof typeof REFERENCE, () => GraphSpec> = {
  mlperf_kws: kws,
  mlperf_ic: resnet8,
  mlperf_vww: mobilenetV1,
  mlperf_ad: autoencoder,
};

export type MlperfName = keyof typeof REFERENCE;

/** The four shapes quantized: min/max calibration on `calib` random inputs (seed 21). */
export function mlperfQModel(name: MlperfName, calib = 4): QModel {
  const fm = importOnnx(buildModel(mlperfModels[name]()), name);
  return quantizeModel(fm, calibrate(fm, randomArray(calib * numel(fm.input), 21, 1, 0), calib), {
    model: name,
    calibration: 'random',
  });
}

/** `n` random inputs of a quantized shape (uniform [-1, 1), from `seed`), quantized. */
export function mlperfInputs(model: QModel, n: number, seed: number): Int8Array[] {
  const size = numel(model.input);
  const x = randomArray(n * size, seed, 1, 0);
  return Array.from({ length: n }, (_, i) => quantizeInput(model, x.subarray(i * size, (i + 1) * size)));
}

/** The configurations a target is measured on: the iCEBreaker's and the 8x8 simulation one. */
export type MlperfConfig = 'icebreaker' | 'sim8';

/**
 * The performance targets `nnfpga bench --only mlperf` checks, each measured on one
 * configuration. `quantity`: the KWS latency (ms), the utilization of a kind of layer
 * (ideal over measured cycles summed over those layers of all four shapes that run on the
 * configuration), or a model's cycles over its ideal cycles.
 */
export const TARGETS: readonly {
  name: string;
  config: MlperfConfig;
  quantity:
    | { kind: 'latency_ms'; model: MlperfName }
    | { kind: 'utilization'; layers: 'depthwise' | 'pointwise' | 'conv3x3' }
    | { kind: 'ideal_ratio'; model: MlperfName };
  /** 'max': measured <= bound; 'min': measured >= bound. */
  sense: 'max' | 'min';
  bound: number;
}[] = [
  {
    name: 'KWS latency on the iCEBreaker',
    config: 'icebreaker',
    quantity: { kind: 'latency_ms', model: 'mlperf_kws' },
    sense: 'max',
    bound: 8,
  },
  {
    name: 'depthwise utilization on the iCEBreaker',
    config: 'icebreaker',
    quantity: { kind: 'utilization', layers: 'depthwise' },
    sense: 'min',
    bound: 0.5,
  },
  {
    name: 'pointwise utilization on sim 8x8',
    config: 'sim8',
    quantity: { kind: 'utilization', layers: 'pointwise' },
    sense: 'min',
    bound: 0.9,
  },
  {
    name: '3x3 conv utilization on sim 8x8',
    config: 'sim8',
    quantity: { kind: 'utilization', layers: 'conv3x3' },
    sense: 'min',
    bound: 0.9,
  },
  {
    name: 'ResNet-8 (mlperf_ic) cycles / ideal on sim 8x8',
    config: 'sim8',
    quantity: { kind: 'ideal_ratio', model: 'mlperf_ic' },
    sense: 'max',
    bound: 1.3,
  },
];

/** Published MLPerf Tiny single-stream latencies, ms. */
export const PUBLISHED: readonly { system: string; mlperf_kws: number; mlperf_ic: number }[] = [
  { system: 'STM32L4R5, reference TFLM', mlperf_kws: 181.9, mlperf_ic: 704.2 },
  { system: 'STM32L4R5, ST X-CUBE-AI', mlperf_kws: 43.4, mlperf_ic: 165.7 },
  { system: 'Syntiant NDP9120 at 30.7 MHz', mlperf_kws: 4.37, mlperf_ic: 15.98 },
];
