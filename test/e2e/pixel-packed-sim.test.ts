// A model whose 3-channel input the host writes pixel-packed (two columns a word on sim8)
// through `nnfpga run --sim` as a user runs it: the input crosses the pseudo-terminal in
// the packed layout, the stem runs as two phase descriptors whose outputs interleave, and
// every output equals the integer reference bit for bit.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Builder } from '../../host/bench/mlperf.ts';
import { compile } from '../../host/compiler/compile.ts';
import { SIM_CONFIG } from '../../host/compiler/configs.ts';
import { wireBytes } from '../../host/compiler/estimate.ts';
import { encodeNpyFloat32 } from '../../host/data/npy.ts';
import type { Profile } from '../../host/profile.ts';
import { prepareModel, type RunReport } from '../../host/run.ts';
import { wireLayout } from '../../host/link/packed.ts';
import { SIM_BOARD_PARAMS } from '../../host/sim/board.ts';
import { attr, randomArray, tempDir, writeModel } from '../host/helpers.ts';
import { nnfpga } from './cli.ts';

describe('pixel-packed input: nnfpga run --sim', () => {
  it('a 3-channel 3x3 stem: the input crosses the link pixel-packed, the same bytes, and 4 inputs run bit-exact', async () => {
    // stem conv 3x3 pad 1 3->8 (16x16), conv 3x3 s2 8->8 (8x8), average pool, dense 8->10
    const b = new Builder(11);
    let x = b.relu(b.conv('input', 'stem', 3, 8, [3, 3], { pads: [1, 1, 1, 1] }), 'stem_relu');
    x = b.relu(b.conv(x, 'conv2', 8, 8, [3, 3], { stride: 2, pads: [1, 1, 1, 1] }), 'relu2');
    x = b.op('Flatten', [b.op('AveragePool', [x], 'pool', [attr.ints('kernel_shape', [8, 8])])], 'flatten');
    const dir = tempDir();
    const model = writeModel(dir, 'stem3', b.spec([1, 3, 16, 16], b.gemm(x, 'fc', 8, 10)));
    const inputs = join(dir, 'x.npy');
    writeFileSync(inputs, encodeNpyFloat32(randomArray(4 * 3 * 16 * 16, 5), [4, 3, 16, 16]));

    const r = await nnfpga(
      'run',
      model,
      '--input',
      inputs,
      '--calib',
      inputs,
      '--sim',
      '--profile',
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as RunReport & { profile: Profile };
    expect(out.summary).toMatchObject({ inputs: 4, mismatches: 0, mismatched_inputs: 0 });
    for (const res of out.results) expect(res.output_q).toEqual(res.reference_output_q);

    // the program the run compiled: the input pixel-packed, the stem two phases
    const { q } = prepareModel(
      model,
      inputs,
      () => ({ data: new Float32Array(), count: 0 }),
      () => {},
    );
    const image = compile(q, SIM_CONFIG);
    expect(image.input.pixelPack).toEqual({ pixels: 2, modelShape: [3, 16, 16] });
    expect(image.input.shape).toEqual([6, 16, 8]);
    expect(image.layers[0].steps.count).toBe(2);
    // the link carries the input's 768 bytes, as it would unpacked, and the run's bytes on
    // the wire are the program's
    expect(wireLayout(image.input.shape, SIM_CONFIG.dim).bytes).toBe(3 * 16 * 16);
    const simLink = {
      maxPayload: SIM_BOARD_PARAMS.MaxPayload,
      clocksPerBit: SIM_BOARD_PARAMS.ClksPerBit,
      clockHz: 12e6,
    };
    const bytes = wireBytes(image, simLink);
    expect([out.profile.wire_bytes_out, out.profile.wire_bytes_in]).toEqual([bytes.out, bytes.in]);
  }, 300_000);
});
