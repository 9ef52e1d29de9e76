// `nnfpga bench --json` keeps SPEC section 6's contract: every layer with name, macs,
// cycles, ideal_cycles and utilization, consistent with each other and with the array
// size; per-inference wire figures that add up; and the device results exact. Numbers
// are printed, never compared with a time limit.
import { describe, expect, it } from 'vitest';
import type { BenchReport } from '../../host/bench/bench.ts';
import { nnfpga } from './cli.ts';

describe('nnfpga bench --json', () => {
  it('reports per-layer, per-inference and per-board figures that are consistent with each other', async () => {
    const r = await nnfpga('bench', '--json', '--streamed', '2');
    expect(r.code, r.stderr).toBe(0);
    const b = JSON.parse(r.stdout) as BenchReport;
    expect(b.layers.length).toBeGreaterThanOrEqual(9);
    for (const l of b.layers) {
      const pes = Number(/(\d+)x\d+$/.exec(l.config)![1]) ** 2;
      expect(l.ideal_cycles).toBeCloseTo(l.macs / pes, 6);
      expect(l.cycles).toBeGreaterThan(0);
      if (l.macs > 0) expect(l.utilization).toBeCloseTo(l.ideal_cycles / l.cycles, 6);
      expect(l.utilization).toBeLessThanOrEqual(1);
    }
    expect(b.models.every((m) => m.bit_exact)).toBe(true);
    expect(b.inference.map((i) => i.model).sort()).toEqual(['cnn_a', 'mlp']);
    for (const i of b.inference) {
      expect(i.exact).toBe(true);
      expect(i.wire_bytes).toBe(i.wire_bytes_out + i.wire_bytes_in);
      expect(i.wire_bytes).toBeGreaterThan(i.payload_bytes);
      expect(i.uart_bound_cycles).toBe(i.wire_bytes * 10 * i.clocks_per_bit);
      expect(i.streaming_cycles).toBeLessThanOrEqual(i.single_cycles);
    }
    const ib = b.boards.find((x) => x.board === 'icebreaker')!;
    expect(ib.peak_macs_per_s).toBe(16 * 48e6);
    expect(ib.cnn_a?.inferences_per_s).toBeGreaterThan(0);
    expect(b.simulation.every((s) => s.cycles_per_second > 0)).toBe(true);
  }, 600_000);
});
