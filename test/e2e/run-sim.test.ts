// `nnfpga run --sim` end to end, as a user runs it: the fixture is quantized, compiled for
// the configuration the simulated board reports, uploaded over the pseudo-terminal and
// every output compared with the integer reference. Zero mismatches, no retransmissions.
import { describe, expect, it } from 'vitest';
import type { RunReport } from '../../host/run.ts';
import { fixture } from '../host/helpers.ts';
import { firstInputs, nnfpga } from './cli.ts';

describe('nnfpga run --sim', () => {
  const inputs = firstInputs(24);
  for (const model of ['cnn_a', 'mlp']) {
    it(`${model}: every output of 24 fixture images equals the integer reference bit for bit`, async () => {
      const r = await nnfpga(
        'run',
        fixture(`${model}.onnx`),
        '--input',
        inputs,
        '--calib',
        fixture('calib256.npy'),
        '--sim',
        '--json',
      );
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as RunReport;
      expect(report.results).toHaveLength(24);
      expect(report.summary).toMatchObject({ inputs: 24, mismatches: 0, mismatched_inputs: 0 });
      expect(report.summary.first_divergence).toBeNull();
      expect(report.summary.cycles_per_inference).toBeGreaterThan(0);
      expect(report.summary.link?.retransmissions).toBe(0);
      for (const x of report.results) {
        expect(x.output_q).toEqual(x.reference_output_q);
        expect(x.prediction).toBe(x.reference_prediction);
      }
    });
  }
});
