// Quantization error per layer (host/quant/sqnr.ts) and `nnfpga quantize --report`.
import { describe, expect, it } from 'vitest';
import { fixtureModel } from '../../../host/bench/core.ts';
import { readNpy } from '../../../host/data/npy.ts';
import { loadOnnx } from '../../../host/onnx/import.ts';
import { quantizeInput, runInt } from '../../../host/quant/intref.ts';
import { layerSqnr } from '../../../host/quant/sqnr.ts';
import { runFloat } from '../../../host/ref/float.ts';
import { nnfpga } from '../../e2e/cli.ts';
import { fixture, fixtures, tempDir } from '../helpers.ts';

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
