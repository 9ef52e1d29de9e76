// A narrow model input written pixel-packed (compile.ts Lowering.pixelPackedConv: g =
// floor(N/C) columns a word, the first conv as phase descriptors whose outputs interleave
// through descriptor word 0's output shift) on npu_core, both configurations: every
// output element compared with the integer reference, and the device's cycles with the
// estimate's.
import { beforeAll, describe, expect, it } from 'vitest';
import { compile, type CompileOptions } from '../../host/compiler/compile.ts';
import { BOARD_CONFIG, SIM_CONFIG } from '../../host/compiler/configs.ts';
import { estimateImage, simArrayLatency } from '../../host/compiler/estimate.ts';
import { pixelPackTensor } from '../../host/compiler/layout.ts';
import { checkProgram, decodeDescriptor, DESC_WORDS } from '../../host/compiler/program.ts';
import type { DeviceConfig } from '../../host/compiler/types.ts';
import { buildCore } from '../../host/sim/core.ts';
import { checkRandomConv } from './compare.ts';
import { type ConvSpec, convOut, modelOf, randConv, randQ, rng } from './random-models.ts';

const CONFIGS: [string, DeviceConfig][] = [
  ['board Dim=4', BOARD_CONFIG],
  ['sim Dim=8', SIM_CONFIG],
];

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** The phase descriptors a spec takes on `dim` lanes (g = floor(N/C) columns a word). */
function phasesOf(spec: ConvSpec, dim: number): number {
  const g = Math.floor(dim / spec.c);
  return g / gcd(spec.stride?.[1] ?? 1, g);
}

/**
 * Whether the pixel-packed lowering applies on `cfg`: g >= 2, one phase unless the core has
 * the output shift, OW a multiple of the phases, no window starting right of word 0.
 */
function applies(spec: ConvSpec, cfg: DeviceConfig): boolean {
  const dim = cfg.dim;
  const g = Math.floor(dim / spec.c);
  if (g < 2 || (phasesOf(spec, dim) > 1 && !cfg.outputShift)) return false;
  const sw = spec.stride?.[1] ?? 1;
  const pl = spec.pads?.[1] ?? 0;
  const ph = phasesOf(spec, dim);
  const ow = convOut(spec.w, spec.k[1], sw, pl, spec.pads?.[3] ?? 0);
  if (ow % ph !== 0) return false;
  for (let p = 0; p < ph; p++) if (Math.floor((sw * p - pl) / g) > 0) return false;
  return true;
}

const SPECS: (ConvSpec & { name: string })[] = [
  {
    name: 'ResNet-like stem 3x3 pad 1, 3->6 ch, 8x8',
    c: 3,
    h: 8,
    w: 8,
    oc: 6,
    k: [3, 3],
    pads: [1, 1, 1, 1],
  },
  {
    name: 'MobileNet-like stem 3x3 stride 2, pads (0,0,1,1), 3->10 ch, 9x10',
    c: 3,
    h: 9,
    w: 10,
    oc: 10,
    k: [3, 3],
    stride: [2, 2],
    pads: [0, 0, 1, 1],
    relu: true,
  },
  { name: '3x3 pad 1, 1 ch, 6x8', c: 1, h: 6, w: 8, oc: 5, k: [3, 3], pads: [1, 1, 1, 1] },
  { name: '5x5 pad 2, 2 ch, 5x8, 12 outputs', c: 2, h: 5, w: 8, oc: 12, k: [5, 5], pads: [2, 2, 2, 2] },
  {
    name: '2x3 stride (1,2), pads (1,1,0,2), 2 ch, odd width 7',
    c: 2,
    h: 4,
    w: 7,
    oc: 3,
    k: [2, 3],
    stride: [1, 2],
    pads: [1, 1, 0, 2],
  },
  { name: '1x6 no pad, 1 ch, 3x13', c: 1, h: 3, w: 13, oc: 4, k: [1, 6] },
  { name: '4x4 stride 4 patches, 1 ch, 8x16', c: 1, h: 8, w: 16, oc: 9, k: [4, 4], stride: [4, 4] },
];

/** A random narrow conv (C 1-3) for which the pixel-packed lowering applies on `dim` lanes. */
function randomSpec(r: () => number, cfg: DeviceConfig): ConvSpec {
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  for (;;) {
    const c = int(1, cfg.dim === 4 ? 2 : 3);
    const kh = int(1, 5);
    const kw = int(1, 6);
    // a core without the output shift runs one phase: sw a multiple of g
    const stride: [number, number] = [
      int(1, 2),
      cfg.outputShift ? int(1, 3) : Math.floor(cfg.dim / c) * int(1, 2),
    ];
    const pads: [number, number, number, number] = [int(0, kh - 1), int(0, kw - 1), int(0, kh), int(0, kw)];
    const h = Math.max(1, kh - pads[0] - pads[2]) + int(0, 6);
    const w = Math.max(1, kw - pads[1] - pads[3]) + int(0, 16);
    const spec = { c, h, w, oc: int(1, 12), k: [kh, kw] as [number, number], stride, pads, relu: r() < 0.3 };
    if (applies(spec, cfg)) return spec;
  }
}

