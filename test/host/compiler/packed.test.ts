// A narrow conv's taps packed into lanes (compile.ts Lowering.packedConv): KWS DS-CNN's
// first conv (10x4, stride 2, pads (4,1,5,1), 1 -> 64 channels over 49x10) lowers to the
// pack step and conv' on both configurations, and the estimate says it is faster.
import { describe, expect, it } from 'vitest';
import { compile, DESC_WORDS } from '../../../host/compiler/compile.ts';
import { BOARD_CONFIG, SIM_CONFIG } from '../../../host/compiler/configs.ts';
import { estimateImage } from '../../../host/compiler/estimate.ts';
import { decodeDescriptor, OP_CONV } from '../../../host/compiler/program.ts';
import type { DeviceConfig, DeviceImage } from '../../../host/compiler/types.ts';
import { ModelTooLargeError } from '../../../host/errors.ts';
import { importOnnx } from '../../../host/onnx/import.ts';
import { calibrate, quantizeModel } from '../../../host/quant/quantize.ts';
import { buildModel, randomArray } from '../helpers.ts';
import { mlperfModels } from '../../../host/bench/mlperf.ts';
import { modelOf, randConv, randQ, rng } from '../../rtl/random-models.ts';

const kws = () => {
  const m = importOnnx(buildModel(mlperfModels.mlperf_kws()), 'kws');
  return quantizeModel(m, calibrate(m, randomArray(2 * 490, 1), 2), { model: 'kws', calibration: 'r' });
};
const fields = (img: DeviceImage, i: number) =>
  decodeDescriptor(img.descriptors.subarray(i * DESC_WORDS, (i + 1) * DESC_WORDS))!;

describe('packed taps: KWS conv1', () => {
  const model = kws();
  const cases: [string, DeviceConfig, number][] = [
    // 4 lanes: one kernel row of 4 taps per word (dy = 1); 8 lanes: two rows (dy = 2)
    ['board 4x4', BOARD_CONFIG, 1],
    ['sim8', SIM_CONFIG, 2],
  ];
  it.each(cases)('%s: the pack step and conv over it, faster by the estimate', (_l, cfg, dy) => {
    const img = compile(model, cfg);
    const conv1 = img.layers[0];
    expect(conv1.steps).toEqual({ first: 0, count: 2 });
    expect(conv1.macs).toBe(64 * 40 * 25 * 5); // the conv's own MACs
    const pack = fields(img, 0);
    const conv = fields(img, 1);
    // pack: M = 1 copy of dy x 4 taps into dy*4 lanes, the conv's pads, the input's zero point
    expect(pack).toMatchObject({ op: OP_CONV, grouped: false, cg: 1, og: 1, kh: dy, kw: 4, sh: dy, sw: 2 });
    expect(pack).toMatchObject({ pt: 4, pl: 1, h: 49, w: 10, ow: 5, oh: (2 / dy) * 24 + Math.ceil(10 / dy) });
    expect(pack.padValue).toBe(model.inQ.zeroPoint);
    expect(pack.yZp).toBe(model.inQ.zeroPoint);
    // conv': over T (the pack's output), no padding, one column of ceil(10/dy) rows
    expect(conv.inBase).toBe(pack.outBase);
    expect(conv).toMatchObject({ cg: 1, og: 64 / cfg.dim, kh: Math.ceil(10 / dy), kw: 1, sh: 2 / dy, sw: 1 });
    expect(conv).toMatchObject({ pt: 0, pl: 0, oh: 25, ow: 5, h: pack.oh, w: 5 });
    expect(img.layers[1].steps.first).toBe(2);

    const plain = compile(model, cfg, { packTaps: false });
    expect(plain.layers[0].steps.count).toBe(1);
    const e = estimateImage(img).layers[0].estimated_cycles;
    const ePlain = estimateImage(plain).layers[0].estimated_cycles;
    expect(e).toBeLessThan(ePlain / 2);
  });

  it('a model whose memory does not fit with the packed tensor compiles without it', () => {
    // 5x4 over 1 channel, 20x20 -> 4 x 16x17: the input (400 words) and the output (272)
    // alive at once; packed, T (4 lanes x 20 rows x 17 = 340 words) is alive with each
    const r = rng(11);
    const q = randQ(r);
    const m = modelOf([randConv(r, { c: 1, h: 20, w: 20, oc: 4, k: [5, 4] }, q, 'narrow')], q);
    const words = (amemWords: number): DeviceConfig => ({ ...BOARD_CONFIG, amemWords, amemExtWords: 0 });
    expect(compile(m, words(740), { packTaps: 'always' }).layers[0].steps.count).toBe(2);
    expect(compile(m, words(739), { packTaps: 'always' }).layers[0].steps.count).toBe(1);
    expect(() => compile(m, words(671), { packTaps: 'always' })).toThrow(ModelTooLargeError);
  });
});
