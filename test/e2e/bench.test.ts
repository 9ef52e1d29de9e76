// `nnfpga bench --json` keeps SPEC section 6's contract: every layer with name, macs,
// cycles, ideal_cycles and utilization, consistent with each other and with the array
// size; per-inference wire figures that add up; and the device results exact. Numbers
// are printed, never compared with a time limit.
import { describe, expect, it } from 'vitest';
import type { BenchReport } from '../../host/bench/bench.ts';
import { nnfpga } from './cli.ts';

describe('nnfpga bench --only examples --json', () => {
  it('reports per-layer, per-inference and per-board figures that are consistent with each other, and no MLPerf part', async () => {
    const r = await nnfpga('bench', '--only', 'examples', '--json', '--streamed', '2');
    expect(r.code, r.stderr).toBe(0);
    const b = JSON.parse(r.stdout) as BenchReport;
    expect(b.mlperf).toBeNull();
    expect(b.models.map((m) => m.model).filter((m) => m.startsWith('mlperf'))).toEqual([]);
    for (const m of b.models) {
      expect(m.bit_exact).toBe(true);
      expect(m.latency_ms).toBeCloseTo(m.cycles / (m.clock_mhz * 1e3), 9);
    }
    expect(b.layers.length).toBeGreaterThanOrEqual(9);
    for (const l of b.layers) {
      const pes = Number(/(\d+)x\d+$/.exec(l.config)![1]) ** 2;
      expect(l.ideal_cycles).toBeCloseTo(l.macs / pes, 6);
      expect(l.cycles).toBeGreaterThan(0);
      if (l.macs > 0) expect(l.utilization).toBeCloseTo(l.ideal_cycles / l.cycles, 6);
      expect(l.utilization).toBeLessThanOrEqual(1);
    }
    // the 8x8 simulation configuration and the iCEBreaker's top, for both fixtures
    expect(b.inference.map((i) => `${i.model} ${i.target}`).sort()).toEqual([
      'cnn_a icebreaker top 4x4',
      'cnn_a simulated board 8x8',
      'mlp icebreaker top 4x4',
      'mlp simulated board 8x8',
    ]);
    for (const i of b.inference) {
      expect(i.exact).toBe(true);
      expect(i.wire_bytes).toBe(i.wire_bytes_out + i.wire_bytes_in);
      expect(i.wire_bytes).toBeGreaterThan(i.payload_bytes);
      expect(i.uart_bound_cycles).toBe(i.wire_bytes * 10 * i.clocks_per_bit);
      // measured board cycles: one inference takes at least its input bytes on the wire
      // and its compute one after the other (replies travel on the other line, partly
      // while requests still arrive); streamed, at least the bound and at most one alone
      // (also on the iCEBreaker's 256-byte frames, whose INFER parts overlap the run
      // before: host/device.ts inferStream)
      expect(i.single_cycles).toBeGreaterThanOrEqual(
        i.wire_bytes_out * 10 * i.clocks_per_bit + i.compute_cycles,
      );
      expect(i.single_cycles).toBeLessThan(2 * (i.uart_bound_cycles + i.compute_cycles));
      expect(i.streaming_cycles).toBeGreaterThanOrEqual(i.streaming_bound_cycles);
      expect(i.streaming_cycles).toBeLessThanOrEqual(i.single_cycles);
    }
    const ib = b.boards.find((x) => x.board === 'icebreaker')!;
    const top = b.inference.find((i) => i.model === 'cnn_a' && i.target.startsWith('icebreaker'))!;
    const topMlp = b.inference.find((i) => i.model === 'mlp' && i.target.startsWith('icebreaker'))!;
    expect(ib.mlp?.streaming_cycles).toBe(topMlp.streaming_cycles);
    expect(top.clocks_per_bit).toBe((ib.clock_mhz * 1e6) / ib.baud);
    expect(ib.peak_macs_per_s).toBe(16 * ib.clock_mhz * 1e6);
    expect(ib.cnn_a?.streaming_cycles).toBe(top.streaming_cycles);
    expect(ib.cnn_a?.inferences_per_s).toBeCloseTo((ib.clock_mhz * 1e6) / top.streaming_cycles, 6);
    expect(b.simulation.every((s) => s.cycles_per_second > 0)).toBe(true);
  }, 600_000);
});
