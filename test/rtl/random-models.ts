// Random QModels for the RTL tests: layers with the shapes the tests ask for, random
// int8 weights in [-127, 127], random biases, zero points and multipliers scaled so that
// outputs spread over the int8 range instead of saturating.
import { DEVICE_M0_BITS, encodeMultiplier } from '../../host/quant/requant.ts';
import { mulberry32 } from '../../host/data/random.ts';
import type { ActQuant, QAdd, QConv, QDense, QLayer, QModel, QPool } from '../../host/quant/types.ts';

export type Rng = () => number;

/** mulberry32: uniform [0, 1). */
export const rng = (seed: number): Rng => mulberry32(seed);
export const randInt = (r: Rng, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

export function randInt8(r: Rng, n: number, lo = -128, hi = 127): Int8Array {
  const a = new Int8Array(n);
  for (let i = 0; i < n; i++) a[i] = randInt(r, lo, hi);
  return a;
}

function randQ(r: Rng): ActQuant {
  return { scale: 0.05, zeroPoint: randInt(r, -40, 40) };
}

function mults(r: Rng, n: number, k: number) {
  const base = 1 / (Math.sqrt(k) * 110);
  return Array.from({ length: n }, () => encodeMultiplier(base * (0.5 + 2 * r()), DEVICE_M0_BITS));
}

function bounds(r: Rng, outQ: ActQuant, relu: boolean) {
  return relu ? { lo: outQ.zeroPoint, hi: 127 } : r() < 0.2 ? { lo: -100, hi: 100 } : { lo: -128, hi: 127 };
}

export interface ConvSpec {
  c: number;
  h: number;
  w: number;
  oc: number;
  k: [number, number];
  stride?: [number, number];
  pads?: [number, number, number, number];
  relu?: boolean;
}

export function convOut(n: number, k: number, s: number, p0: number, p1: number): number {
  return Math.floor((n + p0 + p1 - k) / s) + 1;
}

export function randConv(r: Rng, spec: ConvSpec, inQ: ActQuant, name = 'conv'): QConv {
  const stride = spec.stride ?? [1, 1];
  const pads = spec.pads ?? [0, 0, 0, 0];
  const oh = convOut(spec.h, spec.k[0], stride[0], pads[0], pads[2]);
  const ow = convOut(spec.w, spec.k[1], stride[1], pads[1], pads[3]);
  const kk = spec.c * spec.k[0] * spec.k[1];
  const outQ = randQ(r);
  const bias = new Int32Array(spec.oc);
  for (let i = 0; i < spec.oc; i++) bias[i] = randInt(r, -20000, 20000);
  return {
    kind: 'conv',
    name,
    inputs: [-1],
    group: 1,
    input: [spec.c, spec.h, spec.w],
    output: [spec.oc, oh, ow],
    inQ,
    outQ,
    ...bounds(r, outQ, !!spec.relu),
    kernel: spec.k,
    stride,
    pads,
    weights: randInt8(r, spec.oc * kk, -127, 127),
    bias,
    weightScale: new Float64Array(spec.oc).fill(0.01),
    mult: mults(r, spec.oc, kk),
  };
}

export function randDense(
  r: Rng,
  input: number[],
  n: number,
  inQ: ActQuant,
  relu: boolean,
  name = 'dense',
): QDense {
  const m = input.reduce((a, b) => a * b, 1);
  const outQ = randQ(r);
  const bias = new Int32Array(n);
  for (let i = 0; i < n; i++) bias[i] = randInt(r, -20000, 20000);
  return {
    kind: 'dense',
    name,
    inputs: [-1],
    input,
    output: [n],
    inQ,
    outQ,
    ...bounds(r, outQ, relu),
    weights: randInt8(r, n * m, -127, 127),
    bias,
    weightScale: new Float64Array(n).fill(0.01),
    mult: mults(r, n, m),
  };
}

export function randPool(
  r: Rng,
  kind: 'maxpool' | 'avgpool',
  input: [number, number, number],
  k: [number, number],
  stride: [number, number],
  pads: [number, number, number, number],
  inQ: ActQuant,
  name: string = kind,
): QPool {
  const oh = convOut(input[1], k[0], stride[0], pads[0], pads[2]);
  const ow = convOut(input[2], k[1], stride[1], pads[1], pads[3]);
  const clampIt = r() < 0.3;
  return {
    kind,
    name,
    inputs: [-1],
    input,
    output: [input[0], oh, ow],
    inQ,
    outQ: inQ,
    lo: clampIt ? inQ.zeroPoint : -128,
    hi: 127,
    kernel: k,
    stride,
    pads,
    ...(kind === 'avgpool' ? { mult: encodeMultiplier(1 / (k[0] * k[1]), DEVICE_M0_BITS) } : {}),
  };
}

/** A chain of layers (each reads the one before; the `inputs` of the layers are set here). */
export function modelOf(layers: QLayer[], inQ: ActQuant): QModel {
  return {
    format: 'nnfpga-qmodel',
    version: 2,
    source: { model: 'random', calibration: 'none', calibrationSamples: 0 },
    m0Bits: DEVICE_M0_BITS,
    input: layers[0].input,
    inQ,
    layers: layers.map((l, i) => ({ ...l, inputs: [i - 1] })),
    output: layers[layers.length - 1].output,
    outQ: layers[layers.length - 1].outQ,
  };
}

/** The model with a residual add of its last layer's output to itself appended. */
export function withSelfAdd(m: QModel): QModel {
  const last = m.layers[m.layers.length - 1];
  const add: QAdd = {
    name: 'add',
    kind: 'add',
    inputs: [m.layers.length - 1, m.layers.length - 1],
    input: last.output,
    output: last.output,
    inQ: last.outQ,
    inQB: last.outQ,
    outQ: last.outQ,
    lo: -128,
    hi: 127,
    weights: [3, 5],
    mult: { m0: 2 ** 30, s: 33 },
  };
  return { ...m, layers: [...m.layers, add], output: add.output, outQ: add.outQ };
}

export { randQ };
