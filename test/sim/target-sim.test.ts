// openTarget --sim end to end: a fixture model compiled for the configuration the
// simulated board reports, uploaded over the pty, run bit-exact against the integer
// reference, one input at a time and streamed; per-layer read-back and counters.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSamples } from '../../host/data/npy.ts';
import { prepareModel } from '../../host/run.ts';
import { quantizeInput, runInt } from '../../host/quant/intref.ts';
import type { QModel } from '../../host/quant/types.ts';
import { REPO_ROOT } from '../../host/sim/verilator.ts';
import { openTarget, type DeviceBackend } from '../../host/target.ts';
import { DESC_WORDS, decodeDescriptor, programCycleBound } from '../../host/compiler/program.ts';
import { estimateImage } from '../../host/compiler/estimate.ts';

const fixtures = path.resolve(REPO_ROOT, 'examples');
let q: QModel;
let xs: Int8Array[];
let backend: DeviceBackend;

beforeAll(async () => {
  q = prepareModel(
    path.join(fixtures, 'cnn_a.onnx'),
    path.join(fixtures, 'calib256.npy'),
    () => {
      throw new Error('calibration file expected');
    },
    () => {},
  ).q;
  const s = readSamples(path.join(fixtures, 'inputs200.npy'), q.input, 'inputs');
  const per = s.data.length / s.count;
  xs = Array.from({ length: 6 }, (_, i) => quantizeInput(q, s.data.subarray(i * per, (i + 1) * per)));
  backend = (await openTarget({ sim: true }, q))!;
});

afterAll(async () => {
  await backend?.close();
});

describe('openTarget --sim', () => {
  it('infers bit-exact with the integer reference, one at a time and streamed', async () => {
    const ref = xs.map((x) => runInt(q, x).at(-1)!);
    const one = await backend.infer(xs[0]);
    expect([...one.yq]).toEqual([...ref[0]]);
    expect(one.cycles).toBeGreaterThan(0);
    const out0 = backend.linkStats.bytesOut;
    const many = await backend.inferMany(xs);
    many.forEach((r, i) => expect([...r.yq]).toEqual([...ref[i]]));
    expect(backend.linkStats.retransmissions).toBe(0);
    // packed: a 28x28 one-channel input crosses the wire as its 784 bytes and 17 of
    // framing and INFER fields, not as 784 words of 8 lanes
    expect((backend.linkStats.bytesOut - out0) / xs.length).toBe(784 + 17);
  });

  it("compiles for the simulated board's block schedule, which runs bit-exact and as the estimate counts", async () => {
    expect(backend.image.config.blockSchedule).toBe(true);
    const dmem = backend.image.dmem;
    const blocks = [];
    for (let i = 0; (i + 1) * DESC_WORDS <= dmem.length && (dmem[i * DESC_WORDS] & 0xf) !== 0; i++) {
      const f = decodeDescriptor(dmem.subarray(i * DESC_WORDS, (i + 1) * DESC_WORDS));
      if (f?.block) blocks.push(i);
    }
    expect(blocks.length).toBeGreaterThan(0); // cnn_a's convs and pools
    const x = xs[4];
    expect([...(await backend.infer(x)).yq]).toEqual([...runInt(q, x).at(-1)!]);
    const c = await backend.counters();
    expect(c.layers.map((l) => l.cycles)).toEqual(
      estimateImage(backend.image).layers.map((l) => l.estimated_cycles),
    );
  });

  it('runs within the cycle bound its watchdog limit comes from, and not far from it', async () => {
    const bound = programCycleBound(backend.image.dmem, backend.image.config);
    const { cycles } = await backend.infer(xs[3]);
    expect(cycles).toBeLessThanOrEqual(bound);
    expect(bound).toBeLessThan(8 * cycles);
  });

  it('reads back every layer’s activations and restores the program', async () => {
    const layers = await backend.layerActivations(xs[1]);
    const ref = runInt(q, xs[1]);
    expect(layers).toHaveLength(q.layers.length);
    layers.forEach((l, i) => expect([...l]).toEqual([...ref[i]]));
    // the whole program runs again afterwards
    expect([...(await backend.infer(xs[2])).yq]).toEqual([...runInt(q, xs[2]).at(-1)!]);
    const c = await backend.counters();
    expect(c.layers).toHaveLength(backend.image.layers.length);
    for (const l of c.layers) {
      expect(l.cycles).toBeGreaterThan(0);
      expect(l.activeCycles).toBeLessThanOrEqual(l.cycles);
    }
  });
});
