// The compiler's per-layer cycle estimate (host/compiler/estimate.ts) against the
// device's own counters: cnn_a, mlp, random layers and graph models, run on the core
// bench (npu_core in Verilator) for the board configuration and sim8, and the MLPerf Tiny
// reference shapes on sim8, every layer within 10 % of its CNT cycles. The
// errors are printed, so a change of the controller's timing shows how far the model
// drifted before it fails.
import { describe, expect, it } from 'vitest';
import { benchModel, fixtureModel } from '../../../host/bench/core.ts';
import { compile } from '../../../host/compiler/compile.ts';
import { BOARD_CONFIG, SIM_CONFIG } from '../../../host/compiler/configs.ts';
import { estimateImage, wireBytes } from '../../../host/compiler/estimate.ts';
import type { DeviceConfig } from '../../../host/compiler/types.ts';
import { numel } from '../../../host/ir.ts';
import { importOnnx } from '../../../host/onnx/import.ts';
import { quantizeInput } from '../../../host/quant/intref.ts';
import { calibrate, quantizeModel } from '../../../host/quant/quantize.ts';
import { runCore } from '../../../host/sim/core.ts';
import { modelOf, randConv, randDense, randInt8, randPool, randQ, rng } from '../../rtl/random-models.ts';
import { buildModel, fixtures, randomArray } from '../helpers.ts';
import { mlperfModels } from '../../../host/bench/mlperf.ts';
import { generatedModels } from '../models.ts';

