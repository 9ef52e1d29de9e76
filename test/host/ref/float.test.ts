import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { readNpy } from '../../../host/data/npy.ts';
import { numel, type FloatModel } from '../../../host/ir.ts';
import { loadOnnx } from '../../../host/onnx/import.ts';
import { inferFloat } from '../../../host/ref/float.ts';
import { fixture, randomArray, tempDir, writeModel } from '../helpers.ts';
import { generatedModels } from '../models.ts';

/** Largest |float reference - ONNX Runtime| over `count` samples. */
async function maxDiffVsOrt(
  path: string,
  model: FloatModel,
  inputs: Float32Array,
  count: number,
): Promise<number> {
  const session = await ort.InferenceSession.create(readFileSync(path), { logSeverityLevel: 3 });
  const size = numel(model.input);
  let max = 0;
  for (let i = 0; i < count; i++) {
    const x = inputs.subarray(i * size, (i + 1) * size);
    const feeds = { [model.inputName]: new ort.Tensor('float32', Float32Array.from(x), [1, ...model.input]) };
    const out = (await session.run(feeds))[model.outputName].data as Float32Array;
    const ref = inferFloat(model, x);
    expect(ref.length).toBe(out.length);
    for (let k = 0; k < out.length; k++) max = Math.max(max, Math.abs(ref[k] - out[k]));
  }
  await session.release();
  return max;
}

describe('float reference', () => {
  const inputs = readNpy(fixture('inputs200.npy')).data as Float32Array;

  for (const name of ['mlp', 'cnn_a']) {
    it(`matches ONNX Runtime within 1e-4 on ${name}.onnx (200 inputs)`, async () => {
      const path = fixture(`${name}.onnx`);
      const diff = await maxDiffVsOrt(path, loadOnnx(path), inputs, 200);
      expect(diff).toBeLessThan(1e-4);
    });

    it(`matches PyTorch's logits within 1e-4 on ${name} (${name}.logits200.npy)`, () => {
      const model = loadOnnx(fixture(`${name}.onnx`));
      const logits = readNpy(fixture(`${name}.logits200.npy`));
      expect(logits.shape).toEqual([200, 10]);
      let max = 0;
      for (let i = 0; i < 200; i++) {
        const y = inferFloat(model, inputs.subarray(i * 784, (i + 1) * 784));
        for (let k = 0; k < 10; k++) max = Math.max(max, Math.abs(y[k] - logits.data[i * 10 + k]));
      }
      expect(max).toBeLessThan(1e-4);
    });
  }

  describe('generated models covering every supported op', () => {
    let dir: string;
    beforeAll(() => {
      dir = tempDir();
    });
    for (const [name, spec] of Object.entries(generatedModels)) {
      it(`matches ONNX Runtime within 1e-4 on ${name}`, async () => {
        const path = writeModel(dir, name, spec);
        const model = loadOnnx(path);
        const n = 8;
        const x = randomArray(n * numel(model.input), 100, 1, 0.2);
        const diff = await maxDiffVsOrt(path, model, x, n);
        expect(diff).toBeLessThan(1e-4);
      });
    }
  });
});
