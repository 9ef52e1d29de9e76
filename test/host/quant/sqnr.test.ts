// Quantization error per layer (host/quant/sqnr.ts) and `nnfpga quantize --report`.
import { describe, expect, it } from 'vitest';
import { fixtureModel } from '../../../host/bench/core.ts';
import { readNpy } from '../../../host/data/npy.ts';
import { numel } from '../../../host/ir.ts';
import { importOnnx, loadOnnx } from '../../../host/onnx/import.ts';
import { addInt, quantizeInput, runInt } from '../../../host/quant/intref.ts';
import { calibrate, quantizeModel } from '../../../host/quant/quantize.ts';
import { layerSqnr } from '../../../host/quant/sqnr.ts';
import type { ActQuant, QAdd } from '../../../host/quant/types.ts';
import { runFloat, transformInput } from '../../../host/ref/float.ts';
import { nnfpga } from '../../e2e/cli.ts';
import { buildModel, fixture, fixtures, randomArray, tempDir } from '../helpers.ts';
import { generatedModels } from '../models.ts';

/** q = clamp(round half to even(x / s) + zp). */
function quantizeTo(x: ArrayLike<number>, q: ActQuant): Int8Array {
  return Int8Array.from(x, (v) => {
    const u = v / q.scale;
    let r = Math.round(u);
    if (r - u === 0.5 && r % 2 !== 0) r -= 1;
    return Math.max(-128, Math.min(127, r + q.zeroPoint));
  });
}

describe('SQNR per layer', () => {
  const { model } = fixtureModel('cnn_a', fixtures);
  const float = loadOnnx(fixture('cnn_a.onnx'));
  const x = readNpy(fixture('inputs200.npy')).data as Float32Array;
  const r = layerSqnr(model, float, x, 20);

  it('the last layer: 10 log10(sum f^2 / sum (f - dequantized int8)^2) and the largest error in LSBs, as computed directly', () => {
    let sig = 0;
    let noise = 0;
    let lsb = 0;
    const { scale, zeroPoint } = model.outQ;
    for (let s = 0; s < 20; s++) {
      const xs = x.subarray(s * 784, (s + 1) * 784);
      const q = runInt(model, quantizeInput(model, xs)).at(-1)!;
      const f = runFloat(float, xs).at(-1)!;
      for (let k = 0; k < q.length; k++) {
        const e = f[k] - scale * (q[k] - zeroPoint);
        sig += f[k] ** 2;
        noise += e ** 2;
        lsb = Math.max(lsb, Math.abs(e) / scale);
      }
    }
    expect(r.layers.at(-1)!.sqnr_db).toBeCloseTo(10 * Math.log10(sig / noise), 9);
    expect(r.layers.at(-1)!.max_error_lsb).toBeCloseTo(lsb, 9);
  });

  it('the first layer alone equals the first layer from the input; the worst layer has the lowest SQNR alone', () => {
    expect(r.layers[0].layer_sqnr_db).toBeCloseTo(r.layers[0].sqnr_db!, 9);
    const lowest = r.layers.reduce((a, b) => (b.layer_sqnr_db! < a.layer_sqnr_db! ? b : a));
    expect(r.worst_layer).toBe(lowest.name);
    // requantization to int8 costs at least half an LSB somewhere in every layer
    for (const l of r.layers) expect(l.layer_max_error_lsb).toBeGreaterThanOrEqual(0.45);
  });

  it('a graph model: each layer alone reads every input quantized as it reads it; the loss is from its worst input', () => {
    const fm = importOnnx(buildModel(generatedModels.residual_concat), 'residual_concat');
    const size = numel(fm.input);
    const data = randomArray(8 * size, 5, 1, 0.2);
    const q = quantizeModel(fm, calibrate(fm, data, 8), { model: 'residual_concat', calibration: 'random' });
    const g = layerSqnr(q, fm, data, 8);
    expect(g.layers.map((l) => l.name)).toEqual(q.layers.map((l) => l.name));
    const i = q.layers.findIndex((l) => l.kind === 'add');
    const add = q.layers[i] as QAdd;
    const [a, b] = add.inputs;
    // the add alone, directly: both float operands quantized with the add's own input quantizations
    let sig = 0;
    let noise = 0;
    for (let s = 0; s < 8; s++) {
      const f = runFloat(fm, data.subarray(s * size, (s + 1) * size));
      const fa = f[fm.layers.findIndex((l) => l.name === q.layers[a].name)];
      const fb = f[fm.layers.findIndex((l) => l.name === q.layers[b].name)];
      const fy = f[fm.layers.findIndex((l) => l.name === add.name)];
      const y = addInt(add, quantizeTo(fa, add.inQ), quantizeTo(fb, add.inQB));
      for (let k = 0; k < y.length; k++) {
        sig += fy[k] ** 2;
        noise += (fy[k] - add.outQ.scale * (y[k] - add.outQ.zeroPoint)) ** 2;
      }
    }
    expect(g.layers[i].layer_sqnr_db).toBeCloseTo(10 * Math.log10(sig / noise), 9);
    const worstIn = Math.min(g.layers[a].sqnr_db!, g.layers[b].sqnr_db!);
    expect(g.layers[i].loss_db).toBeCloseTo(worstIn - g.layers[i].sqnr_db!, 9);
  });

  it('with input normalization, the input is measured after it (what the model quantizes)', () => {
    const fm = importOnnx(buildModel(generatedModels.pad_pools_norm), 'pad_pools_norm');
    expect(fm.inputTransform).toBeDefined();
    const size = numel(fm.input);
    const data = randomArray(4 * size, 6, 1, 0.2);
    const q = quantizeModel(fm, calibrate(fm, data, 4), { model: 'pad_pools_norm', calibration: 'random' });
    let sig = 0;
    let noise = 0;
    for (let s = 0; s < 4; s++) {
      const x = data.subarray(s * size, (s + 1) * size);
      const xt = transformInput(fm.inputTransform, x);
      const xq = quantizeInput(q, x);
      for (let k = 0; k < size; k++) {
        sig += xt[k] ** 2;
        noise += (xt[k] - q.inQ.scale * (xq[k] - q.inQ.zeroPoint)) ** 2;
      }
    }
    expect(layerSqnr(q, fm, data, 4).input_sqnr_db).toBeCloseTo(10 * Math.log10(sig / noise), 9);
  });

  it('quantize --report prints the table and names the worst layer; --json carries it', async () => {
    const out = `${tempDir()}/mlp.nnq.json`;
    const r1 = await nnfpga(
      'quantize',
      fixture('mlp.onnx'),
      '--calib',
      fixture('calib256.npy'),
      '-o',
      out,
      '--report',
    );
    expect(r1.code, r1.stderr).toBe(0);
    expect(r1.stdout).toMatch(/SQNR dB/);
    expect(r1.stdout).toMatch(
      /most accuracy lost in: \/net\/net\.\d\/Gemm \(int8 against float over 256 inputs\)/,
    );
    const r2 = await nnfpga(
      'quantize',
      fixture('mlp.onnx'),
      '--calib',
      fixture('calib256.npy'),
      '-o',
      out,
      '--report',
      '--json',
    );
    const j = JSON.parse(r2.stdout) as { sqnr: { layers: { sqnr_db: number }[] } };
    expect(j.sqnr.layers).toHaveLength(3);
  });
});
