import { describe, expect, it } from 'vitest';
import { readNpy } from '../../../host/data/npy.ts';
import { InputError, UnsupportedOpError } from '../../../host/errors.ts';
import { numel, type FloatModel } from '../../../host/ir.ts';
import { importOnnx, loadOnnx } from '../../../host/onnx/import.ts';
import { dequantize, quantizeInput, runInt } from '../../../host/quant/intref.ts';
import { parseQModel, serializeQModel } from '../../../host/quant/qmodel-io.ts';
import { calibrate, chooseActQuant, quantizeModel } from '../../../host/quant/quantize.ts';
import type { QConv, QDense, QModel, QPool } from '../../../host/quant/types.ts';
import { argmax, inferFloat } from '../../../host/ref/float.ts';
import { attr, buildModel, fixture, node, randomArray, rawFloatTensor } from '../helpers.ts';
import { generatedModels } from '../models.ts';

const calib = readNpy(fixture('calib256.npy')).data as Float32Array;
const inputs = readNpy(fixture('inputs200.npy')).data as Float32Array;
const labels = readNpy(fixture('labels200.npy')).data;

function quantize(m: FloatModel, data: Float32Array, count: number): QModel {
  return quantizeModel(m, calibrate(m, data, count), { model: 'm.onnx', calibration: 'c.npy' });
}

