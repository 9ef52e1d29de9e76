// `nnfpga run --sim --sim-ber 1e-4`: bits flipped on both UART lines of the simulated
// board; every corrupted or lost frame is detected and resent, the results stay exact
// and the report counts the retransmissions.
import { describe, expect, it } from 'vitest';
import type { RunReport } from '../../host/run.ts';
import { fixture } from '../host/helpers.ts';
import { firstInputs, nnfpga } from './cli.ts';

describe('nnfpga run --sim --sim-ber 1e-4', () => {
  it('cnn_a stays bit-exact over a noisy line, and the retransmissions are reported', async () => {
    const r = await nnfpga(
      'run',
      fixture('cnn_a.onnx'),
      '--input',
      firstInputs(12),
      '--calib',
      fixture('calib256.npy'),
      '--sim',
      '--sim-ber',
      '1e-4',
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const s = (JSON.parse(r.stdout) as RunReport).summary;
    expect(s).toMatchObject({ inputs: 12, mismatches: 0, mismatched_inputs: 0 });
    // about 20 kB cross the line both ways: at 1e-4 per bit some frames must be resent
    expect(s.link!.retransmissions).toBeGreaterThan(0);
    expect(s.link!.bytes_out).toBeGreaterThan(12 * 784);
  }, 600_000);
});
