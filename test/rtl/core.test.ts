// npu_core on its Verilator bench, both configurations (board Dim=4, sim Dim=8): random
// conv/dense/pool layers and multi-layer models, every output element of every layer
// compared with the integer reference (host/quant/intref.ts). NNFPGA_TRACE=1 writes an
// FST waveform per run to build/trace/.
import { beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../host/compiler/compile.ts';
import { estimateImage } from '../../host/compiler/estimate.ts';
import { programCycleBound } from '../../host/compiler/program.ts';
import { BOARD_CONFIG, SIM_CONFIG } from '../../host/compiler/configs.ts';
import type { DeviceConfig, DeviceImage } from '../../host/compiler/types.ts';
import { runInt } from '../../host/quant/intref.ts';
import type { ActQuant, QLayer } from '../../host/quant/types.ts';
import { CoreScript, SPACE, buildCore, runCore, runScript } from '../../host/sim/core.ts';
import { expectBitExact } from './compare.ts';
import {
  type ConvSpec,
  modelOf,
  randConv,
  randDense,
  randInt8,
  randPool,
  randQ,
  rng,
} from './random-models.ts';

const CONFIGS: [string, DeviceConfig][] = [
  ['board Dim=4', BOARD_CONFIG],
  ['sim Dim=8', SIM_CONFIG],
];

async function check(
  cfg: DeviceConfig,
  layers: QLayer[],
  inQ: ActQuant,
  seed: number,
  inputs = 2,
): Promise<{ image: DeviceImage; res: Awaited<ReturnType<typeof runCore>> }> {
  const model = modelOf(layers, inQ);
  const r = rng(seed * 7919 + 1);
  const size = layers[0].input.reduce((a, b) => a * b, 1);
  const xs = Array.from({ length: inputs }, () => randInt8(r, size));
  const image = compile(model, cfg);
  const res = await runCore(image, xs, {
    inputZeroPoint: inQ.zeroPoint,
    name: layers.map((l) => l.name).join('-'),
  });
  res.inferences.forEach((inf, n) => {
    expectBitExact(model, runInt(model, xs[n]), inf.layers, `input ${n}: `);
    expect(inf.layerCycles.every((c) => c > 0)).toBe(true);
    // a well-formed program's cycles stay within the host's bound (a run watchdog's)
    expect(inf.cycles).toBeLessThanOrEqual(programCycleBound(image.dmem, cfg));
  });
  return { image, res };
}

const CONVS: (ConvSpec & { name: string })[] = [
  { name: '3x3 pad 1, 3->5 ch, 7x6', c: 3, h: 7, w: 6, oc: 5, k: [3, 3], pads: [1, 1, 1, 1] },
  {
    name: '5x5 stride 2, asymmetric pads, 13->19 ch',
    c: 13,
    h: 9,
    w: 11,
    oc: 19,
    k: [5, 5],
    stride: [2, 2],
    pads: [2, 1, 0, 2],
  },
  { name: '1x1, 17->9 ch, relu', c: 17, h: 5, w: 5, oc: 9, k: [1, 1], relu: true },
  { name: '3x3 stride 2 no pad, 8->8, relu', c: 8, h: 8, w: 8, oc: 8, k: [3, 3], stride: [2, 2], relu: true },
  {
    name: '3x3 stride (1,2), pads (0,1,2,1), 5->12',
    c: 5,
    h: 6,
    w: 9,
    oc: 12,
    k: [3, 3],
    stride: [1, 2],
    pads: [0, 1, 2, 1],
  },
  { name: '3x5 kernel, 1 -> 3 ch, single output row', c: 1, h: 3, w: 10, oc: 3, k: [3, 5] },
  {
    name: 'more pixels than AccDepth (pixel tiles), 3x3 pad 1',
    c: 2,
    h: 36,
    w: 30,
    oc: 4,
    k: [3, 3],
    pads: [1, 1, 1, 1],
  },
  { name: 'output smaller than the kernel window count, 1x1 output', c: 9, h: 5, w: 5, oc: 4, k: [5, 5] },
];

describe.each(CONFIGS)('npu_core %s', (_label, cfg) => {
  beforeAll(async () => {
    await buildCore(cfg);
  });

  it('host port: lanes, spaces, CNT writes ignored', async () => {
    const exe = await buildCore(cfg);
    const s = new CoreScript();
    const data = Uint32Array.from([0x11223344, 0xa5a5a5a5, 0xdeadbeef, 0x01020304, 0xcafef00d, 0x80000001]);
    s.write(SPACE.AMEM, 10, data)
      .write(SPACE.WMEM, cfg.wmemWords - 6, data)
      .write(SPACE.DMEM, 3, data);
    s.write(SPACE.CNT, 0, Uint32Array.from([9])); // read-only
    s.write(SPACE.AMEM, 12, Uint32Array.from([0x55667788])); // overwrite one host word only
    s.read(SPACE.AMEM, 10, 6)
      .read(SPACE.WMEM, cfg.wmemWords - 6, 6)
      .read(SPACE.DMEM, 3, 6);
    s.read(SPACE.CNT, 0, 1);
    const res = await runScript(exe, s);
    const expAmem = Uint32Array.from(data);
    expAmem[2] = 0x55667788;
    expect(Array.from(res.results[0])).toEqual(Array.from(expAmem));
    expect(Array.from(res.results[1])).toEqual(Array.from(data));
    expect(Array.from(res.results[2])).toEqual(Array.from(data));
    expect(Array.from(res.results[3])).toEqual([0]);
  });

  it('an empty program (op 0 first) finishes at once', async () => {
    const exe = await buildCore(cfg);
    const s = new CoreScript();
    s.write(SPACE.DMEM, 0, new Uint32Array(16)).run();
    const res = await runScript(exe, s);
    const cycles = res.results[0][0];
    expect(cycles).toBeGreaterThan(12); // one descriptor fetched (words 0-11)
    expect(cycles).toBeLessThan(40);
  });

  CONVS.forEach((spec, i) => {
    it(`conv ${spec.name}`, async () => {
      const r = rng(100 + i);
      const inQ = randQ(r);
      await check(cfg, [randConv(r, spec, inQ, `conv${i}`)], inQ, i);
    });
  });

  it("output groups overlap: each group's outputs take its own m, s and words when its first output waits for the previous group's last to leave the requantizer", async () => {
    // a 1x1 conv over N channels (K = 1 tile per pixel) on 2 pixels, 24 output channels:
    // each group's periods end long before its outputs leave the requantizer, so every
    // next group's first output is held back until the shadow m and s take effect
    const r = rng(31);
    const inQ = randQ(r);
    const n = cfg.dim;
    const conv = randConv(r, { c: n, h: 1, w: 2, oc: 24, k: [1, 1] }, inQ, 'ogs');
    const { image, res } = await check(cfg, [conv], inQ, 31);
    expect(res.inferences[0].stepCycles).toEqual(estimateImage(image).steps.map((st) => st.estimated_cycles));
  });

  it('narrow layers (K < N tiles per pixel) release two pixels a period on a core of two requantizer pipelines, one on a core of one', async () => {
    // a 1x1 conv over N channels on 8x8 pixels: K = 1, one output group
    const r = rng(33);
    const inQ = randQ(r);
    const n = cfg.dim;
    const conv = randConv(r, { c: n, h: 8, w: 8, oc: n, k: [1, 1] }, inQ, 'narrow');
    const { res } = await check(cfg, [conv], inQ, 33);
    const periods = (res.inferences[0].stepCycles[0] - 60) / n; // less fetch, params and drain
    if ((cfg.requantPipes ?? 1) > 1) expect(periods).toBeLessThan(64 / 2 + 4);
    else expect(periods).toBeGreaterThanOrEqual(64);
  });

  it('conv whose accumulator wraps past int32 (bias near 2^31)', async () => {
    const r = rng(7);
    const inQ = randQ(r);
    const conv = randConv(r, { c: 6, h: 4, w: 4, oc: 5, k: [3, 3], pads: [1, 1, 1, 1] }, inQ, 'wrap');
    conv.bias.fill(2 ** 31 - 1000);
    conv.mult = conv.mult.map(() => ({ m0: (2 ** 15 + 12345) * 2 ** 15, s: 56 }));
    await check(cfg, [conv], inQ, 7);
  });

  it('conv whose multipliers leave fewer Booth digits than its accumulators need (wide lanes saturate)', async () => {
    const r = rng(8);
    const inQ = randQ(r);
    const conv = randConv(r, { c: 7, h: 5, w: 6, oc: 6, k: [3, 3], pads: [1, 1, 1, 1] }, inQ, 'sat');
    // S = 26..28: 5 or 6 digits (10-12 bits) for accumulators that need about 20; small
    // sums still come out exactly, the others saturate to lo or hi
    conv.mult = conv.mult.map((_, o) => ({ m0: (2 ** 15 + 977 * o) * 2 ** 15, s: 26 + (o % 3) }));
    await check(cfg, [conv], inQ, 8);
  });

  it('conv with the fewest Booth digits: saturating lanes, an M0 = 0 channel with a huge accumulator, one digit', async () => {
    const r = rng(9);
    const inQ = randQ(r);
    const conv = randConv(r, { c: 7, h: 5, w: 6, oc: 6, k: [3, 3], pads: [1, 1, 1, 1] }, inQ, 'few');
    // S = 29..31: 4 or 5 digits (a window shift of 5 or 4) for accumulators of about 20
    // bits, which then saturate; channel 4's M0 = 0 requires nothing (y = y_zp)
    conv.mult = conv.mult.map((_, o) => ({ m0: (2 ** 15 + 1999 * o) * 2 ** 15, s: 29 + (o % 3) }));
    conv.mult[4] = { m0: 0, s: 31 };
    conv.bias[4] = 2 ** 30;
    await check(cfg, [conv], inQ, 9);
    // S = 18..23: one digit
    const one = randConv(r, { c: 3, h: 4, w: 4, oc: 5, k: [3, 3], pads: [1, 1, 1, 1] }, inQ, 'one');
    one.mult = one.mult.map((_, o) => ({ m0: (2 ** 15 + 4321 * o) * 2 ** 15, s: 18 + o }));
    expect(compile(modelOf([one], inQ), cfg).dmem[9] & 0xf).toBe(0);
    await check(cfg, [one], inQ, 10);
  });

  it('global pools: channel groups as pixels, C not a multiple of N, windows within and equal to the input', async () => {
    const r = rng(33);
    const q = randQ(r);
    const c = 3 * cfg.dim - 3; // three groups, the last one not full
    const cases: QLayer[] = [
      randPool(r, 'avgpool', [c, 5, 6], [5, 6], [1, 1], [0, 0, 0, 0], q),
      randPool(r, 'maxpool', [c, 5, 6], [5, 6], [1, 1], [0, 0, 0, 0], q),
      randPool(r, 'avgpool', [c, 5, 6], [4, 5], [2, 2], [0, 0, 0, 0], q),
      randPool(r, 'maxpool', [c, 5, 6], [4, 5], [2, 2], [0, 0, 0, 0], q),
      randPool(r, 'avgpool', [3, 4, 4], [4, 4], [1, 1], [0, 0, 0, 0], q),
    ];
    for (const [k, l] of cases.entries()) await check(cfg, [{ ...l, name: `global${k}` }], q, 33 + k, 3);
    // after a conv, before a dense (the pool's output as the dense layer's input)
    const conv = randConv(r, { c: 3, h: 6, w: 5, oc: c, k: [3, 3], pads: [1, 1, 1, 1] }, q, 'conv');
    const pool = randPool(r, 'avgpool', [c, 6, 5], [6, 5], [1, 1], [0, 0, 0, 0], conv.outQ, 'gap');
    await check(cfg, [conv, pool, randDense(r, [c, 1, 1], 7, conv.outQ, false, 'fc')], q, 40);
  });

  it('dense on a vector, dense as the first layer on [C,H,W], dense after a conv', async () => {
    const r = rng(21);
    const q0 = randQ(r);
    await check(cfg, [randDense(r, [37], 11, q0, false, 'vec')], q0, 21);
    const d0 = randDense(r, [2, 4, 4], 13, q0, true, 'first');
    await check(cfg, [d0, randDense(r, [13], 6, d0.outQ, false, 'second')], q0, 22);
    const c = randConv(r, { c: 3, h: 6, w: 5, oc: 6, k: [3, 3], pads: [1, 1, 1, 1], relu: true }, q0, 'conv');
    await check(cfg, [c, randDense(r, [6, 6, 5], 10, c.outQ, false, 'dense')], q0, 23);
  });

  it('maxpool and avgpool: strides, pads, clamps, global average', async () => {
    const r = rng(31);
    const q = randQ(r);
    const cases: QLayer[] = [
      randPool(r, 'maxpool', [11, 8, 8], [2, 2], [2, 2], [0, 0, 0, 0], q),
      randPool(r, 'maxpool', [6, 7, 7], [3, 3], [2, 2], [1, 1, 1, 1], q),
      randPool(r, 'avgpool', [9, 6, 6], [2, 2], [2, 2], [0, 0, 0, 0], q),
      randPool(r, 'avgpool', [5, 5, 7], [3, 3], [1, 1], [1, 1, 1, 1], q),
      randPool(r, 'avgpool', [12, 7, 7], [7, 7], [1, 1], [0, 0, 0, 0], q),
    ];
    for (const [k, l] of cases.entries()) await check(cfg, [{ ...l, name: `${l.kind}${k}` }], q, 31 + k);
  });

  it('random multi-layer models', async () => {
    for (let m = 0; m < 3; m++) {
      const r = rng(1000 + m);
      const q0 = randQ(r);
      const c0 = 1 + Math.floor(r() * 5);
      const c1 = randConv(
        r,
        { c: c0, h: 12, w: 11, oc: 4 + m * 5, k: [3, 3], pads: [1, 1, 1, 1], relu: true },
        q0,
        'c1',
      );
      const p1 = randPool(
        r,
        m === 1 ? 'avgpool' : 'maxpool',
        c1.output as [number, number, number],
        [2, 2],
        [2, 2],
        [0, 0, 0, 0],
        c1.outQ,
        'p1',
      );
      const c2 = randConv(
        r,
        {
          c: p1.output[0],
          h: p1.output[1],
          w: p1.output[2],
          oc: 9,
          k: [3, 3],
          stride: [1, 1],
          pads: [1, 1, 1, 1],
          relu: m !== 2,
        },
        p1.outQ,
        'c2',
      );
      const d1 = randDense(r, c2.output, 17, c2.outQ, true, 'd1');
      const d2 = randDense(r, [17], 10, d1.outQ, false, 'd2');
      await check(cfg, [c1, p1, c2, d1, d2], q0, 1000 + m);
    }
  });
});

// Randomized shapes: many small layers with every parameter drawn at random (kernel
// larger than stride or not, pads up to kernel-1, channel counts around multiples of N,
// 1-pixel images), each compared element by element.
describe.each(CONFIGS)('npu_core %s, random shapes', (_label, cfg) => {
  it('150 random conv/dense/pool layers', async () => {
    const r = rng(cfg.dim * 1_000_003);
    for (let n = 0; n < 150; n++) {
      const q = randQ(r);
      const c = 1 + Math.floor(r() * 3 * cfg.dim);
      const kh = 1 + Math.floor(r() * 5);
      const kw = 1 + Math.floor(r() * 5);
      const pads: [number, number, number, number] = [0, 0, 0, 0].map((_, i) =>
        Math.floor(r() * (i % 2 === 0 ? kh : kw)),
      ) as [number, number, number, number];
      const h = Math.max(1, kh - pads[0] - pads[2]) + Math.floor(r() * 9);
      const w = Math.max(1, kw - pads[1] - pads[3]) + Math.floor(r() * 9);
      const stride: [number, number] = [1 + Math.floor(r() * 3), 1 + Math.floor(r() * 3)];
      const kind = r();
      let layer: QLayer;
      if (kind < 0.55) {
        layer = randConv(
          r,
          { c, h, w, oc: 1 + Math.floor(r() * 3 * cfg.dim), k: [kh, kw], stride, pads, relu: r() < 0.5 },
          q,
          `rconv${n}`,
        );
      } else if (kind < 0.7) {
        layer = randDense(
          r,
          r() < 0.5 ? [c * h] : [c, h, w],
          1 + Math.floor(r() * 40),
          q,
          r() < 0.5,
          `rdense${n}`,
        );
      } else {
        // pools: pads smaller than the kernel so that no window is all padding
        const pp = pads.map((p, i) => Math.min(p, (i % 2 === 0 ? kh : kw) - 1)) as [
          number,
          number,
          number,
          number,
        ];
        layer = randPool(
          r,
          kind < 0.85 ? 'maxpool' : 'avgpool',
          [c, h, w],
          [kh, kw],
          stride,
          pp,
          q,
          `rpool${n}`,
        );
      }
      await check(cfg, [layer], q, 5000 + n, 1);
    }
  });
});
