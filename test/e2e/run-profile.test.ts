// `nnfpga run --profile` on the simulated board (SPEC section 2, revision 2): the device's
// per-layer counters beside the compiler's estimate and the ideal, SQNR per layer, and one
// inference's split into wire out, compute and wire in from the link's own byte counts.
import { describe, expect, it } from 'vitest';
import { compile } from '../../host/compiler/compile.ts';
import { SIM_CONFIG } from '../../host/compiler/configs.ts';
import { wireBytes } from '../../host/compiler/estimate.ts';
import type { Profile } from '../../host/profile.ts';
import { prepareModel, type RunReport } from '../../host/run.ts';
import { join } from 'node:path';
import { fixture, repoRoot } from '../host/helpers.ts';
import { firstInputs, nnfpga } from './cli.ts';

describe('nnfpga run --profile', () => {
  it('mlp --sim: counters, estimates within 10 %, SQNR per layer, wire/compute split from the bytes on the wire', async () => {
    const r = await nnfpga(
      'run',
      fixture('mlp.onnx'),
      '--input',
      firstInputs(8),
      '--calib',
      fixture('calib256.npy'),
      '--sim',
      '--profile',
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as RunReport & { profile: Profile };
    const p = out.profile;
    expect(out.summary.mismatches).toBe(0);
    expect(p.layers.map((l) => l.name)).toEqual(['/net/net.1/Gemm', '/net/net.3/Gemm', '/net/net.5/Gemm']);
    for (const l of p.layers) {
      expect(Object.keys(l)).toEqual(
        expect.arrayContaining([
          'name',
          'cycles',
          'estimated_cycles',
          'ideal_cycles',
          'utilization',
          'sqnr_db',
          'max_error_lsb',
        ]),
      );
      expect(Math.abs(l.estimated_cycles - l.cycles) / l.cycles).toBeLessThanOrEqual(0.1);
      expect(l.ideal_cycles).toBe(l.macs / 64);
      expect(l.utilization).toBeCloseTo(l.ideal_cycles / l.cycles, 12);
      expect(l.sqnr_db).toBeGreaterThan(20);
      expect(l.max_error_lsb).toBeGreaterThan(0);
    }
    // one INFER each way on the simulated board's 8 KiB frames; bytes x 10 x 8 clocks per bit
    const bytes = wireBytes(196, 4, { maxPayload: 8192, clocksPerBit: 8, clockHz: 12e6 });
    expect([p.wire_bytes_out, p.wire_bytes_in]).toEqual([bytes.out, bytes.in]);
    expect(p.wire_out_cycles).toBe(bytes.out * 10 * 8);
    expect(p.wire_in_cycles).toBe(bytes.in * 10 * 8);
    expect(p.compute_cycles).toBe(out.summary.cycles_per_inference);
    expect(p.worst_layer).toMatch(/Gemm/);
  });

  it('a program of two segments (the PyTorch ResNet fixture on sim8): every layer counted, residual adds included, the bytes of its WRITEs, RUNs and READ', async () => {
    const model = join(repoRoot, 'test/fixtures/pytorch/resnet.onnx');
    const r = await nnfpga(
      'run',
      model,
      '--input',
      firstInputs(2),
      '--calib',
      fixture('calib256.npy'),
      '--sim',
      '--profile',
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as RunReport & { profile: Profile };
    const p = out.profile;
    expect(out.summary.mismatches).toBe(0);
    expect(p.layers.filter((l) => l.kind === 'add')).toHaveLength(2);
    // the first segment's layers too: the device keeps only the last RUN's counters
    for (const l of p.layers) {
      expect(l.cycles, l.name).toBeGreaterThan(0);
      expect(Math.abs(l.estimated_cycles - l.cycles) / l.cycles, l.name).toBeLessThanOrEqual(0.1);
    }
    expect(p.layers.reduce((a, l) => a + l.cycles, 0)).toBeLessThan(p.compute_cycles);
    expect(Math.abs(p.estimated_run_cycles - p.compute_cycles) / p.compute_cycles).toBeLessThanOrEqual(0.1);
    // WRITE the input, per segment WRITE it and RUN, READ the output
    const { q } = prepareModel(
      model,
      fixture('calib256.npy'),
      () => ({ data: new Float32Array(), count: 0 }),
      () => {},
    );
    const image = compile(q, SIM_CONFIG);
    expect(image.segments).toHaveLength(2);
    const link = { maxPayload: 8192, clocksPerBit: 8, clockHz: 12e6 };
    const bytes = wireBytes(
      image.input.words,
      image.output.words,
      link,
      image.segments.map((s) => s.length),
    );
    expect([p.wire_bytes_out, p.wire_bytes_in]).toEqual([bytes.out, bytes.in]);
  });

  it('without a TARGET it is a usage error before any work', async () => {
    const r = await nnfpga('run', fixture('mlp.onnx'), '--input', firstInputs(2), '--profile');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--profile reads the device counters: give a TARGET/);
  });
});
