// The controller on any descriptor (docs/ARCHITECTURE.md section 4, "malformed"): random
// 16-word descriptors (every field random: extents, bases past the memories, unknown
// ops, requantizer settings that overlap its vectors) run on the core bench with the
// datapath's rules fatal (+npu_strict), and each program must end within the cycles a
// model of the controller's loops allows, leave WMEM (but for the words that are an AMEM
// extension, which such a program may write as AMEM) and DMEM as they were, and leave a
// core that then runs a real model bit-exact. Programs too long to wait for are stopped
// with abort_i, which must bring busy_o low within the datapath's depth. On the host
// side checkProgram() must refuse every one of them that is not well-formed.
import { beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../host/compiler/compile.ts';
import { BOARD_CONFIG, SIM_CONFIG } from '../../host/compiler/configs.ts';
import { DESC_WORDS, OP_CONV, OP_MAXPOOL, checkProgram } from '../../host/compiler/program.ts';
import type { DeviceConfig } from '../../host/compiler/types.ts';
import { runInt } from '../../host/quant/intref.ts';
import { packInput, unpackTensor } from '../../host/compiler/layout.ts';
import type { DeviceImage } from '../../host/compiler/types.ts';
import { CoreScript, SPACE, buildCore, runScript } from '../../host/sim/core.ts';
import { modelOf, randConv, randInt8, randPool, randQ, rng, type Rng } from './random-models.ts';

const CONFIGS: [string, DeviceConfig][] = [
  ['board Dim=4', BOARD_CONFIG],
  ['sim Dim=8', SIM_CONFIG],
];

/** Bits of a two's-complement value. */
const wrap = (v: number, bits: number) => {
  const m = 2 ** bits;
  const u = ((v % m) + m) % m;
  return u >= m / 2 ? u - m : u;
};

/**
 * An upper bound on the cycles the controller (rtl/npu_ctrl.v) takes on a program, for
 * any field values: its period loop simulated with the registers' widths (the Bresenham
 * term, the pixels left, the ramp; one slide a period, or two by the controller's rule on
 * a core of two requantizer pipelines), and per output group the parameters, a
 * requantizer wait of at most its interval field per output, and the datapath's drain;
 * a block descriptor (word 0 bits 15:12 = 1 on a core with the block schedule) its blocks.
 */
function controllerBound(dmem: Uint32Array, cfg: DeviceConfig): number {
  const dim = cfg.dim;
  const rowAw = Math.log2(dim);
  // the controller's AMEM address: the extension's words included
  const aw = Math.ceil(Math.log2((cfg.amemWords + (cfg.amemExtWords ?? 0)) / (dim / 4)));
  const ww = Math.log2(cfg.wmemWords / (dim / 4));
  const xw = ww - rowAw + 2;
  const rw = aw + 1;
  let cycles = 2;
  for (let l = 0; l < 16; l++) {
    const d = l * DESC_WORDS < dmem.length ? dmem.subarray(l * DESC_WORDS) : new Uint32Array(DESC_WORDS);
    cycles += 13;
    const op = d[0] & 0xf;
    if (op !== OP_CONV && op !== OP_MAXPOOL) return cycles;
    const og = ((d[4] >>> 16) % 2 ** aw) + 1;
    if (cfg.blockSchedule && ((d[0] >>> 12) & 0xf) === 1) {
      // the block schedule: blocks of B = max(word 11's B, N) beats (log2(accDepth) - 1
      // bits) through K tiles, until a block's last tile starts within B of pixel P - 1
      // (word 12's pixels left, rem, drops by B a block); per og the parameters, one wait
      // for the requantizer and the drain
      const beats = Math.max(((d[11] & 0xffff) % (cfg.accDepth / 2)) + 1, dim);
      // K: the tile loop as it counts (the cg loop is word 4's, grouped or not)
      const kt = ((d[5] & 0xff) + 1) * (((d[5] >>> 8) & 0xff) + 1) * (((d[4] & 0xffff) % 2 ** aw) + 1);
      const rem = (d[12] >>> 16) % 2 ** rw;
      const blocks = Math.floor(rem / beats) + 1;
      cycles += og * (8 + 2 * (3 * dim + 40) + blocks * kt * beats) + 2;
      continue;
    }
    const gap = (d[9] >>> 8) & 0x1f;
    const wmk = wrap(d[11], xw);
    const win = ((d[11] >>> 16) % dim) + 1;
    // word 0 bit 5 on a core of two requantizer pipelines: a second slide when x >= K,
    // K = W - (W - K) in the register's width
    const two = (cfg.requantPipes ?? 1) > 1 && ((d[0] >>> 5) & 1) === 1;
    const k = wrap(win - wmk, xw);
    let perOg = 8 + 3 * dim + 40;
    let x = wrap(d[14], xw);
    let rem = (d[12] >>> 16) % 2 ** rw;
    let neg = win - 1;
    for (let periods = 1; ; periods++) {
      const slide = x >= 0;
      const slide2 = two && slide && wrap(x - k, xw) >= 0;
      perOg += dim;
      if (slide) {
        // each leaving pixel that is real may wait its pipeline's interval
        if (neg === 0) perOg += gap + 1;
        if (slide2 && neg <= 1 && rem !== 0) perOg += gap + 1;
        if (rem === 0 || (slide2 && rem === 1)) break;
        const nsl = slide2 ? 2 : 1;
        rem -= nsl;
        neg = Math.max(0, neg - nsl);
      }
      x = wrap(x + (slide2 ? wmk - k : slide ? wmk : win), xw);
      if (periods > 5e6) throw new Error('controller model: no end in sight');
    }
    cycles += og * perOg + 2;
  }
  return cycles;
}

/** A random descriptor: every word random, with the op and (sometimes) the sizes steered. */
function hostileDescriptor(r: Rng, long: boolean): Uint32Array {
  const d = Uint32Array.from({ length: DESC_WORDS }, () => Math.floor(r() * 2 ** 32));
  const k = r();
  d[0] = (d[0] & ~0xf) | (k < 0.45 ? OP_CONV : k < 0.8 ? OP_MAXPOOL : d[0] & 0xf);
  if (!long) {
    d[4] = (d[4] & 0xffff) | ((Math.floor(r() * 3) & 0xffff) << 16); // at most 3 output groups
    d[12] = (d[12] & 0xffff) | (Math.floor(r() * 40) << 16); // at most 40 pixels
    // Bresenham start and step within a few periods of sliding
    d[11] = (d[11] & 0xffff0000) | ((Math.floor(r() * 129) - 64) & 0xffff);
    d[14] = (d[14] & 0xffff0000) | ((Math.floor(r() * 129) - 64) & 0xffff);
    // a quarter in the block schedule (word 0 bits 15:12 = 1; a core without one ignores
    // them), with a tile loop of a few hundred periods at most
    if (r() < 0.25) {
      d[0] = (d[0] & ~0xf000) | 0x1000;
      d[4] = (d[4] & 0xffff0000) | Math.floor(r() * 4);
      d[5] = (d[5] & 0xffff0000) | Math.floor(r() * 6) | (Math.floor(r() * 6) << 8);
    }
  }
  return d;
}

/** A small conv + max pool model and one input: what the core must still run exactly. */
function realModel(seed: number, cfg: DeviceConfig) {
  const r = rng(seed);
  const q = randQ(r);
  const conv = randConv(r, { c: 3, h: 6, w: 5, oc: 6, k: [3, 3], pads: [1, 1, 1, 1], relu: true }, q);
  const pool = randPool(r, 'maxpool', [6, 6, 5], [2, 2], [2, 2], [0, 0, 1, 1], conv.outQ, 'pool');
  const model = modelOf([conv, pool], q);
  const x = randInt8(r, 3 * 6 * 5);
  return { model, x, image: compile(model, cfg), zp: q.zeroPoint };
}

/** Appends loading and running `image` on x, and reading its output, to a script. */
function appendRun(s: CoreScript, image: DeviceImage, x: Int8Array, zp: number): void {
  s.write(SPACE.WMEM, 0, image.wmem).write(SPACE.DMEM, 0, image.dmem);
  s.write(SPACE.AMEM, image.input.addr, packInput(x, image.input, image.config.dim, zp));
  s.run().read(SPACE.AMEM, image.output.addr, image.output.words);
}

describe.each(CONFIGS)('npu_ctrl on hostile descriptors, %s', (_label, cfg) => {
  beforeAll(async () => {
    await buildCore(cfg);
  });

  it('every random program ends within its bound (or on abort_i), WMEM and DMEM untouched, the core usable after', async () => {
    const exe = await buildCore(cfg);
    const r = rng(cfg.dim * 101);
    const wfence = Uint32Array.from({ length: 64 }, (_, i) => (i * 0x9e3779b1) >>> 0);
    const wAt = cfg.wmemWords - 64;
    const s = new CoreScript();
    s.write(SPACE.WMEM, 0, wfence).write(SPACE.WMEM, wAt, wfence);
    const plans: { dmem: Uint32Array; bound: number; abortAt: number | null }[] = [];
    for (let p = 0; p < 60; p++) {
      const long = p % 10 === 9;
      const layers = 1 + Math.floor(r() * 3);
      const dmem = new Uint32Array(cfg.dmemWords); // the rest is op 0: END
      for (let l = 0; l < layers; l++) dmem.set(hostileDescriptor(r, long), l * DESC_WORDS);
      if (p === 0) dmem.fill(0xffffffff, 0, DESC_WORDS); // every field at its maximum
      if (p === 1) dmem.set(Uint32Array.of(OP_CONV), 0); // every count at its minimum
      let bound = Infinity;
      try {
        bound = controllerBound(dmem, cfg);
      } catch {
        // no end in sight for the model's patience: abort it
      }
      const abortAt = long || bound > 3_000_000 ? 20_000 : null;
      plans.push({ dmem, bound, abortAt });
      s.write(SPACE.DMEM, 0, dmem);
      if (abortAt === null) s.run();
      else s.runAbort(abortAt);
      s.read(SPACE.DMEM, 0, cfg.dmemWords);
    }
    s.read(SPACE.WMEM, 0, 64).read(SPACE.WMEM, wAt, 64);
    const real = realModel(cfg.dim * 13, cfg);
    appendRun(s, real.image, real.x, real.zp);
    const res = await runScript(exe, s, { timeoutCycles: 5_000_000, malformed: true });
    let k = 0;
    let aborted = 0;
    let worked = 0; // programs that ran layers for a while
    for (const [i, p] of plans.entries()) {
      const run = res.results[k++];
      if (run[0] > 300) worked++;
      if (p.abortAt === null) {
        expect(run[0], `program ${i}`).toBeLessThanOrEqual(p.bound);
      } else if (run[1] !== 0) {
        aborted++;
        // busy_o falls once the datapath has emptied: a few tens of cycles
        expect(run[1], `program ${i}: cycles from abort_i to idle`).toBeLessThanOrEqual(3 * cfg.dim + 40);
      }
      expect(Array.from(res.results[k++]), `program ${i}: DMEM`).toEqual(Array.from(p.dmem));
      // the host refuses it (unless it ends at once: op 0 first)
      if ((p.dmem[0] & 0xf) !== 0)
        expect(() => checkProgram(p.dmem.subarray(0, 4 * DESC_WORDS), cfg), `program ${i}`).toThrow();
    }
    expect(aborted).toBeGreaterThan(0);
    expect(worked).toBeGreaterThan(plans.length / 3);
    expect(Array.from(res.results[k++])).toEqual(Array.from(wfence));
    expect(Array.from(res.results[k++])).toEqual(Array.from(wfence));
    // and then, in the same core, a real model bit-exact
    k++;
    const out = unpackTensor(res.results[k++], real.image.output.shape, cfg.dim);
    const want = runInt(real.model, real.x);
    expect(Array.from(out)).toEqual(Array.from(want[want.length - 1]));
  });

  it('abort_i stops a long valid program at any point; the next run is exact', async () => {
    const r = rng(cfg.dim * 7);
    const q = randQ(r);
    const conv = randConv(r, { c: 9, h: 20, w: 20, oc: 12, k: [5, 5], pads: [2, 2, 2, 2] }, q);
    const model = modelOf([conv], q);
    const image = compile(model, cfg);
    const x = randInt8(r, 9 * 20 * 20);
    const exe = await buildCore(cfg);
    const s = new CoreScript();
    s.write(SPACE.WMEM, 0, image.wmem).write(SPACE.DMEM, 0, image.dmem);
    s.write(SPACE.AMEM, image.input.addr, packInput(x, image.input, cfg.dim, q.zeroPoint));
    const points = [1, 2, 5, 12, 13, 14, 20, 21, 30, 100, 777, 5000, 12345];
    for (const n of points) s.runAbort(n);
    s.read(SPACE.DMEM, 0, image.dmem.length).read(SPACE.WMEM, 0, image.wmem.length);
    s.run().read(SPACE.AMEM, image.output.addr, image.output.words);
    const res = await runScript(exe, s);
    for (const [i, n] of points.entries()) {
      const [ran, toIdle] = res.results[i];
      expect(ran).toBe(n);
      expect(toIdle, `abort after ${n} cycles`).toBeGreaterThan(0);
      expect(toIdle, `abort after ${n} cycles`).toBeLessThanOrEqual(3 * cfg.dim + 40);
    }
    let k = points.length;
    expect(Array.from(res.results[k++])).toEqual(Array.from(image.dmem));
    expect(Array.from(res.results[k++])).toEqual(Array.from(image.wmem));
    k++; // the run
    const out = unpackTensor(res.results[k++], image.output.shape, cfg.dim);
    expect(Array.from(out)).toEqual(Array.from(runInt(model, x)[0]));
  });
});
