// `nnfpga run --profile` on the simulated board (SPEC section 2, revision 2): the device's
// per-layer counters beside the compiler's estimate and the ideal, SQNR per layer, and one
// inference's split into wire out, compute and wire in from the link's own byte counts.
import { describe, expect, it } from 'vitest';
import { fixtureModel } from '../../host/bench/core.ts';
import { compile } from '../../host/compiler/compile.ts';
import { SIM_CONFIG } from '../../host/compiler/configs.ts';
import { wireBytes } from '../../host/compiler/estimate.ts';
import type { Profile } from '../../host/profile.ts';
import { prepareModel, type RunReport } from '../../host/run.ts';
import { SIM_BOARD_PARAMS } from '../../host/sim/board.ts';
import { attr, fixture, fixtures, tempDir, writeModel } from '../host/helpers.ts';
import { Builder } from '../../host/bench/mlperf.ts';
import { firstInputs, nnfpga } from './cli.ts';

const simLink = { maxPayload: 8192, clocksPerBit: SIM_BOARD_PARAMS.ClksPerBit, clockHz: 12e6 };

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
    // one INFER each way on the simulated board's 8 KiB frames: the 784 input bytes and 17
    // of framing and fields out, the 10 outputs, the cycle count and 8 of framing back;
    // bytes x 10 bits x the simulated board's clocks per bit
    const cpb = SIM_BOARD_PARAMS.ClksPerBit;
    const bytes = wireBytes(compile(fixtureModel('mlp', fixtures).model, SIM_CONFIG), simLink);
    expect(bytes).toEqual({ out: 784 + 17, in: 10 + 4 + 8 });
    expect([p.wire_bytes_out, p.wire_bytes_in]).toEqual([bytes.out, bytes.in]);
    expect(p.wire_out_cycles).toBe(bytes.out * 10 * cpb);
    expect(p.wire_in_cycles).toBe(bytes.in * 10 * cpb);
    expect(p.compute_cycles).toBe(out.summary.cycles_per_inference);
    expect(p.worst_layer).toMatch(/Gemm/);
  });

  it('a program of two segments (a residual net of 20 descriptors on sim8): every layer counted, residual adds included, the bytes of its WRITEs, RUNs and READ', async () => {
    // stem conv 3x3 s2 1->8 (14x14), six residual blocks [conv 3x3, ReLU, conv 3x3, Add,
    // ReLU], average pool, dense 8->10: more descriptors than sim8's 16 per program
    const b = new Builder(7);
    let x = b.relu(b.conv('input', 'stem', 1, 8, [3, 3], { stride: 2, pads: [1, 1, 1, 1] }), 'stem_relu');
    for (let i = 1; i <= 6; i++) {
      const y = b.relu(b.conv(x, `b${i}_conv1`, 8, 8, [3, 3], { pads: [1, 1, 1, 1] }), `b${i}_relu1`);
      const z = b.conv(y, `b${i}_conv2`, 8, 8, [3, 3], { pads: [1, 1, 1, 1] });
      x = b.relu(b.op('Add', [z, x], `b${i}_add`), `b${i}_relu`);
    }
    x = b.op('Flatten', [b.op('AveragePool', [x], 'pool', [attr.ints('kernel_shape', [14, 14])])], 'flatten');
    const model = writeModel(tempDir(), 'deep_residual', b.spec([1, 1, 28, 28], b.gemm(x, 'fc', 8, 10)));
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
    expect(p.layers.filter((l) => l.kind === 'add')).toHaveLength(6);
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
    const bytes = wireBytes(image, simLink);
    expect([p.wire_bytes_out, p.wire_bytes_in]).toEqual([bytes.out, bytes.in]);
  });

  it('without a TARGET it is a usage error before any work', async () => {
    const r = await nnfpga('run', fixture('mlp.onnx'), '--input', firstInputs(2), '--profile');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--profile reads the device counters: give a TARGET/);
  });
});