describe('cycle estimate against the device counters', () => {
  for (const name of ['cnn_a', 'mlp']) {
    for (const [label, config] of [
      ['board 4x4', BOARD_CONFIG],
      ['sim8', SIM_CONFIG],
    ] as const) {
      it(`${name} on ${label}: every layer's estimate is within 10 % of its measured cycles`, async () => {
        const { model, input } = fixtureModel(name, fixtures);
        const image = compile(model, config);
        const est = estimateImage(image);
        const bench = await benchModel(name, model, config, input);
        const rows = bench.layers.map((l, i) => {
          const e = est.layers[i].estimated_cycles;
          return { layer: l.name, measured: l.cycles, estimated: e, error: (e - l.cycles) / l.cycles };
        });
        const runError = (est.run_cycles - bench.cycles_per_inference) / bench.cycles_per_inference;
        console.log(
          `${name} ${label}: ` +
            rows
              .map((r) => `${r.layer} ${r.estimated}/${r.measured} (${(100 * r.error).toFixed(2)} %)`)
              .join(', ') +
            `; run ${est.run_cycles}/${bench.cycles_per_inference} (${(100 * runError).toFixed(2)} %)`,
        );
        expect(rows).toHaveLength(model.layers.length);
        for (const r of rows) expect(Math.abs(r.error), r.layer).toBeLessThanOrEqual(0.1);
        expect(Math.abs(runError)).toBeLessThanOrEqual(0.1);
      });
    }
  }

  // A model of other shapes: strides, padding, a 1-channel input (K < N), 5x5 and 1x1
  // kernels, max and average pools, dense layers over an image and a vector.
  for (const [label, config] of [
    ['board 4x4', BOARD_CONFIG],
    ['sim8', SIM_CONFIG],
  ] as const) {
    it(`random layers on ${label}: every layer's estimate is within 10 % of its measured cycles`, async () => {
      const r = rng(label.length * 7 + 3);
      const q0 = randQ(r);
      const c1 = randConv(
        r,
        { c: 1, h: 20, w: 20, oc: 6, k: [5, 5], pads: [2, 2, 2, 2], relu: true },
        q0,
        'c1',
      );
      const p1 = randPool(r, 'maxpool', [6, 20, 20], [3, 3], [2, 2], [1, 1, 1, 1], c1.outQ, 'p1');
      const c2 = randConv(
        r,
        { c: 6, h: 10, w: 10, oc: 12, k: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1] },
        p1.outQ,
        'c2',
      );
      const c3 = randConv(r, { c: 12, h: 5, w: 5, oc: 9, k: [1, 1] }, c2.outQ, 'c3');
      const a1 = randPool(r, 'avgpool', [9, 5, 5], [5, 5], [1, 1], [0, 0, 0, 0], c3.outQ, 'a1');
      const d1 = randDense(r, [9, 1, 1], 20, a1.outQ, true, 'd1');
      const d2 = randDense(r, [20], 5, d1.outQ, false, 'd2');
      const model = modelOf([c1, p1, c2, c3, a1, d1, d2], q0);
      const image = compile(model, config);
      const est = estimateImage(image);
      const res = await runCore(image, [randInt8(r, 400)], { inputZeroPoint: q0.zeroPoint, readAll: false });
      const measured = res.inferences[0].layerCycles;
      const errors = est.layers.map((l, i) => (l.estimated_cycles - measured[i]) / measured[i]);
      console.log(
        `random model ${label}: ` +
          est.layers
            .map(
              (l, i) => `${l.name} ${l.estimated_cycles}/${measured[i]} (${(100 * errors[i]).toFixed(2)} %)`,
            )
            .join(', '),
      );
      errors.forEach((e, i) => expect(Math.abs(e), est.layers[i].name).toBeLessThanOrEqual(0.1));
    });
  }

  // Graph models: the graph compiler's descriptors (grouped depthwise convs and pools,
  // the residual add's 2x1 CONV, concat and pad copies, the two transposed passes of an
  // exclude-pad average pool) on both configurations, and the MLPerf Tiny reference
  // shapes on sim8 (VWW's 29 descriptors: 2 RUNs).
  const graphCases: [string, string, DeviceConfig, () => Uint8Array][] = [];
  for (const [label, config] of [
    ['board 4x4', BOARD_CONFIG],
    ['sim8', SIM_CONFIG],
  ] as const) {
    for (const name of ['depthwise_separable', 'residual_concat', 'pad_pools_norm', 'depthwise_add'])
      graphCases.push([name, label, config, () => buildModel(generatedModels[name])]);
  }
  for (const [name, gen] of Object.entries(mlperfModels))
    graphCases.push([name, 'sim8', SIM_CONFIG, () => buildModel(gen())]);
  for (const [name, label, config, proto] of graphCases) {
    it(`${name} on ${label}: every descriptor, layer and the run within 10 % of the device's counts`, async () => {
      const fm = importOnnx(proto(), name);
      const size = numel(fm.input);
      const model = quantizeModel(fm, calibrate(fm, randomArray(8 * size, 11, 1, 0.2), 8), {
        model: name,
        calibration: 'random',
      });
      const x = quantizeInput(model, randomArray(size, 12, 1.2, 0.1));
      const image = compile(model, config);
      const est = estimateImage(image);
      const inf = (await runCore(image, [x], { inputZeroPoint: model.inQ.zeroPoint, readAll: false }))
        .inferences[0];
      const err = (e: number, m: number) => (e - m) / m;
      const steps = est.steps.map((s, i) => err(s.estimated_cycles, inf.stepCycles[i]));
      const layers = est.layers.map((l, i) => err(l.estimated_cycles, inf.layerCycles[i]));
      const run = err(est.run_cycles, inf.cycles);
      const worst = (v: number[]) => Math.max(...v.map(Math.abs));
      console.log(
        `${name} ${label}: ${steps.length} descriptors in ${image.segments.length} RUNs; worst descriptor ` +
          `${(100 * worst(steps)).toFixed(2)} %, worst layer ${(100 * worst(layers)).toFixed(2)} %, ` +
          `run ${est.run_cycles}/${inf.cycles} (${(100 * run).toFixed(2)} %)`,
      );
      expect(steps).toHaveLength(inf.stepCycles.length);
      steps.forEach((e, i) => expect(Math.abs(e), `descriptor ${i}`).toBeLessThanOrEqual(0.1));
      layers.forEach((e, i) => expect(Math.abs(e), est.layers[i].name).toBeLessThanOrEqual(0.1));
      expect(Math.abs(run)).toBeLessThanOrEqual(0.1);
    });
  }

  it('bounds: conv 8->16 is array-bound, cnn_a conv 1->8 requantizer-bound, dense layers weight-bound', () => {
    const { model } = fixtureModel('cnn_a', fixtures);
    const est = estimateImage(compile(model, BOARD_CONFIG));
    expect(est.layers.map((l) => [l.kind, l.compute_bound])).toEqual([
      ['conv', 'requantizer'],
      ['maxpool', 'array'],
      ['conv', 'array'],
      ['maxpool', 'array'],
      ['dense', 'weights'],
    ]);
  });

  it('wire bytes of one inference follow the frames the host sends (cnn_a on the iCEBreaker: 825 out, 46 in)', () => {
    const cnnA = fixtureModel('cnn_a', fixtures).model;
    // the 784 input bytes packed (one channel) in 4 INFER parts of at most 256 bytes: 8 of
    // framing and part header each and 9 of input and output fields; back, 3 one-byte
    // acknowledgements of 8 and the last reply with the 10 outputs and the cycle count
    expect(
      wireBytes(compile(cnnA, BOARD_CONFIG), { maxPayload: 256, clocksPerBit: 10, clockHz: 30e6 }),
    ).toEqual({
      out: 784 + 4 * 8 + 9,
      in: 4 * 8 + 10 + 4,
    });
    // the simulated board's 8 KiB frames: one INFER each way
    expect(
      wireBytes(compile(cnnA, SIM_CONFIG), { maxPayload: 8192, clocksPerBit: 4, clockHz: 12e6 }),
    ).toEqual({
      out: 784 + 17,
      in: 10 + 4 + 8,
    });
  });
});
