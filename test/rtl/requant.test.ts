// npu_requant against host/quant/requant.ts (requantClamp) with 16-bit M0 (m * 2^15):
// random and extreme accumulators for every Steps (1..16) they fit, multipliers, shifts
// S (16 + 2*Steps .. 62), zero points and clamp bounds, and accumulators wider than
// 2*Steps bits with a window shift of at most 5 (the lane saturates: the reference must
// agree), every result compared; once with every vector on its own parameters, once back
// to back at the unit's full rate, max(ceil(Steps / RqUnits), Lanes) cycles per vector
// (the result chain's overlap, and with two Booth units their turns), saturating lanes
// included. Built with one unit (the boards') and two, at 4 lanes (Steps up to 4 Lanes)
// and 8; and npu_requant_vec (sim8's, the block schedule's), 8 lanes at one vector a cycle.
// Both take only an accumulator's low 2*Steps bits where the window shift is above 5 (max
// pooling's accumulators: the maximum in the low byte).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { requantClamp } from '../../host/quant/requant.ts';
import { buildVerilator } from '../../host/sim/verilator.ts';
import { rng } from './random-models.ts';

const run = promisify(execFile);
/** u32 words per vector (see sim/requant_tb.cpp). */
const perVector = (lanes: number) => 1 + 3 * lanes;

/** Fewest radix-4 steps (>= 1) holding acc as a signed 2*steps-bit number. */
function stepsFor(acc: number): number {
  let j = 1;
  while (j < 16 && (acc > 2 ** (2 * j - 1) - 1 || acc < -(2 ** (2 * j - 1)))) j++;
  return j;
}

interface Lane {
  acc: number;
  m0: number;
  s: number;
}

function encode(
  words: Uint32Array,
  v: number,
  steps: number,
  zp: number,
  lo: number,
  hi: number,
  lanes: Lane[],
): number[] {
  const PER = perVector(lanes.length);
  words[v * PER] = ((zp & 0xff) | ((lo & 0xff) << 8) | ((hi & 0xff) << 16) | ((steps - 1) << 24)) >>> 0;
  return lanes.map((ln, l) => {
    words[v * PER + 1 + 3 * l] = ln.acc >>> 0;
    words[v * PER + 2 + 3 * l] = ln.m0 / 2 ** 15;
    // the unit takes the window shift S - 16 - 2*Steps, at most 15 (host/compiler)
    words[v * PER + 3 + 3 * l] = ln.m0 === 0 ? 15 : Math.min(ln.s - 16 - 2 * steps, 15);
    return requantClamp(ln.acc, { m0: ln.m0, s: ln.s }, zp, lo, hi);
  });
}

