// Convs whose taps are packed into lanes (compile.ts Lowering.packedConv: a pack step, then
// conv' over the packed tensor) on npu_core, both configurations: every output element
// compared with the integer reference, and the device's cycles with the estimate's.
import { beforeAll, describe, expect, it } from 'vitest';
import type { CompileOptions } from '../../host/compiler/compile.ts';
import { BOARD_CONFIG, SIM_CONFIG } from '../../host/compiler/configs.ts';
import { estimateImage, simArrayLatency } from '../../host/compiler/estimate.ts';
import type { DeviceConfig } from '../../host/compiler/types.ts';
import { buildCore } from '../../host/sim/core.ts';
import { checkRandomConv } from './compare.ts';
import { type ConvSpec, rng } from './random-models.ts';

const CONFIGS: [string, DeviceConfig][] = [
  ['board Dim=4', BOARD_CONFIG],
  ['sim Dim=8', SIM_CONFIG],
];

// Each spec runs on the arrays with C*KW <= N lanes (the packed path's condition); dy
// (kernel rows per T word) is the stride when stride*KW*C fits the lanes, else 1.
const SPECS: (ConvSpec & { name: string })[] = [
  {
    name: 'KWS-like 10x4 stride 2, pads (4,1,5,1), 1 ch',
    c: 1,
    h: 15,
    w: 10,
    oc: 6,
    k: [10, 4],
    stride: [2, 2],
    pads: [4, 1, 5, 1],
  },
  { name: '5x1 stride 1, pads (2,0,2,0), 1 ch', c: 1, h: 7, w: 5, oc: 5, k: [5, 1], pads: [2, 0, 2, 0] },
  {
    name: '3x2 stride 2, 2 ch, pad 1 (KH odd)',
    c: 2,
    h: 9,
    w: 8,
    oc: 7,
    k: [3, 2],
    stride: [2, 2],
    pads: [1, 1, 1, 1],
    relu: true,
  },
  {
    name: '5x2 stride 2, 1 ch, pads (0,1,2,0): two rows per word, KH not a multiple',
    c: 1,
    h: 10,
    w: 9,
    oc: 9,
    k: [5, 2],
    stride: [2, 2],
    pads: [0, 1, 2, 0],
  },
  { name: '3x3 stride (1,2), 1 ch, no pad', c: 1, h: 6, w: 11, oc: 4, k: [3, 3], stride: [1, 2] },
  {
    name: '7x1 stride 2, 2 ch, pads (3,0,3,0)',
    c: 2,
    h: 12,
    w: 4,
    oc: 10,
    k: [7, 1],
    stride: [2, 1],
    pads: [3, 0, 3, 0],
  },
  {
    name: '4x1 stride 3, 1 ch, bottom/right pads (0,0,3,2): three rows per word',
    c: 1,
    h: 11,
    w: 5,
    oc: 3,
    k: [4, 1],
    stride: [3, 1],
    pads: [0, 0, 3, 2],
  },
  { name: '2x4 stride 1, 1 ch, pads (1,2,0,1)', c: 1, h: 5, w: 6, oc: 5, k: [2, 4], pads: [1, 2, 0, 1] },
  { name: '4x2 stride 1, 2 ch', c: 2, h: 6, w: 6, oc: 3, k: [4, 2] },
  {
    name: '5x4 stride 2, 2 ch, pads (2,1,2,2) (8 lanes only)',
    c: 2,
    h: 11,
    w: 9,
    oc: 11,
    k: [5, 4],
    stride: [2, 2],
    pads: [2, 1, 2, 2],
  },
  {
    name: '3x4 stride 1, 2 ch, pad 1 (8 lanes only)',
    c: 2,
    h: 5,
    w: 7,
    oc: 9,
    k: [3, 4],
    pads: [1, 1, 1, 1],
  },
  {
    name: '3x2 stride 2, 2 ch: two rows per word on 8 lanes',
    c: 2,
    h: 8,
    w: 7,
    oc: 5,
    k: [3, 2],
    stride: [2, 1],
    pads: [0, 1, 1, 0],
  },
];

/** A random conv that takes the packed path on `dim` lanes. */
function randomSpec(r: () => number, dim: number): ConvSpec {
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const c = int(1, 2);
  const kw = int(1, Math.min(4, dim / c));
  const kh = int(1, 7);
  const stride: [number, number] = [int(1, 3), int(1, 2)];
  const pads: [number, number, number, number] = [int(0, kh - 1), int(0, kw - 1), int(0, kh), int(0, kw)];
  const h = Math.max(1, kh - pads[0] - pads[2]) + int(0, 8);
  const w = Math.max(1, kw - pads[1] - pads[3]) + int(0, 6);
  return { c, h, w, oc: int(1, 10), k: [kh, kw], stride, pads, relu: r() < 0.3 };
}

const check = (cfg: DeviceConfig, spec: ConvSpec, seed: number, options: CompileOptions) =>
  checkRandomConv(cfg, spec, seed, options, 'packed');

describe.each(CONFIGS)('packed first conv on npu_core %s', (_label, cfg) => {
  beforeAll(async () => {
    await buildCore(cfg);
  });

  SPECS.forEach((spec, i) => {
    if (spec.c * spec.k[1] > cfg.dim) return;
    it(`${spec.name}: bit-exact through the pack step and conv'`, async () => {
      const { image, cycles } = await check(cfg, spec, 300 + i, { packTaps: 'always' });
      expect(image.layers[0].steps.count).toBe(2);
      // the estimate is exact for the simulation
      const est = estimateImage(image, { arrayLatency: simArrayLatency(cfg.dim) });
      expect(cycles).toEqual(est.steps.map((s) => s.estimated_cycles));
    });
  });

  it('40 random narrow convs (C 1-2, KW 1-4, KH 1-7, strides 1-3, pads): bit-exact packed', async () => {
    const r = rng(cfg.dim * 1000 + 17);
    for (let k = 0; k < 40; k++) {
      const spec = randomSpec(r, cfg.dim);
      const { image } = await check(cfg, spec, 500 + k, { packTaps: 'always' });
      expect(image.layers[0].steps.count, JSON.stringify(spec)).toBe(2);
    }
  });

  it('a 10x4 conv over one channel is packed by default and runs in fewer cycles than unpacked', async () => {
    const spec = SPECS[0];
    const packed = await check(cfg, spec, 400, {});
    const plain = await check(cfg, spec, 400, { packTaps: false });
    expect(packed.image.layers[0].steps.count).toBe(2);
    expect(plain.image.layers[0].steps.count).toBe(1);
    const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
    expect(sum(packed.cycles)).toBeLessThan(sum(plain.cycles));
  });
});
