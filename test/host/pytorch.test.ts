// Real PyTorch exports (test/fixtures/pytorch/export.py: Fashion-MNIST models trained
// briefly, exported by torch.onnx 1.13 at opset 13): each imports with the layers it was
// written with, its float reference reproduces PyTorch's outputs for the 200 fixture
// images, and its int8 reference (calibrated on calib256.npy) picks PyTorch's class on
// at least 95 % of them.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../../host/data/npy.ts';
import type { FloatModel } from '../../host/ir.ts';
import { loadOnnx } from '../../host/onnx/import.ts';
import { quantizeInput, runInt } from '../../host/quant/intref.ts';
import { calibrate, quantizeModel } from '../../host/quant/quantize.ts';
import { argmax, inferFloat } from '../../host/ref/float.ts';
import { fixture, repoRoot } from './helpers.ts';

export const PYTORCH = path.join(repoRoot, 'test', 'fixtures', 'pytorch');
const inputs = readNpy(fixture('inputs200.npy')).data as Float32Array;
const calib = readNpy(fixture('calib256.npy')).data as Float32Array;

const summary = (m: FloatModel) =>
  m.layers.map(
    (l) =>
      `${l.kind}${l.kind === 'conv' && l.group > 1 ? `/g${l.group}` : ''}${l.act.ops.length ? '+' + l.act.ops.join('+') : ''}`,
  );

const structure: Record<string, (m: FloatModel) => void> = {
  ds_cnn: (m) =>
    expect(summary(m)).toEqual([
      'conv+Relu',
      'conv/g16+Relu',
      'conv+Relu',
      'conv/g32+Clip',
      'conv+Relu',
      'avgpool',
      'reshape',
      'dense',
    ]),
  resnet: (m) => {
    expect(summary(m).filter((s) => s.startsWith('add'))).toEqual(['add+Relu', 'add+Relu']);
    const adds = m.layers.filter((l) => l.kind === 'add');
    // the identity block adds the stem's output, the stride-2 block a 1x1 conv of it
    expect(adds[0].inputs).toContain(m.layers[0].name);
    expect(m.layers.find((l) => l.name === adds[1].inputs[1])).toMatchObject({
      kind: 'conv',
      kernel: [1, 1],
      stride: [2, 2],
    });
  },
  mlp_bn: (m) => {
    expect(summary(m)).toEqual(['reshape', 'dense+Clip', 'dense+Clip', 'dense']);
    expect(m.layers.filter((l) => l.kind === 'dense' && l.foldedBatchNorm)).toHaveLength(2);
    expect(m.hostStep).toEqual({ op: 'Softmax', axis: 0, flatten: false });
    // (x - 0.2860) / 0.3530
    expect(m.inputTransform?.scale[0]).toBeCloseTo(1 / 0.353, 5);
    expect(m.inputTransform?.offset[0]).toBeCloseTo(-0.286 / 0.353, 5);
  },
  pad_pool: (m) => {
    expect(summary(m)).toEqual([
      'conv+Relu',
      'maxpool',
      'conv+Relu',
      'avgpool',
      'pad',
      'maxpool',
      'avgpool',
      'reshape',
      'dense',
    ]);
    expect(m.layers[0]).toMatchObject({ input: [1, 28, 28], pads: [0, 1, 1, 2] }); // ZeroPad2d((1, 2, 0, 1))
    expect(m.layers[3]).toMatchObject({ pads: [1, 1, 1, 1], countIncludePad: false });
    expect(m.layers[6]).toMatchObject({ pads: [1, 1, 1, 1], countIncludePad: true });
  },
};

describe('PyTorch exports', () => {
  for (const name of Object.keys(structure)) {
    it(`${name}: imports as exported, float reference = PyTorch within 1e-4, int8 picks PyTorch's class on >= 95 %`, () => {
      const m = loadOnnx(path.join(PYTORCH, `${name}.onnx`));
      structure[name](m);
      const torch = readNpy(path.join(PYTORCH, `${name}.logits200.npy`));
      expect(torch.shape).toEqual([200, 10]);
      const q = quantizeModel(m, calibrate(m, calib, 256), { model: name, calibration: 'calib256.npy' });
      let max = 0;
      let agree = 0;
      for (let i = 0; i < 200; i++) {
        const x = inputs.subarray(i * 784, (i + 1) * 784);
        const y = inferFloat(m, x);
        const t = torch.data.subarray(i * 10, (i + 1) * 10);
        for (let k = 0; k < 10; k++) max = Math.max(max, Math.abs(y[k] - t[k]));
        const outs = runInt(q, quantizeInput(q, x));
        if (argmax(outs[outs.length - 1]) === argmax(t)) agree++;
      }
      expect(max).toBeLessThan(1e-4);
      expect(agree / 200).toBeGreaterThanOrEqual(0.95);
    });
  }
});
