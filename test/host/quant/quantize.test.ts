import { describe, expect, it } from 'vitest';
import { readNpy } from '../../../host/data/npy.ts';
import { InputError } from '../../../host/errors.ts';
import { applyHostStep, numel, type FloatModel } from '../../../host/ir.ts';
import { importOnnx, loadOnnx } from '../../../host/onnx/import.ts';
import { dequantize, quantizeInput, runInt } from '../../../host/quant/intref.ts';
import { parseQModel, serializeQModel } from '../../../host/quant/qmodel-io.ts';
import { addWeights, calibrate, chooseActQuant, quantizeModel } from '../../../host/quant/quantize.ts';
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

  it('marks AveragePool with count_include_pad = 0 and pads for the separable exclude-pad rule', () => {
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
    const pool = quantize(m, randomArray(36, 1), 1).layers[1] as QPool;
    expect(pool.excludePad).toBe(true);
    const incl = {
      ...spec,
      nodes: [
        spec.nodes[0],
        { ...spec.nodes[1], attribute: [...spec.nodes[1].attribute!, attr.i('count_include_pad', 1)] },
      ],
    };
    const p2 = quantize(importOnnx(buildModel(incl), 'g'), randomArray(36, 1), 1).layers[1] as QPool;
    expect(p2.excludePad).toBeUndefined();
  });

  it('weighs a residual add by integers in the ratio of the input scales', () => {
    const { weights, m } = addWeights(0.02, 0.05, 0.04);
    expect(weights[1] / weights[0]).toBeCloseTo(2.5, 10); // 0.05 / 0.02 exactly: 2/5
    expect(m * weights[0]).toBeCloseTo(0.02 / 0.04, 12);
    // an irrational ratio: the best within [1, 127] is within 1/127^2 or so
    const r = addWeights(0.03, 0.03 * Math.SQRT2, 0.05);
    expect(Math.max(...r.weights)).toBeLessThanOrEqual(127);
    expect(Math.abs(r.weights[1] / r.weights[0] - Math.SQRT2)).toBeLessThan(1e-4);
  });

  it('round-trips a quantized model through its file format exactly', () => {
    const back = parseQModel(serializeQModel(q), 'q.json');
    expect(back).toEqual(q);
    expect(back.layers[0].kind === 'conv' && back.layers[0].weights instanceof Int8Array).toBe(true);
  });

  it('round-trips graph models (add, concat, pad, grouped convs, exclude-pad pools, input transform, host step)', () => {
    for (const name of ['residual_concat', 'pad_pools_norm', 'depthwise_separable', 'concat3_pool']) {
      const m = importOnnx(buildModel(generatedModels[name]), name);
      const qm = quantize(m, randomArray(4 * numel(m.input), 2, 1, 0.2), 4);
      expect(parseQModel(serializeQModel(qm), `${name}.json`)).toEqual(qm);
    }
    const kinds = (n: string) =>
      quantize(importOnnx(buildModel(generatedModels[n]), n), randomArray(256, 2), 1).layers.map(
        (l) => l.kind,
      );
    expect(kinds('residual_concat')).toEqual(['conv', 'conv', 'add', 'conv', 'maxpool', 'concat', 'dense']);
  });

  it('refuses a wrong version, a wrong format and corrupt contents with one clear InputError', () => {
    const text = serializeQModel(q);
    expect(() => parseQModel(text.replace('"version": 2', '"version": 3'), 'q.json')).toThrow(
      /version 3 is not supported \(this build reads versions 1 and 2\); re-run 'nnfpga quantize'/,
    );
    expect(() => parseQModel('{"format": "other"}', 'q.json')).toThrow(/not an nnfpga quantized model/);
    expect(() => parseQModel(text.slice(0, 500), 'q.json')).toThrow(/not valid JSON/);
    const doc = JSON.parse(text);
    doc.layers[0].weights.length = 5;
    expect(() => parseQModel(JSON.stringify(doc), 'q.json')).toThrow(InputError);
  });

  it('loads a version 1 file (a chain) as the same graph', () => {
    const doc = JSON.parse(serializeQModel(q));
    doc.version = 1;
    for (const l of doc.layers) {
      delete l.inputs;
      delete l.group;
    }
    expect(parseQModel(JSON.stringify(doc), 'v1.json')).toEqual(q);
  });

  it('refuses a layer whose output shape does not follow from its parameters, naming it', () => {
    const doc = JSON.parse(serializeQModel(q));
    doc.layers[1].output = [8, 13, 14];
    doc.layers[2].input = [8, 13, 14];
    expect(() => parseQModel(JSON.stringify(doc), 'q.json')).toThrow(
      /layer 1 '.*': output \[8, 13, 14\] does not follow from its input \[8, 28, 28\] and parameters \(expected \[8, 14, 14\]\)\); re-create it/,
    );
    const bad = JSON.parse(serializeQModel(q));
    bad.layers[2].inputs = [5];
    expect(() => parseQModel(JSON.stringify(bad), 'q.json')).toThrow(/layer 2 '.*'\.inputs/);
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
        const d = applyHostStep(qm.hostStep, dequantize(outs[outs.length - 1], qm.outQ), qm.output);
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
