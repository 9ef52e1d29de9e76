// The descriptor program's host-side contract (docs/ARCHITECTURE.md section 4):
// checkProgram() accepts what the compiler emits and refuses, with one line, every kind of
// malformed descriptor; programCycleBound() and ogPeriods() follow the sliding window.
import { describe, expect, it } from 'vitest';
import { compile } from '../../../host/compiler/compile.ts';
import { BOARD_CONFIG, HX8K_CONFIG, SIM_CONFIG } from '../../../host/compiler/configs.ts';
import {
  DESC_WORDS,
  OP_CONV,
  OP_MAXPOOL,
  ProgramError,
  checkProgram,
  ogPeriods,
  programCycleBound,
} from '../../../host/compiler/program.ts';
import { modelOf, randConv, randDense, randPool, randQ, rng } from '../../rtl/random-models.ts';

function sample() {
  const r = rng(3);
  const q = randQ(r);
  const c = randConv(r, { c: 5, h: 9, w: 8, oc: 7, k: [3, 3], pads: [1, 1, 1, 1], relu: true }, q, 'c');
  const p = randPool(r, 'maxpool', [7, 9, 8], [2, 2], [2, 2], [0, 0, 1, 0], c.outQ, 'p');
  const d = randDense(r, p.output, 10, p.outQ, false, 'd');
  return compile(modelOf([c, p, d], q), BOARD_CONFIG);
}

/** checkProgram's one-line message for a copy of the program changed by `edit`. */
function refusal(dmem: Uint32Array, edit: (d: Uint32Array) => void): string {
  const d = Uint32Array.from(dmem);
  edit(d);
  try {
    checkProgram(d, BOARD_CONFIG);
  } catch (err) {
    expect(err).toBeInstanceOf(ProgramError);
    const msg = (err as Error).message;
    expect(msg.split('\n')).toHaveLength(1);
    return msg;
  }
  return 'accepted';
}

describe('checkProgram', () => {
  it('accepts every program the compiler emits, on every configuration', () => {
    const r = rng(11);
    for (const cfg of [BOARD_CONFIG, HX8K_CONFIG, SIM_CONFIG]) {
      for (let n = 0; n < 20; n++) {
        const q = randQ(r);
        const c = randConv(
          r,
          { c: 1 + (n % 9), h: 3 + (n % 5), w: 4, oc: 1 + (n % 7), k: [3, 2], pads: [1, 0, 1, 1] },
          q,
        );
        const p = randPool(
          r,
          n % 2 ? 'maxpool' : 'avgpool',
          c.output as [number, number, number],
          [2, 2],
          [1, 2],
          [0, 0, 0, 0],
          c.outQ,
          'p',
        );
        const img = compile(modelOf([c, p], q), cfg);
        expect(() => checkProgram(img.dmem, cfg)).not.toThrow();
      }
    }
  });

  it('refuses unknown ops, inconsistent derived words, out-of-range tensors and missing ends', () => {
    const { dmem } = sample();
    expect(refusal(dmem, () => {})).toBe('accepted');
    expect(refusal(dmem, (d) => (d[16] = 3))).toMatch(/descriptor 1: unknown op 3/);
    expect(refusal(dmem, (d) => (d[0] = OP_CONV | (1 << 8)))).toMatch(/descriptor 0: word 0/);
    // the Bresenham step no longer matches the kernel
    expect(refusal(dmem, (d) => (d[11] ^= 1))).toMatch(/descriptor 0: word 1[14]/);
    // K*N, the og's WMEM stride
    expect(refusal(dmem, (d) => (d[9] += 1 << 16))).toMatch(/descriptor 0: word/);
    // an output past AMEM (every derived word still agrees)
    expect(refusal(dmem, (d) => (d[2] = 2500))).toMatch(/descriptor 0: output \[2500, \d+\) outside AMEM/);
    // weights past WMEM
    expect(refusal(dmem, (d) => (d[8] = 32760))).toMatch(/descriptor 0: weights .* outside WMEM/);
    // a max pool that is not grouped
    expect(refusal(dmem, (d) => (d[16] = OP_MAXPOOL))).toMatch(/descriptor 1:/);
    // the END descriptor cut off
    expect(refusal(dmem.subarray(0, 3 * DESC_WORDS), () => {})).toMatch(/no END descriptor after layer 2/);
    // all ones: every field at its maximum
    expect(refusal(dmem, (d) => d.fill(0xffffffff, 0, DESC_WORDS))).toMatch(/descriptor 0: unknown op 15/);
    expect(
      refusal(dmem, (d) => {
        d.fill(0xffffffff, 0, DESC_WORDS);
        d[0] = OP_CONV;
      }),
    ).toMatch(/descriptor 0:/);
  });
});

describe('cycle bound', () => {
  it('ogPeriods: each pixel meets all K tiles in a window of min(K, N) pixels', () => {
    for (const dim of [4, 8]) {
      for (const k of [1, 2, 3, 4, 5, 9, 36, 196]) {
        for (const p of [1, 2, 7, 100]) {
          // the controller's Bresenham loop, period by period
          const w = Math.min(k, dim);
          let x = 2 * w - 1 - k;
          let s = 1 - w;
          let periods = 0;
          for (;;) {
            periods++;
            const slide = x >= 0;
            x += slide ? w - k : w;
            if (slide) {
              if (s === p - 1) break;
              s++;
            }
          }
          expect(ogPeriods(p, k, dim), `K ${k} P ${p} N ${dim}`).toBe(periods);
        }
      }
    }
  });

  it('programCycleBound covers every layer of the sample and grows with its work', () => {
    const img = sample();
    const bound = programCycleBound(img.dmem, BOARD_CONFIG);
    expect(bound).toBeGreaterThan(9 * 8 * 2 * 9 * 4); // at least the conv's periods
    expect(programCycleBound(img.dmem.subarray(0, DESC_WORDS), BOARD_CONFIG)).toBeLessThan(bound);
  });
});
