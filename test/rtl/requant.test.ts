// npu_requant against host/quant/requant.ts (requantClamp): random and extreme
// accumulators, multipliers and shifts (1..62), zero points and clamp bounds, every
// result compared.
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

describe('npu_requant', () => {
  it('matches requantClamp on 40,000 lanes of random and edge inputs', async () => {
    const exe = await buildVerilator({
      name: 'requant_tb',
      top: 'npu_requant',
      sources: ['rtl/npu_requant.v'],
      cppSources: ['sim/requant_tb.cpp'],
      params: { Lanes: 4, TagWidth: 32 },
    });
    const r = rng(42);
    const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    const accEdges = [0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 30, -(2 ** 30), 12345, -12345];
    const n = 10_000;
    const words = new Uint32Array(n * 13);
    const want: number[] = [];
    for (let v = 0; v < n; v++) {
      const zp = int(-128, 127);
      let lo = int(-128, 127);
      let hi = int(-128, 127);
      if (r() < 0.5) {
        lo = -128;
        hi = 127;
      } else if (lo > hi) [lo, hi] = [hi, lo];
      words[v * 13] = (zp & 0xff) | ((lo & 0xff) << 8) | ((hi & 0xff) << 16);
      for (let l = 0; l < 4; l++) {
        const k = r();
        const acc = k < 0.1 ? accEdges[int(0, accEdges.length - 1)] : k < 0.5 ? int(-(2 ** 31), 2 ** 31 - 1) : int(-(2 ** 20), 2 ** 20);
        const m0 = r() < 0.05 ? 0 : r() < 0.05 ? 2 ** 31 - 1 : int(2 ** 30, 2 ** 31 - 1);
        const s = r() < 0.1 ? [1, 2, 30, 31, 32, 61, 62][int(0, 6)] : r() < 0.7 ? int(28, 50) : int(1, 62);
        words[v * 13 + 1 + 3 * l] = acc >>> 0;
        words[v * 13 + 2 + 3 * l] = m0;
        words[v * 13 + 3 + 3 * l] = s;
        want.push(requantClamp(acc, { m0, s }, zp, lo, hi));
      }
    }
    const dir = await mkdtemp(path.join(os.tmpdir(), 'nnfpga-rq-'));
    try {
      await writeFile(path.join(dir, 'in.bin'), new Uint8Array(words.buffer));
      await run(exe, [path.join(dir, 'in.bin'), path.join(dir, 'out.bin')]);
      const got = new Int8Array((await readFile(path.join(dir, 'out.bin'))).buffer.slice(0));
      expect(got.length).toBe(want.length);
      const bad = want.findIndex((w, i) => got[i] !== w);
      const msg =
        bad < 0
          ? ''
          : `lane value ${bad}: acc ${words[Math.floor(bad / 4) * 13 + 1 + 3 * (bad % 4)] | 0}, m0 ${words[Math.floor(bad / 4) * 13 + 2 + 3 * (bad % 4)]}, s ${words[Math.floor(bad / 4) * 13 + 3 + 3 * (bad % 4)]}: device ${got[bad]}, reference ${want[bad]}`;
      expect(bad, msg).toBe(-1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
