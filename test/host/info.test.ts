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

  it('counts F*F*C weights and F*F*C*OH*OW MACs for a depthwise conv, K*F*F*C/G for a grouped one', () => {
    const info = floatModelInfo(importOnnx(buildModel(generatedModels.depthwise_separable), 'g'));
    const byName = new Map(info.layers.map((l) => [l.name, l]));
    const dw = byName.get('depthwise')!;
    expect([dw.weights, dw.biases, dw.macs]).toEqual([3 * 3 * 8, 8, 3 * 3 * 8 * 5 * 5]);
    const g = byName.get('grouped')!;
    expect([g.weights, g.macs]).toEqual([(12 * 16 * 9) / 2, ((12 * 16 * 9) / 2) * 3 * 3]); // 16 in, 2 groups
  });

  it('shows the output Softmax as a host step with 0 MACs, and Add/Concat/Pad with 0 params', () => {
    const info = floatModelInfo(importOnnx(buildModel(generatedModels.depthwise_separable), 'g'));
    expect(info.layers[info.layers.length - 1]).toMatchObject({
      name: 'Softmax',
      op: 'Softmax',
      params: 0,
      macs: 0,
      activation_bytes_int8: 0,
      host: true,
    });
    const r = floatModelInfo(importOnnx(buildModel(generatedModels.residual_concat), 'g'));
    for (const op of ['Add', 'Concat'])
      expect(r.layers.find((l) => l.op === op)).toMatchObject({ params: 0, macs: 0 });
    expect(r.layers[r.layers.length - 1].op).toBe('LogSoftmax');
  });

  it('peak live activations: a residual branch stays alive across its block', () => {
    // x [4,8,8] = 256; a [8,8,8] = 512 is read by b and the add: while b runs, x is dead
    // but a and b are alive (1024); the add writes s beside a and b (1536)
    const r = floatModelInfo(importOnnx(buildModel(generatedModels.residual_concat), 'g'));
    expect(r.total.peak_activation_bytes_int8).toBe(512 * 3);
  });
});
