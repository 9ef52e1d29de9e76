import { describe, expect, it } from 'vitest';
import { floatModelInfo, qModelInfo } from '../../host/info.ts';
import { importOnnx, loadOnnx } from '../../host/onnx/import.ts';
import { readNpy } from '../../host/data/npy.ts';
import { calibrate, quantizeModel } from '../../host/quant/quantize.ts';
import { buildModel, fixture } from './helpers.ts';
import { generatedModels } from './models.ts';

describe('info', () => {
  it('counts textbook parameters and MACs for the MLP: N*M weights and N biases per dense layer', () => {
    const info = floatModelInfo(loadOnnx(fixture('mlp.onnx')));
    const dense = info.layers.filter((l) => l.op === 'Gemm');
    expect(dense.map((l) => [l.weights, l.biases, l.macs])).toEqual([
      [784 * 128, 128, 784 * 128],
      [128 * 64, 64, 128 * 64],
      [64 * 10, 10, 64 * 10],
    ]);
    expect(info.total.params).toBe(109386); // mlp.meta.json
    expect(info.total.flops).toBe(2 * info.total.macs);
    expect(info.layers[0]).toMatchObject({ op: 'Flatten', params: 0, macs: 0 });
  });

  it('counts K*F*F*D weights, K biases and K*F*F*D*OH*OW MACs per conv for cnn_a; pooling has 0', () => {
    const info = floatModelInfo(loadOnnx(fixture('cnn_a.onnx')));
    const [c1, p1, c2] = info.layers;
    expect([c1.weights, c1.biases, c1.macs]).toEqual([8 * 3 * 3 * 1, 8, 8 * 9 * 28 * 28]);
    expect([c2.weights, c2.biases, c2.macs]).toEqual([16 * 3 * 3 * 8, 16, 16 * 72 * 14 * 14]);
    expect([p1.params, p1.macs, p1.flops]).toEqual([0, 0, 0]);
    expect(info.total.params).toBe(9098); // cnn_a.meta.json
    expect(c1.weight_bytes_int8).toBe(72 + 4 * 8);
    expect(c1.weight_bytes_fp32).toBe(4 * 80);
    expect(c1.activation_bytes_int8).toBe(8 * 28 * 28);
    expect(c1.activation_bytes_fp32).toBe(4 * 8 * 28 * 28);
  });

  it('counts no biases for a Conv stored without one, and the folded bias after BatchNormalization', () => {
    const a = floatModelInfo(importOnnx(buildModel(generatedModels.conv_stride_pad_nobias), 'g'));
    expect([a.layers[0].weights, a.layers[0].biases, a.layers[0].params]).toEqual([4 * 3 * 3 * 2, 0, 72]);
    const b = floatModelInfo(importOnnx(buildModel(generatedModels.conv_bn_maxpool_gap), 'g'));
    expect(b.layers[0].params).toBe(6 * 2 * 9 + 6);
  });

  it('reports the same totals for a quantized model as for its ONNX model', () => {
    const m = loadOnnx(fixture('cnn_a.onnx'));
    const calib = readNpy(fixture('calib256.npy'));
    const q = quantizeModel(m, calibrate(m, calib.data as Float32Array, 16), {
      model: 'cnn_a.onnx',
      calibration: 'c',
    });
    const a = floatModelInfo(m).total;
    const b = qModelInfo(q, 'q').total;
    expect([b.params, b.macs, b.weight_bytes_int8]).toEqual([a.params, a.macs, a.weight_bytes_int8]);
  });
});
