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
  decodeDescriptor,
  encodeDescriptor,
  extensionUse,
  ogPeriods,
  ogWords,
  programCycleBound,
  type LayerFields,
} from '../../../host/compiler/program.ts';
import { importOnnx } from '../../../host/onnx/import.ts';
import { calibrate, quantizeModel } from '../../../host/quant/quantize.ts';
import { modelOf, randConv, randDense, randPool, randQ, rng } from '../../rtl/random-models.ts';
import { buildModel, randomArray } from '../helpers.ts';
import { mlperfModels } from '../../../host/bench/mlperf.ts';

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
    expect(refusal(dmem, (d) => (d[2] = 4090))).toMatch(/descriptor 0: output \[4090, \d+\) outside AMEM/);
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

describe('the requantizer interval (word 9)', () => {
  it('is max(ceil(Steps / U), N) - 1 for U Booth units, and checkProgram refuses a program compiled for another U', () => {
    const r = rng(23);
    const seen = new Set<number>();
    for (let n = 0; n < 12; n++) {
      const q = randQ(r);
      const c = randConv(
        r,
        { c: 3 + n, h: 6, w: 5, oc: 9, k: n % 2 ? [1, 1] : [3, 3], pads: [0, 0, 0, 0] },
        q,
      );
      const model = modelOf([c], q);
      const one = compile(model, { ...SIM_CONFIG, requantUnits: 1 });
      const two = compile(model, SIM_CONFIG);
      expect(SIM_CONFIG.requantUnits).toBe(2);
      const steps = (one.dmem[9] & 0xf) + 1;
      seen.add(steps);
      // the same program but for word 9's interval field
      expect(two.dmem[9] & ~0x1f00).toBe(one.dmem[9] & ~0x1f00);
      expect(((one.dmem[9] >>> 8) & 0x1f) + 1).toBe(Math.max(steps, 8));
      expect(((two.dmem[9] >>> 8) & 0x1f) + 1).toBe(Math.max(Math.ceil(steps / 2), 8));
      if (steps > 8) {
        expect(() => checkProgram(two.dmem, { ...SIM_CONFIG, requantUnits: 1 })).toThrow(/word 9/);
        expect(() => checkProgram(one.dmem, SIM_CONFIG)).toThrow(/word 9/);
      }
    }
    // Steps above N: where the two differ
    expect([...seen].some((s) => s > 8)).toBe(true);
    for (let steps = 1; steps <= 16; steps++) {
      const f = { ...decodeDescriptor(sample().dmem)!, steps };
      for (const [dim, units] of [
        [4, 1],
        [4, 2],
        [8, 1],
        [8, 2],
      ])
        expect(((encodeDescriptor(f, dim, units)[9] >>> 8) & 0x1f) + 1).toBe(
          units === 2 ? Math.max(Math.ceil(steps / 2), dim) : Math.max(steps, dim),
        );
    }
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

// The AMEM extension (ARCHITECTURE section 3): AMEM words 2048.. of the iCEBreaker are
// WMEM's upper half, a RAM that serves one request a cycle. KWS DS-CNN (16,000 live bytes)
// needs it; a compiled program alternates its layers' outputs between the two memories.
describe('checkProgram and the AMEM extension', () => {
  const kws = () => {
    const m = importOnnx(buildModel(mlperfModels.mlperf_kws()), 'kws');
    const q = quantizeModel(m, calibrate(m, randomArray(2 * 490, 1), 2), { model: 'kws', calibration: 'r' });
    return compile(q, BOARD_CONFIG);
  };
  const fields = (img: { descriptors: Uint32Array }) =>
    Array.from({ length: img.descriptors.length / DESC_WORDS }, (_, i) =>
      decodeDescriptor(img.descriptors.subarray(i * DESC_WORDS, (i + 1) * DESC_WORDS))!,
    );
  const half = BOARD_CONFIG.wmemWords / 2;

  it('a compiled program never reads and writes the extension in one descriptor, and those that use it have their weights in the lower half', () => {
    const r = rng(5);
    const q = randQ(r);
    // a chain of convs over 22x22x16 tensors (1,936 words each): only one fits the EBR
    const chain = [randConv(r, { c: 16, h: 22, w: 22, oc: 16, k: [1, 1] }, q, 'c0')];
    for (let i = 1; i < 5; i++)
      chain.push(
        randConv(
          r,
          { c: 16, h: 22, w: 22, oc: 16, k: [3, 3], pads: [1, 1, 1, 1] },
          chain[i - 1].outQ,
          `c${i}`,
        ),
      );
    for (const img of [kws(), compile(modelOf(chain, q), BOARD_CONFIG)]) {
      const use = fields(img).map((f) => ({ f, ...extensionUse(f, BOARD_CONFIG) }));
      expect(use.some((u) => u.writes)).toBe(true);
      expect(use.some((u) => u.reads)).toBe(true);
      for (const u of use) {
        expect(u.reads && u.writes).toBe(false);
        if (u.reads || u.writes) expect(u.f.wBase + u.f.og * ogWords(u.f, 4)).toBeLessThanOrEqual(half);
      }
      for (const seg of img.segments) expect(() => checkProgram(seg, BOARD_CONFIG)).not.toThrow();
    }
  });

  it('refuses a descriptor that reads and writes the extension, one that uses it with weights in the upper half, and weights in the WMEM words that are the extension', () => {
    const img = kws();
    const fs = fields(img);
    const dw1 = fs.findIndex((f) => extensionUse(f, BOARD_CONFIG).writes);
    const other = fs.findIndex((f) => {
      const x = extensionUse(f, BOARD_CONFIG);
      return !x.reads && !x.writes;
    });
    expect(dw1).toBeGreaterThanOrEqual(0);
    expect(other).toBeGreaterThanOrEqual(0);
    const with_ = (i: number, change: Partial<LayerFields>) => (d: Uint32Array) =>
      d.set(encodeDescriptor({ ...fs[i], ...change }, 4), i * DESC_WORDS);
    const seg = img.segments[0];
    expect(refusal(seg, () => {})).toBe('accepted');
    // dw1 writes the extension; now it reads it too (every derived word agrees)
    expect(refusal(seg, with_(dw1, { inBase: 2048 }))).toMatch(
      new RegExp(`descriptor ${dw1}: it reads and writes the AMEM extension`),
    );
    // dw1 with its weights in the upper half, past the words that are the extension
    expect(refusal(seg, with_(dw1, { wBase: half + 8192 }))).toMatch(
      new RegExp(`descriptor ${dw1}: it uses the AMEM extension and has weights .* in WMEM's upper half`),
    );
    // a descriptor that does not use the extension may keep weights in the upper half,
    // but not in the words that are the extension while another descriptor uses it
    expect(refusal(seg, with_(other, { wBase: half + 8192 }))).toBe('accepted');
    expect(refusal(seg, with_(other, { wBase: half + 2048 + 100 }))).toMatch(
      /descriptor \d+ uses the AMEM extension, and descriptor \d+ has its weights in the WMEM words that are the extension/,
    );
  });

  it("weights past WMEM's lower half only where the extension's rule allows, else one line naming the layer and the memory", () => {
    const r = rng(6);
    const q = randQ(r);
    // 1,936-word activations, two alive at once (too much for the EBR alone), then a dense
    // layer with 61 KiB of weights that end past WMEM's lower half (before the words that
    // are the extension)
    const c0 = randConv(r, { c: 16, h: 22, w: 22, oc: 16, k: [1, 1] }, q, 'c0');
    const c1 = randConv(r, { c: 16, h: 22, w: 22, oc: 16, k: [5, 5], pads: [2, 2, 2, 2] }, c0.outQ, 'c1');
    const c2 = randConv(r, { c: 16, h: 22, w: 22, oc: 16, k: [1, 1] }, c1.outQ, 'c2');
    const convs = [c0, c1, c2];
    const dense = (from: (typeof convs)[number]) => randDense(r, [16, 22, 22], 8, from.outQ, false, 'big');
    // input in EBR, c0's output in the extension, c1's in EBR: the dense layer reads EBR and
    // may keep its weights in the upper half, outside the words that are the extension
    const ok = compile(modelOf([convs[0], convs[1], dense(convs[1])], q), BOARD_CONFIG);
    expect(fields(ok).some((f) => extensionUse(f, BOARD_CONFIG).writes)).toBe(true);
    const last = fields(ok).at(-1)!;
    expect(extensionUse(last, BOARD_CONFIG)).toEqual({ reads: false, writes: false });
    expect(last.wBase + last.og * ogWords(last, 4)).toBeGreaterThan(half);
    for (const seg of ok.segments) expect(() => checkProgram(seg, BOARD_CONFIG)).not.toThrow();
    // one conv more: the dense layer would read the extension with weights in the upper half
    expect(() => compile(modelOf([...convs, dense(convs[2])], q), BOARD_CONFIG)).toThrow(
      /^layer 'c0' \(conv\): AMEM needs 15,488 bytes for the activations alive while it runs, the configuration has 8,192 \(the AMEM extension is WMEM's upper half, and layer 'big', which would use it, has its weights past the lower 65,536 bytes\)$/,
    );
  });
});
