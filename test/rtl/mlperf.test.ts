// The MLPerf Tiny reference shapes (host/bench/mlperf.ts: KWS DS-CNN, IC ResNet-8, VWW
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
import { runInt } from '../../host/quant/intref.ts';
import { runCore } from '../../host/sim/core.ts';
import { mlperfInputs, mlperfModels, mlperfQModel, type MlperfName } from '../../host/bench/mlperf.ts';
import { expectBitExact } from './compare.ts';

const INPUTS = 2;

describe('MLPerf Tiny reference shapes on npu_core sim Dim=8', () => {
  for (const name of Object.keys(mlperfModels) as MlperfName[]) {
    it(`${name}: every layer bit-exact for ${INPUTS} random inputs`, async () => {
      const model = mlperfQModel(name);
      const xs = mlperfInputs(model, INPUTS, 22);
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
    const model = mlperfQModel('mlperf_kws');
    const xs = mlperfInputs(model, INPUTS, 23);
    const image = compile(model, BOARD_CONFIG);
    expect(image.amemWordsUsed).toBeGreaterThan(BOARD_CONFIG.amemWords);
    const res = await runCore(image, xs, { inputZeroPoint: model.inQ.zeroPoint, name: 'mlperf_kws_board' });
    expect(res.inferences).toHaveLength(INPUTS);
    res.inferences.forEach((inf, n) =>
      expectBitExact(model, runInt(model, xs[n]), inf.layers, `mlperf_kws input ${n}: `),
    );
  }, 600_000);

  it('the core bench stops a program whose descriptor reads and writes the extension (+npu_legal)', async () => {
    const model = mlperfQModel('mlperf_kws');
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
    const [x] = mlperfInputs(model, 1, 24);
    await expect(
      runCore(image, [x], { inputZeroPoint: model.inQ.zeroPoint, name: 'mlperf_kws_clash' }),
    ).rejects.toThrow(/npu_core\.v:\d+: Assertion failed in TOP\.npu_core\.g_wmem_ext/);
  }, 600_000);
});