describe('quantization', () => {
  const cnn = loadOnnx(fixture('cnn_a.onnx'));
  const q = quantize(cnn, calib, 256);

  it('chooses activation ranges that include 0 and map min/max to the int8 ends', () => {
    expect(chooseActQuant(0, 1)).toEqual({ scale: 1 / 255, zeroPoint: -128 });
    const a = chooseActQuant(-1, 3); // scale 4/255, zp = round(-128 + 63.75) = -64
    expect(a.scale).toBeCloseTo(4 / 255, 15);
    expect(a.zeroPoint).toBe(-64);
    expect(chooseActQuant(2, 5).zeroPoint).toBe(-128); // widened to [0, 5]
  });

  it('quantizes weights per output channel, symmetric, in [-127, 127] with each channel reaching 127', () => {
    const conv = q.layers[0] as QConv;
    const per = conv.weights.length / conv.output[0];
    for (let o = 0; o < conv.output[0]; o++) {
      const ch = conv.weights.subarray(o * per, (o + 1) * per);
      expect(Math.max(...Array.from(ch, Math.abs))).toBe(127);
      expect(Math.min(...ch)).toBeGreaterThanOrEqual(-127);
    }
  });

  it('gives int32 biases at scale s_in * s_w[o] and multipliers M = s_in * s_w[o] / s_out', () => {
    const fl = cnn.layers[0];
    const conv = q.layers[0] as QConv;
    if (fl.kind !== 'conv') throw new Error('expected conv');
    for (let o = 0; o < 8; o++) {
      const sb = conv.inQ.scale * conv.weightScale[o];
      expect(Math.abs(conv.bias[o] * sb - fl.bias[o])).toBeLessThanOrEqual(sb / 2);
      const m = sb / conv.outQ.scale;
      // 16 significant bits of M0 (the devices' requantizer): M0 = m * 2^15
      expect(conv.mult[o].m0 % 2 ** 15).toBe(0);
      expect(Math.abs(conv.mult[o].m0 * 2 ** -conv.mult[o].s - m) / m).toBeLessThanOrEqual(2 ** -16);
    }
    expect(q.m0Bits).toBe(16);
  });

  it('keeps the input quantization through pooling and sets lo = zero point for a fused Relu', () => {
    const pool = q.layers[1] as QPool;
    expect(pool.outQ).toEqual(pool.inQ);
    expect(pool.inQ).toEqual(q.layers[0].outQ);
    expect(q.layers[0].lo).toBe(q.layers[0].outQ.zeroPoint);
    expect((q.layers[4] as QDense).input).toEqual([16, 7, 7]); // dense reads the pre-Flatten tensor
  });

  it('gives average pooling M = 1/(kh*kw) and Clip bounds in the output domain', () => {
    const m = importOnnx(buildModel(generatedModels.avgpool_reversed), 'g');
    const x = randomArray(16 * numel(m.input), 3, 1, 0.2);
    const qa = quantize(m, x, 16);
    const pool = qa.layers[1] as QPool;
    expect(pool.mult).toEqual({ m0: Math.round((2 ** 16 * 8) / 9) * 2 ** 15, s: 34 }); // 1/9 = (8/9) * 2^-3
    expect(pool.lo).toBe(pool.outQ.zeroPoint); // Clip(0, inf) fused into the first pool
    expect(pool.lo).toBeGreaterThan(-128);
    const g = quantize(importOnnx(buildModel(generatedModels.gemm_trans_clip), 'g'), randomArray(160, 4), 16);
    const d = g.layers[0];
    expect(d.hi).toBe(Math.min(127, d.outQ.zeroPoint + Math.round(0.6 / d.outQ.scale))); // Clip(0, 0.6)
  });

  it('refuses AveragePool with count_include_pad = 0 and non-zero pads', () => {
    const spec = {
      input: { name: 'x', dims: [1, 1, 6, 6] },
      initializers: [rawFloatTensor('w', [2, 1, 1, 1], randomArray(2, 1))],
      nodes: [
        node('Conv', ['x', 'w'], ['c']),
        node(
          'AveragePool',
          ['c'],
          ['y'],
          [attr.ints('kernel_shape', [3, 3]), attr.ints('pads', [1, 1, 1, 1])],
          'avg',
        ),
      ],
    };
    const m = importOnnx(buildModel(spec), 'g');
    expect(() => quantize(m, randomArray(36, 1), 1)).toThrow(UnsupportedOpError);
    expect(() => quantize(m, randomArray(36, 1), 1)).toThrow(/count_include_pad = 0/);
  });

  it('round-trips a quantized model through its file format exactly', () => {
    const back = parseQModel(serializeQModel(q), 'q.json');
    expect(back).toEqual(q);
    expect(back.layers[0].kind === 'conv' && back.layers[0].weights instanceof Int8Array).toBe(true);
  });

  it('refuses a wrong version, a wrong format and corrupt contents with one clear InputError', () => {
    const text = serializeQModel(q);
    expect(() => parseQModel(text.replace('"version": 1', '"version": 2'), 'q.json')).toThrow(
      /version 2 is not supported/,
    );
    expect(() => parseQModel('{"format": "other"}', 'q.json')).toThrow(/not an nnfpga quantized model/);
    expect(() => parseQModel(text.slice(0, 500), 'q.json')).toThrow(/not valid JSON/);
    const doc = JSON.parse(text);
    doc.layers[0].weights.length = 5;
    expect(() => parseQModel(JSON.stringify(doc), 'q.json')).toThrow(InputError);
  });

  it('keeps the integer reference within 1 point of the float reference on the 200 fixture inputs', () => {
    for (const name of ['mlp', 'cnn_a']) {
      const m = loadOnnx(fixture(`${name}.onnx`));
      const qm = quantize(m, calib, 256);
      let okF = 0;
      let okI = 0;
      for (let i = 0; i < 200; i++) {
        const x = inputs.subarray(i * 784, (i + 1) * 784);
        const outs = runInt(qm, quantizeInput(qm, x));
        if (argmax(inferFloat(m, x)) === labels[i]) okF++;
        if (argmax(outs[outs.length - 1]) === labels[i]) okI++;
      }
      expect(Math.abs(okF - okI)).toBeLessThanOrEqual(2); // 1 point of 200
    }
  });

  for (const [name, spec] of Object.entries(generatedModels)) {
    it(`keeps the integer reference close to the float reference on ${name}`, () => {
      const m = importOnnx(buildModel(spec), name);
      const n = 32;
      const x = randomArray(n * numel(m.input), 9, 1, 0.2);
      const qm = quantize(m, x, n);
      let err = 0;
      let range = 0;
      for (let i = 0; i < n; i++) {
        const xi = x.subarray(i * numel(m.input), (i + 1) * numel(m.input));
        const f = inferFloat(m, xi);
        const outs = runInt(qm, quantizeInput(qm, xi));
        const d = dequantize(outs[outs.length - 1], qm.outQ);
        for (let k = 0; k < f.length; k++) {
          err = Math.max(err, Math.abs(d[k] - f[k]));
          range = Math.max(range, Math.abs(f[k]));
        }
      }
      // Several int8 roundings accumulate: allow a few percent of the output range.
      expect(err).toBeLessThan(0.05 * range + 2 * qm.outQ.scale);
    });
  }
});
