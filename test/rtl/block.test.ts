// The block schedule (npu_ctrl Block = 1, sim8; docs/ARCHITECTURE.md section 1): blocks of
// B output pixels through every weight tile, their outputs one a beat into the vector
// requantizer (npu_requant_vec). On npu_core: every output element compared with the
// integer reference for blocks that divide P, that do not, that are shorter than N and as
// long as the accumulator allows, over 1x1, 3x3, strided, grouped and pooling layers; the
// device's cycles equal to the estimate's; the compiler's default takes blocks where
// they are faster, and only on a core that has them.
import { beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../host/compiler/compile.ts';
import { BOARD_CONFIG, SIM_CONFIG } from '../../host/compiler/configs.ts';
import { estimateImage } from '../../host/compiler/estimate.ts';
import { checkProgram, decodeDescriptor, DESC_WORDS } from '../../host/compiler/program.ts';
import { runInt } from '../../host/quant/intref.ts';
import { buildCore, runCore } from '../../host/sim/core.ts';
import { checkRandomConv, expectBitExact } from './compare.ts';
import { type ConvSpec, modelOf, randConv, randInt8, randPool, randQ, rng } from './random-models.ts';

const cfg = SIM_CONFIG;
const MAX_BLOCK = cfg.accDepth / 2;

/** The block size of every descriptor of an image (0: a sliding window). */
const blocksOf = (dmem: Uint32Array) =>
  Array.from({ length: dmem.length / DESC_WORDS }, (_, i) =>
    decodeDescriptor(dmem.subarray(i * DESC_WORDS, (i + 1) * DESC_WORDS)),
  )
    .filter((f) => f !== null)
    .map((f) => f.block ?? 0);

const SPECS: (ConvSpec & { name: string })[] = [
  { name: 'pointwise 8->16 (K = 1), 6x6', c: 8, h: 6, w: 6, oc: 16, k: [1, 1] },
  { name: 'pointwise 24->8 (K = 3), 5x7', c: 24, h: 5, w: 7, oc: 8, k: [1, 1] },
  { name: 'pointwise 64->24 (K = 8), 3x3 (P = 9)', c: 64, h: 3, w: 3, oc: 24, k: [1, 1] },
  { name: '3x3 pad 1, 5->12 ch, 7x6', c: 5, h: 7, w: 6, oc: 12, k: [3, 3], pads: [1, 1, 1, 1], relu: true },
  {
    name: '3x3 stride 2, pads (0,0,1,1), 12->9 ch, 9x11',
    c: 12,
    h: 9,
    w: 11,
    oc: 9,
    k: [3, 3],
    stride: [2, 2],
    pads: [0, 0, 1, 1],
  },
  { name: '1x1 on a single pixel (P = 1 < N), 40->20', c: 40, h: 1, w: 1, oc: 20, k: [1, 1] },
];

describe('block schedule on npu_core, sim Dim=8', () => {
  beforeAll(async () => {
    await buildCore(cfg);
  });

  describe.each(SPECS)('$name', (spec) => {
    const p = (() => {
      const m = modelOf([randConv(rng(1), spec, randQ(rng(1)))], randQ(rng(1)));
      return m.layers[0].output[1] * m.layers[0].output[2];
    })();
    // blocks shorter than N, not dividing P, all of P in one, the largest
    it.each([1, 3, 5, p, Math.max(1, p - 1), MAX_BLOCK])(
      'blocks of %i pixels: bit-exact, cycles equal to the estimate',
      async (b) => {
        const { image, cycles } = await checkRandomConv(
          cfg,
          spec,
          7 + b,
          { block: b, packTaps: false, packPixels: false },
          'blk',
        );
        expect(blocksOf(image.dmem)).toEqual(cycles.map(() => Math.min(b, MAX_BLOCK)));
        expect(cycles).toEqual(estimateImage(image).steps.map((s) => s.estimated_cycles));
      },
    );
  });

  it('30 random convs with random blocks: bit-exact, cycles equal to the estimate', async () => {
    const r = rng(2024);
    const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    for (let i = 0; i < 30; i++) {
      const k = int(1, 3);
      const spec: ConvSpec = {
        c: int(1, 40),
        h: int(k, 12),
        w: int(k, 12),
        oc: int(1, 20),
        k: [k, int(1, 3)],
        stride: [int(1, 2), int(1, 2)],
        pads: [int(0, k - 1), 0, int(0, k - 1), 0],
        relu: r() < 0.5,
      };
      const b = int(1, 40);
      const { image, cycles } = await checkRandomConv(cfg, spec, 100 + i, { block: b }, 'blkr');
      expect(
        blocksOf(image.dmem).every((x) => x === b),
        `conv ${i}`,
      ).toBe(true);
      expect(cycles, `conv ${i}`).toEqual(estimateImage(image).steps.map((s) => s.estimated_cycles));
    }
  });

  it('grouped convs and pools (max and average) in blocks: bit-exact, cycles equal to the estimate', async () => {
    const r = rng(77);
    const q = randQ(r);
    const conv = randConv(r, { c: 12, h: 9, w: 9, oc: 20, k: [3, 3], pads: [1, 1, 1, 1], relu: true }, q);
    const max = randPool(r, 'maxpool', [20, 9, 9], [3, 3], [2, 2], [1, 1, 1, 1], conv.outQ, 'maxpool');
    const avg = randPool(r, 'avgpool', [20, 5, 5], [2, 2], [1, 1], [0, 0, 0, 0], max.outQ, 'avgpool');
    const model = modelOf([conv, max, avg], q);
    const xs = [0, 1].map(() => randInt8(r, 12 * 9 * 9));
    for (const b of [2, 9, 25]) {
      const image = compile(model, cfg, { block: b });
      const blocks = blocksOf(image.dmem);
      expect(blocks.every((x) => x === b)).toBe(true);
      const res = await runCore(image, xs, { inputZeroPoint: q.zeroPoint, name: `blkpool${b}` });
      res.inferences.forEach((inf, n) =>
        expectBitExact(model, runInt(model, xs[n]), inf.layers, `B ${b}, input ${n}: `),
      );
      expect(res.inferences[0].stepCycles).toEqual(estimateImage(image).steps.map((s) => s.estimated_cycles));
    }
  });

  it('the default takes blocks on a pointwise layer of few pixels, in fewer cycles than the sliding window', async () => {
    const r = rng(5);
    const q = randQ(r);
    const model = modelOf([randConv(r, { c: 64, h: 3, w: 3, oc: 64, k: [1, 1] }, q)], q);
    const xs = [randInt8(r, 64 * 9)];
    const auto = compile(model, cfg);
    const win = compile(model, cfg, { block: false });
    expect(blocksOf(auto.dmem)).toEqual([9]);
    expect(blocksOf(win.dmem)).toEqual([0]);
    const [a, w] = await Promise.all(
      [auto, win].map((image, i) => runCore(image, xs, { inputZeroPoint: q.zeroPoint, name: `blkauto${i}` })),
    );
    expectBitExact(model, runInt(model, xs[0]), a.inferences[0].layers);
    expectBitExact(model, runInt(model, xs[0]), w.inferences[0].layers);
    // 8 ogs of 8 tiles x 9 pixels: 576 beats; the window's ramp costs about K periods an og
    expect(a.inferences[0].stepCycles[0]).toBeLessThan(0.8 * w.inferences[0].stepCycles[0]);
  });

  it('a core without the block schedule gets no blocks, and checkProgram refuses them there', () => {
    const r = rng(6);
    const q = randQ(r);
    const model = modelOf([randConv(r, { c: 16, h: 3, w: 3, oc: 16, k: [1, 1] }, q)], q);
    expect(blocksOf(compile(model, BOARD_CONFIG).dmem).every((b) => b === 0)).toBe(true);
    const blocked = compile(model, cfg, { block: 9 });
    expect(() => checkProgram(blocked.dmem, { ...cfg, blockSchedule: false })).toThrow(
      /block schedule on a core without one/,
    );
    expect(() => checkProgram(blocked.dmem, cfg)).not.toThrow();
  });
});
