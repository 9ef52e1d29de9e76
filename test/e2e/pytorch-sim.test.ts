// The real PyTorch exports (test/fixtures/pytorch: depthwise-separable blocks, residual
// blocks, BatchNorm1d + ReLU6 + Softmax exported without constant folding, nn.ZeroPad2d
// and padded pools) through `nnfpga run --sim` as a user runs them: imported, quantized on
// calib256.npy, compiled for the configuration the simulated board reports (programs
// longer than its DMEM in several RUNs), uploaded over the pseudo-terminal; every output
// equals the integer reference bit for bit and the device picks PyTorch's class on at
// least 95 % of the fixture images.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../../host/data/npy.ts';
import type { ModelInfo } from '../../host/info.ts';
import type { RunReport } from '../../host/run.ts';
import { argmax } from '../../host/ref/float.ts';
import { fixture, repoRoot } from '../host/helpers.ts';
import { firstInputs, nnfpga } from './cli.ts';

const PYTORCH = path.join(repoRoot, 'test', 'fixtures', 'pytorch');
const N = 100;

describe('PyTorch exports: nnfpga run --sim', () => {
  const inputs = firstInputs(N);
  for (const name of ['ds_cnn', 'resnet', 'mlp_bn', 'pad_pool']) {
    it(`${name}: ${N} images bit-exact on the simulated board, PyTorch's class on >= 95 %`, async () => {
      const model = path.join(PYTORCH, `${name}.onnx`);
      const r = await nnfpga(
        'run',
        model,
        '--input',
        inputs,
        '--calib',
        fixture('calib256.npy'),
        '--sim',
        '--json',
      );
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as RunReport;
      expect(report.summary).toMatchObject({
        inputs: N,
        mismatches: 0,
        mismatched_inputs: 0,
        first_divergence: null,
      });
      const torch = readNpy(path.join(PYTORCH, `${name}.logits200.npy`)).data;
      let agree = 0;
      for (const x of report.results) {
        expect(x.output_q).toEqual(x.reference_output_q);
        if (x.prediction === argmax(torch.subarray(x.index * 10, x.index * 10 + 10))) agree++;
      }
      expect(agree / N).toBeGreaterThanOrEqual(0.95);
    }, 600_000);
  }

  it('info shows the Softmax of mlp_bn as a host step with 0 MACs', async () => {
    const r = await nnfpga('info', path.join(PYTORCH, 'mlp_bn.onnx'), '--json');
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout) as ModelInfo;
    expect(info.layers.at(-1)).toMatchObject({ op: 'Softmax', macs: 0, params: 0 });
    expect(info.total.params).toBe(784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10);
  });
});
