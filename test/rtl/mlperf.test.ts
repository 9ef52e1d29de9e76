// The MLPerf Tiny reference shapes (test/host/mlperf.ts: KWS DS-CNN, IC ResNet-8, VWW
// MobileNetV1-0.25, AD autoencoder; random weights) on the 8x8 simulation configuration's
// core: min/max calibration on 4 random inputs, then every output element of every layer
// for 2 other random inputs compared with the integer reference bit for bit.
import { describe, expect, it } from 'vitest';
import { compile } from '../../host/compiler/compile.ts';
import {
  DESC_WORDS,
  checkProgram,
  decodeDescriptor,
  encodeDescriptor,
  extensionUse,
} from '../../host/compiler/program.ts';
import { BOARD_CONFIG, SIM_CONFIG } from '../../host/compiler/configs.ts';
import { numel } from '../../host/ir.ts';
import { importOnnx } from '../../host/onnx/import.ts';
import { quantizeInput, runInt } from '../../host/quant/intref.ts';
import { calibrate, quantizeModel } from '../../host/quant/quantize.ts';
import { runCore } from '../../host/sim/core.ts';
import { buildModel, randomArray } from '../host/helpers.ts';
import { mlperfModels } from '../host/mlperf.ts';
import { expectBitExact } from './compare.ts';

const INPUTS = 2;

describe('MLPerf Tiny reference shapes on npu_core sim Dim=8', () => {
  for (const [name, gen] of Object.entries(mlperfModels)) {
    it(`${name}: every layer bit-exact for ${INPUTS} random inputs`, async () => {
      const fm = importOnnx(buildModel(gen()), name);
      const size = numel(fm.input);
      const model = quantizeModel(fm, calibrate(fm, randomArray(4 * size, 21, 1, 0), 4), {
        model: name,
        calibration: 'random',
      });
      const x = randomArray(INPUTS * size, 22, 1, 0);
      const xs = Array.from({ length: INPUTS }, (_, n) =>
        quantizeInput(model, x.subarray(n * size, (n + 1) * size)),
      );
      const res = await runCore(compile(model, SIM_CONFIG), xs, {
        inputZeroPoint: model.inQ.zeroPoint,
        name,
      });
      expect(res.inferences).toHaveLength(INPUTS);
      res.inferences.forEach((inf, n) =>
        expectBitExact(model, runInt(model, xs[n]), inf.layers, `${name} input ${n}: `),
      );
    }, 600_000);
  }
});

// KWS DS-CNN on the iCEBreaker configuration's core (BOARD_CONFIG: Dim 4, AMEM 2560 words
// in EBR and the extension in WMEM's upper half, ARCHITECTURE section 3): its 16,000 live
// bytes do not fit the EBR alone, so the compiler puts every other layer's output in the
// extension (no descriptor reads and writes it); every layer's output bit-exact.
describe('KWS DS-CNN on npu_core with the iCEBreaker configuration (AMEM extension)', () => {
  it(`mlperf_kws: the program uses the extension and every layer is bit-exact for ${INPUTS} random inputs`, async () => {
    const fm = importOnnx(buildModel(mlperfModels.mlperf_kws()), 'mlperf_kws');
    const size = numel(fm.input);
    const model = quantizeModel(fm, calibrate(fm, randomArray(4 * size, 21, 1, 0), 4), {
      model: 'mlperf_kws',
      calibration: 'random',
    });
    const x = randomArray(INPUTS * size, 23, 1, 0);
    const xs = Array.from({ length: INPUTS }, (_, n) =>
      quantizeInput(model, x.subarray(n * size, (n + 1) * size)),
    );
    const image = compile(model, BOARD_CONFIG);
    expect(image.amemWordsUsed).toBeGreaterThan(BOARD_CONFIG.amemWords);
    const res = await runCore(image, xs, { inputZeroPoint: model.inQ.zeroPoint, name: 'mlperf_kws_board' });
    expect(res.inferences).toHaveLength(INPUTS);
    res.inferences.forEach((inf, n) =>
      expectBitExact(model, runInt(model, xs[n]), inf.layers, `mlperf_kws input ${n}: `),
    );
  }, 600_000);

  it('the core bench stops a program whose descriptor reads and writes the extension (+npu_legal)', async () => {
    const fm = importOnnx(buildModel(mlperfModels.mlperf_kws()), 'mlperf_kws');
    const model = quantizeModel(fm, calibrate(fm, randomArray(4 * numel(fm.input), 21, 1, 0), 4), {
      model: 'mlperf_kws',
      calibration: 'random',
    });
    const image = compile(model, BOARD_CONFIG);
    // the first descriptor that writes the extension now reads its first words too
    const i = Array.from({ length: image.descriptors.length / DESC_WORDS }, (_, k) =>
      decodeDescriptor(image.descriptors.subarray(k * DESC_WORDS, (k + 1) * DESC_WORDS))!,
    ).findIndex((f) => extensionUse(f, BOARD_CONFIG).writes);
    const f = decodeDescriptor(image.descriptors.subarray(i * DESC_WORDS, (i + 1) * DESC_WORDS))!;
    const d = encodeDescriptor({ ...f, inBase: BOARD_CONFIG.amemWords }, BOARD_CONFIG.dim);
    image.descriptors.set(d, i * DESC_WORDS);
    image.segments[0].set(d, i * DESC_WORDS);
    // the host refuses it; the bench, which runs what it is given, stops at the rule
    expect(() => checkProgram(image.segments[0], BOARD_CONFIG)).toThrow(
      /reads and writes the AMEM extension/,
    );
    const x = quantizeInput(model, randomArray(numel(fm.input), 24, 1, 0));
    await expect(
      runCore(image, [x], { inputZeroPoint: model.inQ.zeroPoint, name: 'mlperf_kws_clash' }),
    ).rejects.toThrow(/npu_core\.v:\d+: Assertion failed in TOP\.npu_core\.g_wmem_ext/);
  }, 600_000);
});
