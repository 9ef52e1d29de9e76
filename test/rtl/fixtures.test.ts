// The fixture models (examples/: mlp.onnx, cnn_a.onnx) end to end on the core
// bench, both configurations: ONNX import, min/max calibration on 32 training images,
// quantization, compilation, and every layer's output for 6 test images compared with
// the integer reference bit for bit.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../host/compiler/compile.ts';
import { BOARD_CONFIG, SIM_CONFIG } from '../../host/compiler/configs.ts';
import { readNpy } from '../../host/data/npy.ts';
import { loadOnnx } from '../../host/onnx/import.ts';
import { quantizeInput, runInt } from '../../host/quant/intref.ts';
import { calibrate, quantizeModel } from '../../host/quant/quantize.ts';
import type { QModel } from '../../host/quant/types.ts';
import { REPO_ROOT } from '../../host/sim/verilator.ts';
import { runCore } from '../../host/sim/core.ts';
import { expectBitExact } from './compare.ts';

const FIX = path.resolve(REPO_ROOT, 'examples');
const IMAGES = 6;

export function quantizedFixture(
  name: string,
  calibCount = 32,
): { model: QModel; inputs: Float32Array; size: number } {
  const file = path.join(FIX, `${name}.onnx`);
  const fm = loadOnnx(file);
  const calib = readNpy(path.join(FIX, 'calib256.npy'));
  const stats = calibrate(fm, calib.data as Float32Array, calibCount);
  const model = quantizeModel(fm, stats, { model: file, calibration: 'calib256.npy' });
  const inputs = readNpy(path.join(FIX, 'inputs200.npy')).data as Float32Array;
  return { model, inputs, size: 28 * 28 };
}

describe.each([
  ['board Dim=4', BOARD_CONFIG],
  ['sim Dim=8', SIM_CONFIG],
])('fixtures on npu_core %s', (_label, cfg) => {
  for (const name of ['mlp', 'cnn_a']) {
    it(`${name}: every layer bit-exact for ${IMAGES} test images`, async () => {
      const { model, inputs, size } = quantizedFixture(name);
      const xs = Array.from({ length: IMAGES }, (_, n) =>
        quantizeInput(model, inputs.subarray(n * size, (n + 1) * size)),
      );
      const refs = xs.map((x) => runInt(model, x));
      const image = compile(model, cfg);
      const res = await runCore(image, xs, { inputZeroPoint: model.inQ.zeroPoint, name });
      expect(res.inferences).toHaveLength(IMAGES);
      res.inferences.forEach((inf, n) =>
        expectBitExact(model, refs[n], inf.layers, `${name} image ${n}: `, false),
      );
      // Layers whose AMEM region a later layer reused (ping-pong on the small board
      // memory) are checked as the last layer of a prefix of the model.
      const lost = res.inferences[0].layers.map((l, i) => (l === null ? i : -1)).filter((i) => i >= 0);
      for (const i of lost) {
        const prefix: QModel = {
          ...model,
          layers: model.layers.slice(0, i + 1),
          output: model.layers[i].output,
          outQ: model.layers[i].outQ,
        };
        const pr = await runCore(compile(prefix, cfg), xs, {
          inputZeroPoint: model.inQ.zeroPoint,
          name: `${name}-${i}`,
        });
        pr.inferences.forEach((inf, n) =>
          expectBitExact(
            prefix,
            refs[n].slice(0, i + 1),
            inf.layers,
            `${name} prefix ${i} image ${n}: `,
            false,
          ),
        );
      }
    });
  }
});