const check = (cfg: DeviceConfig, spec: ConvSpec, seed: number, options: CompileOptions) =>
  checkRandomConv(cfg, spec, seed, options, 'pixels');

describe('pixelPackTensor', () => {
  it('puts column g*x + j of channel c in lane j*C + c of word x, and the pad value past the last column', () => {
    // C = 2, H = 1, W = 3, g = 2: words (x' = 0) cols 0, 1; (x' = 1) col 2, then padding
    const x = Int8Array.from([10, 11, 12, 20, 21, 22]); // [c][y][x]
    const t = pixelPackTensor(x, [2, 1, 3], 2, -7);
    // T [4, 1, 2] CHW: lane 0 = (j 0, c 0), 1 = (j 0, c 1), 2 = (j 1, c 0), 3 = (j 1, c 1)
    expect(Array.from(t)).toEqual([10, 12, 20, 22, 11, -7, 21, -7]);
  });
});

describe('pixel-packed phases and the output shift', () => {
  it('a core without the output shift gets one phase or none, and refuses a program with a shift', () => {
    const r = rng(77);
    const inQ = randQ(r);
    const model = modelOf([randConv(r, SPECS[0], inQ, 'stem')], inQ);
    const sim = compile(model, SIM_CONFIG, { packPixels: 'always' });
    expect(sim.layers[0].steps.count).toBe(2);
    const board = compile(model, { ...SIM_CONFIG, outputShift: false }, { packPixels: 'always' });
    expect(board.input.pixelPack).toBeUndefined();
    expect(() => checkProgram(sim.dmem, { ...SIM_CONFIG, outputShift: false })).toThrow(
      /output shift 1 on a core without one/,
    );
  });
});

describe.each(CONFIGS)('pixel-packed first conv on npu_core %s', (_label, cfg) => {
  beforeAll(async () => {
    await buildCore(cfg);
  });

  SPECS.forEach((spec, i) => {
    if (!applies(spec, cfg)) return;
    const phases = phasesOf(spec, cfg.dim);
    it(`${spec.name}: bit-exact through ${phases} interleaved phase descriptor(s)`, async () => {
      const { image, cycles } = await check(cfg, spec, 700 + i, { packPixels: 'always' });
      expect(image.input.pixelPack?.pixels).toBe(Math.floor(cfg.dim / spec.c));
      expect(image.layers[0].steps.count).toBe(phases);
      const shifts = Array.from(
        { length: phases },
        (_, k) =>
          decodeDescriptor(image.descriptors.subarray(k * DESC_WORDS, (k + 1) * DESC_WORDS))?.outShift,
      );
      expect(shifts).toEqual(Array(phases).fill(Math.log2(phases)));
      // the estimate is exact for the simulation
      const est = estimateImage(image, { arrayLatency: simArrayLatency(cfg.dim) });
      expect(cycles).toEqual(est.steps.map((s) => s.estimated_cycles));
    });
  });

  it('30 random narrow convs (C 1-3, KH 1-5, KW 1-6, strides 1-3, pads): bit-exact pixel-packed', async () => {
    const r = rng(cfg.dim * 1000 + 29);
    for (let k = 0; k < 30; k++) {
      const spec = randomSpec(r, cfg);
      const { image } = await check(cfg, spec, 900 + k, { packPixels: 'always' });
      expect(image.layers[0].steps.count, JSON.stringify(spec)).toBe(phasesOf(spec, cfg.dim));
    }
  });
});

describe('pixel-packed stems by default (sim 8x8)', () => {
  beforeAll(async () => {
    await buildCore(SIM_CONFIG);
  });

  it('a 3-channel 3x3 stem is pixel-packed by default and runs in fewer cycles than unpacked', async () => {
    const spec: ConvSpec = { c: 3, h: 16, w: 16, oc: 16, k: [3, 3], pads: [1, 1, 1, 1] };
    const packed = await check(SIM_CONFIG, spec, 1200, {});
    const plain = await check(SIM_CONFIG, spec, 1200, { packPixels: false });
    expect(packed.image.input.pixelPack?.pixels).toBe(2);
    expect(plain.image.input.pixelPack).toBeUndefined();
    const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
    // 6 tiles a pixel instead of 9
    expect(sum(packed.cycles)).toBeLessThan((sum(plain.cycles) * 3) / 4);
  });
});
