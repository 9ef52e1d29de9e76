// Core performance figures (SPEC section 6) from the hardware counters of npu_core, run
// on its Verilator bench: per layer MACs, measured cycles (CNT), ideal cycles = MACs / N²,
// utilization = ideal / measured; for dense layers also the weight-bandwidth bound
// (N bytes of weights per cycle → MACs / N cycles at batch 1) and how close we are to it.
//
//   npx tsx host/bench/core.ts        prints the standard figures as JSON
//
// Standard figures: a 32→32 3x3 conv over 28x28 (pad 1) on the sim config (8x8),
// cnn_a end to end on the board config (4x4), mlp on the board config (dense-bound).

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { compile } from '../compiler/compile.ts';
import { BOARD_CONFIG, SIM_CONFIG } from '../compiler/configs.ts';
import type { DeviceConfig } from '../compiler/types.ts';
import { readNpy } from '../data/npy.ts';
import { loadOnnx } from '../onnx/import.ts';
import { quantizeInput, runInt } from '../quant/intref.ts';
import { calibrate, quantizeModel } from '../quant/quantize.ts';
import { DEVICE_M0_BITS, encodeMultiplier } from '../quant/requant.ts';
import type { QConv, QModel } from '../quant/types.ts';
import { runCore } from '../sim/core.ts';
import { REPO_ROOT } from '../sim/verilator.ts';

export interface BenchLayer {
  name: string;
  kind: string;
  macs: number;
  cycles: number; // CNT: total cycles of the layer (descriptor fetch to last write)
  ideal_cycles: number; // macs / N²
  utilization: number; // ideal / cycles
  feed_cycles: number; // CNT: cycles an activation vector entered the array
  /** Dense layers: cycles at the weight-memory bound (macs / N) and bound / cycles. */
  weight_bound_cycles?: number;
  weight_bound_ratio?: number;
}

export interface CoreBench {
  name: string;
  config: { dim: number; accDepth: number };
  layers: BenchLayer[];
  total: { macs: number; cycles: number; ideal_cycles: number; utilization: number; ideal_ratio: number };
  /** Start-to-done cycles of one inference (CNT run word). */
  cycles_per_inference: number;
  /** Verilator speed: simulated clock cycles per wall-clock second (whole bench run). */
  sim_cycles_per_second: number;
  /** The device output equals the integer reference. */
  bit_exact: boolean;
}

/** Runs one inference of `model` on the core bench and reads the counters. */
export async function benchModel(
  name: string,
  model: QModel,
  config: DeviceConfig,
  xq?: Int8Array,
): Promise<CoreBench> {
  const n2 = config.dim * config.dim;
  const size = model.input.reduce((a, b) => a * b, 1);
  const x = xq ?? Int8Array.from({ length: size }, (_, i) => ((i * 37 + 11) % 256) - 128);
  const image = compile(model, config);
  const res = await runCore(image, [x], { inputZeroPoint: model.inQ.zeroPoint, readAll: false, name });
  const inf = res.inferences[0];
  const ref = runInt(model, x);
  const last = inf.layers[inf.layers.length - 1]!;
  const want = ref[ref.length - 1];
  const bitExact = last.length === want.length && last.every((v, i) => v === want[i]);
  const layers: BenchLayer[] = image.layers.map((l, i) => {
    const cycles = inf.layerCycles[i];
    const ideal = l.macs / n2;
    const row: BenchLayer = {
      name: l.name,
      kind: l.kind,
      macs: l.macs,
      cycles,
      ideal_cycles: ideal,
      utilization: cycles > 0 ? ideal / cycles : 0,
      feed_cycles: inf.layerFeedCycles[i],
    };
    if (l.kind === 'dense') {
      row.weight_bound_cycles = l.macs / config.dim;
      row.weight_bound_ratio = row.weight_bound_cycles / cycles;
    }
    return row;
  });
  const macs = layers.reduce((a, l) => a + l.macs, 0);
  const cycles = inf.runCycles;
  return {
    name,
    config: { dim: config.dim, accDepth: config.accDepth },
    layers,
    total: {
      macs,
      cycles,
      ideal_cycles: macs / n2,
      utilization: macs / n2 / cycles,
      ideal_ratio: cycles / (macs / n2),
    },
    cycles_per_inference: cycles,
    sim_cycles_per_second: res.simSeconds > 0 ? res.simCycles / res.simSeconds : 0,
    bit_exact: bitExact,
  };
}

