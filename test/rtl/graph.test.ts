// Graph-shaped models end to end on the core bench, both configurations: the generated
// ONNX models with depthwise, grouped and pointwise convs, residual adds (of two tensors
// and of a tensor to itself), concats of two and three inputs, zero pads, padded max and
// average pools (count_include_pad either way), on enough channels for several channel
// groups; every layer's output for 3 random inputs compared with the integer reference
// bit for bit. Residual adds of tensors larger than one row of the descriptor.
import { describe, expect, it } from 'vitest';
import { compile } from '../../host/compiler/compile.ts';
import { BOARD_CONFIG, SIM_CONFIG } from '../../host/compiler/configs.ts';
import { numel } from '../../host/ir.ts';
import { importOnnx } from '../../host/onnx/import.ts';
import { quantizeInput, runInt } from '../../host/quant/intref.ts';
import { calibrate, quantizeModel } from '../../host/quant/quantize.ts';
import { runCore } from '../../host/sim/core.ts';
import { buildModel, randomArray } from '../host/helpers.ts';
import { generatedModels } from '../host/models.ts';
import { expectBitExact } from './compare.ts';
import { modelOf, randConv, randDense, randInt8, randQ, rng, withSelfAdd } from './random-models.ts';

const MODELS = [
  'depthwise_separable',
  'residual_concat',
  'pad_pools_norm',
  'wide_depthwise',
  'concat3_pool',
  'depthwise_add',
];
const INPUTS = 3;

describe.each([
  ['board Dim=4', BOARD_CONFIG],
  ['sim Dim=8', SIM_CONFIG],
])('graph models on npu_core %s', (_label, cfg) => {
  for (const name of MODELS) {
    it(`${name}: every layer bit-exact for ${INPUTS} random inputs`, async () => {
      const fm = importOnnx(buildModel(generatedModels[name]), name);
      const size = numel(fm.input);
      const calib = randomArray(16 * size, 11, 1, 0.2);
      const model = quantizeModel(fm, calibrate(fm, calib, 16), { model: name, calibration: 'random' });
      const x = randomArray(INPUTS * size, 12, 1.2, 0.1);
      const xs = Array.from({ length: INPUTS }, (_, n) =>
        quantizeInput(model, x.subarray(n * size, (n + 1) * size)),
      );
      const image = compile(model, cfg);
      const res = await runCore(image, xs, { inputZeroPoint: model.inQ.zeroPoint, name });
      expect(res.inferences).toHaveLength(INPUTS);
      res.inferences.forEach((inf, n) =>
        expectBitExact(model, runInt(model, xs[n]), inf.layers, `${name} input ${n}: `),
      );
    });
  }

  it('residual adds of more than 255 words: rows of one descriptor, and two pieces (257 words)', async () => {
    const r = rng(cfg.dim * 13);
    const q = randQ(r);
    const conv = randConv(r, { c: 3, h: 10, w: 13, oc: 6 * cfg.dim, k: [1, 1] }, q, 'c');
    const dense = randDense(r, [8], 257 * cfg.dim, q, false, 'd');
    for (const model of [withSelfAdd(modelOf([conv], q)), withSelfAdd(modelOf([dense], q))]) {
      const image = compile(model, cfg);
      const x = randInt8(r, numel(model.input));
      const res = await runCore(image, [x], { inputZeroPoint: q.zeroPoint });
      expectBitExact(model, runInt(model, x), res.inferences[0].layers, 'add: ');
    }
  });
});