async function runTb(exe: string, words: Uint32Array, interval?: number): Promise<Int8Array> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nnfpga-rq-'));
  try {
    await writeFile(path.join(dir, 'in.bin'), new Uint8Array(words.buffer));
    const args = [path.join(dir, 'in.bin'), path.join(dir, 'out.bin')];
    await run(exe, interval === undefined ? args : [...args, String(interval)]);
    return new Int8Array((await readFile(path.join(dir, 'out.bin'))).buffer.slice(0));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function firstMismatch(got: Int8Array, want: number[], words: Uint32Array, LANES: number): string {
  const PER = perVector(LANES);
  expect(got.length).toBe(want.length);
  const bad = want.findIndex((w, i) => got[i] !== w);
  if (bad < 0) return '';
  const v = Math.floor(bad / LANES);
  const l = bad % LANES;
  return (
    `vector ${v} lane ${l}: acc ${words[v * PER + 1 + 3 * l] | 0}, m ${words[v * PER + 2 + 3 * l]}, ` +
    `window shift ${words[v * PER + 3 + 3 * l]}, steps ${(words[v * PER] >>> 24) + 1}: device ${got[bad]}, reference ${want[bad]}`
  );
}

describe.each([
  ['npu_requant', 4, 1],
  ['npu_requant', 4, 2],
  ['npu_requant', 8, 2],
  // the block schedule's requantizer: every lane at once, one vector a cycle (UNITS 0)
  ['npu_requant_vec', 8, 0],
] as const)('%s, %i lanes, %i Booth unit(s)', (TOP, LANES, UNITS) => {
  const PER = perVector(LANES);
  const vector = TOP === 'npu_requant_vec';
  const build = () =>
    buildVerilator({
      name: `requant_tb_${TOP}_${LANES}x${UNITS}`,
      top: TOP,
      sources: [`rtl/${TOP}.v`],
      cppSources: ['sim/requant_tb.cpp'],
      params: vector ? { Lanes: LANES } : { Lanes: LANES, RqUnits: UNITS },
      defines: vector ? { REQUANT_LANES: LANES, REQUANT_VEC: 1 } : { REQUANT_LANES: LANES },
    });
  const r = rng(42 + 10 * LANES + UNITS);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const accEdges = [
    0,
    1,
    -1,
    2 ** 31 - 1,
    -(2 ** 31),
    2 ** 30,
    -(2 ** 30),
    12345,
    -12345,
    2 ** 19 - 1,
    -(2 ** 19),
  ];
  const randAcc = (): number => {
    const k = r();
    if (k < 0.1) return accEdges[int(0, accEdges.length - 1)];
    if (k < 0.35) return int(-(2 ** 31), 2 ** 31 - 1);
    // every width: the boundaries of each Steps
    const bits = int(2, 32);
    return int(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1);
  };
  const randM0 = () =>
    (r() < 0.05 ? 0 : r() < 0.05 ? 2 ** 16 - 1 : r() < 0.05 ? 2 ** 15 : int(2 ** 15, 2 ** 16 - 1)) * 2 ** 15;
  /** S for a lane whose accumulator fits 2*Steps bits, or (saturating) does not. */
  const randS = (steps: number, fits = true) => {
    const min = 16 + 2 * steps;
    if (!fits) return int(min, Math.min(62, min + 5));
    const k = r();
    return k < 0.15 ? min : k < 0.25 ? 62 : k < 0.35 ? Math.min(62, min + 15) : int(min, 62);
  };
  const randClamp = (): [number, number, number] => {
    const zp = int(-128, 127);
    let lo = int(-128, 127);
    let hi = int(-128, 127);
    if (r() < 0.5) {
      lo = -128;
      hi = 127;
    } else if (lo > hi) [lo, hi] = [hi, lo];
    return [zp, lo, hi];
  };

  it('matches requantClamp on 10,000 vectors of random and edge inputs, each vector on its own parameters', async () => {
    const exe = await build();
    const n = 10_000;
    const words = new Uint32Array(n * PER);
    const want: number[] = [];
    for (let v = 0; v < n; v++) {
      const accs = Array.from({ length: LANES }, randAcc);
      // the fewest steps that hold every lane, sometimes more (the compiler's bound is
      // an upper bound on the accumulators), sometimes fewer (lanes that do not fit
      // saturate: their shift is at most 5)
      const need = Math.max(...accs.map(stepsFor));
      const k = r();
      const steps = k < 0.6 ? need : k < 0.8 ? int(need, 16) : int(1, need);
      const [zp, lo, hi] = randClamp();
      want.push(
        ...encode(
          words,
          v,
          steps,
          zp,
          lo,
          hi,
          accs.map((acc) => ({ acc, m0: randM0(), s: randS(steps, stepsFor(acc) <= steps) })),
        ),
      );
    }
    const got = await runTb(exe, words);
    const msg = firstMismatch(got, want, words, LANES);
    expect(msg === '' ? -1 : 0, msg).toBe(-1);
  });

  it("takes only an accumulator's low 2*Steps bits where the window shift is above 5 (a max pool's: the maximum in the low byte, the adder's bits above)", async () => {
    const exe = await build();
    const n = 2_000;
    const words = new Uint32Array(n * PER);
    const want: number[] = [];
    for (let v = 0; v < n; v++) {
      const steps = int(1, 15);
      const [zp, lo, hi] = randClamp();
      const top = 2 ** (2 * steps - 1);
      const lanes = Array.from({ length: LANES }, () => {
        const low = int(-top, top - 1);
        // anything above the low 2*Steps bits, and a window shift s = S - 16 - 2*Steps >= 6
        const acc = (int(-(2 ** 31), 2 ** 31 - 1) & ~(2 * top - 1)) | (low & (2 * top - 1));
        return { low, acc, m0: randM0(), s: Math.min(62, int(22 + 2 * steps, 31 + 2 * steps)) };
      });
      encode(words, v, steps, zp, lo, hi, lanes);
      want.push(...lanes.map((ln) => requantClamp(ln.low, { m0: ln.m0, s: ln.s }, zp, lo, hi)));
    }
    const got = await runTb(exe, words);
    const msg = firstMismatch(got, want, words, LANES);
    expect(msg === '' ? -1 : 0, msg).toBe(-1);
  });

  it('matches requantClamp on vectors back to back at one per max(ceil(Steps / RqUnits), Lanes) cycles (the vector unit: one a cycle), saturating lanes included', async () => {
    const exe = await build();
    for (let steps = 1; steps <= 16; steps++) {
      const n = 600;
      const words = new Uint32Array(n * PER);
      const want: number[] = [];
      const [zp, lo, hi] = randClamp();
      // half the lanes (when Steps leave room) may take accumulators wider than 2*Steps
      // bits: their window shift is at most 5, so they saturate (the header)
      const lanes = Array.from({ length: LANES }, (_, l) => {
        const wide = l % 2 === 1 && steps < 16;
        return { m0: randM0(), s: randS(steps, !wide), wide };
      });
      const top = 2 ** (2 * steps - 1);
      for (let v = 0; v < n; v++) {
        const accs = lanes.map((ln) =>
          ln.wide && r() < 0.5
            ? randAcc()
            : r() < 0.1
              ? [top - 1, -top, 0, -1][int(0, 3)]
              : int(-top, top - 1),
        );
        want.push(
          ...encode(
            words,
            v,
            steps,
            zp,
            lo,
            hi,
            lanes.map((ln, l) => ({ m0: ln.m0, s: ln.s, acc: accs[l] })),
          ),
        );
      }
      const got = await runTb(exe, words, vector ? 1 : Math.max(Math.ceil(steps / UNITS), LANES));
      const msg = firstMismatch(got, want, words, LANES);
      expect(msg === '' ? -1 : 0, `Steps ${steps}: ${msg}`).toBe(-1);
    }
  });
});