/** A deterministic single-conv model: cin→cout, k x k, pad (k-1)/2, over h x w. */
export function convModel(cin: number, cout: number, k: number, h: number, w: number): QModel {
  const kk = cin * k * k;
  const weights = Int8Array.from({ length: cout * kk }, (_, i) => ((i * 7919) % 255) - 127);
  const p = (k - 1) / 2;
  const q = { scale: 0.05, zeroPoint: -3 };
  const conv: QConv = {
    kind: 'conv',
    name: `conv${cin}to${cout}_${k}x${k}_${h}x${w}`,
    inputs: [-1],
    group: 1,
    input: [cin, h, w],
    output: [cout, h, w],
    inQ: q,
    outQ: { scale: 0.05, zeroPoint: 5 },
    lo: 5,
    hi: 127,
    kernel: [k, k],
    stride: [1, 1],
    pads: [p, p, p, p],
    weights,
    bias: Int32Array.from({ length: cout }, (_, i) => i * 100 - 1000),
    weightScale: new Float64Array(cout).fill(0.01),
    mult: Array.from({ length: cout }, () => encodeMultiplier(1 / (Math.sqrt(kk) * 110), DEVICE_M0_BITS)),
  };
  return {
    format: 'nnfpga-qmodel',
    version: 2,
    source: { model: 'synthetic', calibration: 'none', calibrationSamples: 0 },
    m0Bits: DEVICE_M0_BITS,
    input: conv.input,
    inQ: q,
    layers: [conv],
    output: conv.output,
    outQ: conv.outQ,
  };
}

/** Quantizes a fixture model (min/max calibration on `calib` images of calib256.npy). */
export function fixtureModel(
  name: string,
  fixturesDir: string,
  calib = 64,
): { model: QModel; input: Int8Array } {
  const file = path.join(fixturesDir, `${name}.onnx`);
  const fm = loadOnnx(file);
  const data = readNpy(path.join(fixturesDir, 'calib256.npy')).data as Float32Array;
  const model = quantizeModel(fm, calibrate(fm, data, calib), { model: file, calibration: 'calib256.npy' });
  const inputs = readNpy(path.join(fixturesDir, 'inputs200.npy')).data as Float32Array;
  return { model, input: quantizeInput(model, inputs.subarray(0, 784)) };
}

/** The standard figures. */
export async function coreBenchSuite(
  fixturesDir = path.resolve(REPO_ROOT, 'examples'),
): Promise<CoreBench[]> {
  const out: CoreBench[] = [];
  out.push(
    await benchModel('conv 32->32 3x3 28x28 pad 1 (sim 8x8)', convModel(32, 32, 3, 28, 28), SIM_CONFIG),
  );
  for (const [name, cfg, label] of [
    ['cnn_a', BOARD_CONFIG, 'board 4x4'],
    ['mlp', BOARD_CONFIG, 'board 4x4'],
    ['cnn_a', SIM_CONFIG, 'sim 8x8'],
    ['mlp', SIM_CONFIG, 'sim 8x8'],
  ] as const) {
    const { model, input } = fixtureModel(name, fixturesDir);
    out.push(await benchModel(`${name} (${label})`, model, cfg, input));
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const res = await coreBenchSuite();
  process.stdout.write(`${JSON.stringify(res, null, 2)}\n`);
}
