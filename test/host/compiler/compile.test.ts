// The compiler's images against docs/ARCHITECTURE.md sections 3 and 4: AMEM layout,
// descriptor words, weight tiles, folded parameters, size checks.
import { describe, expect, it } from 'vitest';
import { compile, OP_CONV, OP_MAXPOOL } from '../../../host/compiler/compile.ts';
import { BOARD_CONFIG, SIM_CONFIG, coreParams } from '../../../host/compiler/configs.ts';
import { packTensor, unpackTensor } from '../../../host/compiler/layout.ts';
import { ModelTooLargeError } from '../../../host/errors.ts';
import { modelOf, randConv, randDense, randInt8, randPool, randQ, rng } from '../../rtl/random-models.ts';

describe('AMEM layout', () => {
  it('packs channel groups innermost, lanes past C hold the pad value', () => {
    // [C=5, H=1, W=2], N=4: pixel 0 -> words (g0: ch0..3), (g1: ch4, pad x3); pixel 1 likewise
    const x = Int8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]); // CHW: ch c at [2c, 2c+1]
    const w = packTensor(x, [5, 1, 2], 4, -7);
    const bytes = Array.from(new Int8Array(w.buffer));
    expect(bytes).toEqual([1, 3, 5, 7, 9, -7, -7, -7, 2, 4, 6, 8, 10, -7, -7, -7]);
    expect(Array.from(unpackTensor(w, [5, 1, 2], 4))).toEqual(Array.from(x));
  });

  it('round-trips random tensors for N = 4, 8, 16 and vector shapes', () => {
    const r = rng(3);
    for (const dim of [4, 8, 16]) {
      for (const shape of [[3, 5, 7], [17, 2, 3], [33], [8, 1, 1]]) {
        const n = shape.reduce((a, b) => a * b, 1);
        const x = randInt8(r, n);
        const words = packTensor(x, shape, dim, 0);
        expect(words.length).toBe(
          ((shape.length === 3 ? shape[1] * shape[2] : 1) * Math.ceil(shape[0] / dim) * dim) / 4,
        );
        expect(Array.from(unpackTensor(words, shape, dim))).toEqual(Array.from(x));
      }
    }
  });
});

describe('compile', () => {
  it('refuses a weight of -128 (column sums are sized for [-127, 127])', () => {
    const r = rng(9);
    const q = randQ(r);
    const conv = randConv(
      r,
      { c: 4, h: 3, w: 3, oc: 4, k: [1, 1], stride: [1, 1], pads: [0, 0, 0, 0] },
      q,
      'c',
    );
    conv.weights[5] = -128;
    expect(() => compile(modelOf([conv], q), BOARD_CONFIG)).toThrow(/weight -128/);
  });

  it('refuses a multiplier too large for the requantizer at its accumulator width', () => {
    const r = rng(9);
    const q = randQ(r);
    const conv = randConv(
      r,
      { c: 4, h: 3, w: 3, oc: 4, k: [3, 3], stride: [1, 1], pads: [1, 1, 1, 1] },
      q,
      'c',
    );
    // accumulators need about 20 bits: S - 1 must be at least that (here M = 2^10)
    conv.mult[2] = { m0: 2 ** 30, s: 20 };
    expect(() => compile(modelOf([conv], q), BOARD_CONFIG)).toThrow(/channel 2: S = 20 < \d+/);
    conv.mult[2] = { m0: 2 ** 30, s: 45 };
    expect(() => compile(modelOf([conv], q), BOARD_CONFIG)).not.toThrow();
  });

  it('conv descriptor, weight tiles and folded parameters', () => {
    const r = rng(5);
    const q = randQ(r);
    const conv = randConv(
      r,
      { c: 5, h: 6, w: 7, oc: 6, k: [3, 2], stride: [2, 1], pads: [1, 0, 1, 1] },
      q,
      'c',
    );
    const img = compile(modelOf([conv], q), BOARD_CONFIG);
    const d = img.dmem;
    const [oc, oh, ow] = conv.output;
    expect(d[0]).toBe(OP_CONV);
    expect(d[3]).toBe(6 | (7 << 16)); // in_h | in_w
    expect(d[4]).toBe(2 | (2 << 16)); // CG = ceil(5/4), OG = ceil(6/4)
    expect(d[5]).toBe(oh | (ow << 16));
    expect(d[6]).toBe(3 | (2 << 8) | (2 << 16) | (1 << 24));
    expect(d[7]).toBe(1 | (0 << 8));
    expect(d[10] & 0xff).toBe(q.zeroPoint & 0xff);
    expect(d[14]).toBe(oh * ow);
    // layer constants: W*CG | sw*CG, sh*W*CG | OH*OW, P(0,0) mod 2^16 | K = KH*KW*CG
    expect(d[11]).toBe((7 * 2) | ((1 * 2) << 16));
    expect(d[12]).toBe((2 * 7 * 2) | ((oh * ow) << 16));
    expect(d[13]).toBe((((d[1] - (1 * 7 + 0) * 2 + 65536) % 65536) | ((3 * 2 * 2) << 16)) >>> 0);
    expect(d[16]).toBe(0); // END
    // per og: 12 parameter words, then its tiles; weight word r of tile (og, ky, kx, cg),
    // byte j = W[og*4+j][cg*4+r][ky][kx]
    const bytes = new Int8Array(img.wmem.buffer);
    const ogWords = 12 + 3 * 2 * 2 * 4;
    const tile = (og: number, ky: number, kx: number, cg: number) =>
      og * ogWords + 12 + ((ky * 2 + kx) * 2 + cg) * 4;
    const W = (o: number, c: number, ky: number, kx: number) =>
      o < oc && c < 5 ? conv.weights[((o * 5 + c) * 3 + ky) * 2 + kx] : 0;
    for (const [og, ky, kx, cg, row, j] of [
      [0, 0, 0, 0, 0, 0],
      [1, 2, 1, 1, 0, 1],
      [1, 1, 0, 1, 3, 3],
      [0, 2, 1, 0, 2, 2],
    ])
      expect(bytes[(d[8] + tile(og, ky, kx, cg) + row) * 4 + j]).toBe(W(og * 4 + j, cg * 4 + row, ky, kx));
    // requantizer steps: the widest accumulator bias + sum(w * (x - x_zp)) over int8 x
    let bits = 0;
    for (let o = 0; o < oc; o++) {
      let hi = conv.bias[o];
      let lo = conv.bias[o];
      for (let k = 0; k < 30; k++) {
        const v = conv.weights[o * 30 + k];
        hi += Math.max(v * (127 - q.zeroPoint), v * (-128 - q.zeroPoint));
        lo += Math.min(v * (127 - q.zeroPoint), v * (-128 - q.zeroPoint));
      }
      for (let b = 2; b <= 32; b++) {
        if (hi <= 2 ** (b - 1) - 1 && lo >= -(2 ** (b - 1))) {
          bits = Math.max(bits, b);
          break;
        }
      }
    }
    const steps = Math.max(2, Math.ceil(bits / 2));
    expect(d[9]).toBe((steps - 1) | ((Math.max(steps, 4) - 1) << 8));
    // params: bias_folded = bias - x_zp * sum(w), then M0, the window shift S - 1 - 2*steps
    const p = new DataView(img.wmem.buffer, d[8] * 4);
    for (let o = 0; o < oc; o++) {
      const base = Math.floor(o / 4) * ogWords * 4 + (o % 4) * 4;
      let sw = 0;
      for (let k = 0; k < 30; k++) sw += conv.weights[o * 30 + k];
      expect(p.getInt32(base, true)).toBe((conv.bias[o] - q.zeroPoint * sw) | 0);
      expect(p.getUint32(base + 16, true)).toBe(conv.mult[o].m0);
      expect(p.getUint32(base + 32, true)).toBe(Math.min(conv.mult[o].s - 1 - 2 * steps, 31));
    }
  });

  it('dense as the first layer reads its input as a vector; pools keep channels', () => {
    const r = rng(6);
    const q = randQ(r);
    const img = compile(modelOf([randDense(r, [3, 4, 4], 9, q, false)], q), SIM_CONFIG);
    expect(img.input.shape).toEqual([48]);
    expect(img.dmem[3]).toBe(1 | (1 << 16));
    expect(img.dmem[4]).toBe(6 | (2 << 16));
    expect(img.dmem[6] & 0xffff).toBe(1 | (1 << 8));
    const pool = compile(
      modelOf([randPool(r, 'maxpool', [5, 6, 6], [2, 2], [2, 2], [0, 0, 0, 0], q)], q),
      BOARD_CONFIG,
    );
    expect(pool.dmem[0]).toBe(OP_MAXPOOL);
    expect(pool.dmem[4]).toBe(2 | (2 << 16));
  });

  it('falls back to ping-pong when distinct tensors do not fit', () => {
    const r = rng(8);
    const q = randQ(r);
    const c1 = randConv(r, { c: 4, h: 28, w: 28, oc: 8, k: [3, 3], pads: [1, 1, 1, 1] }, q, 'c1');
    const p1 = randPool(r, 'maxpool', [8, 28, 28], [2, 2], [2, 2], [0, 0, 0, 0], c1.outQ);
    const img = compile(modelOf([c1, p1], q), BOARD_CONFIG);
    expect(img.amemWordsUsed).toBeLessThanOrEqual(BOARD_CONFIG.amemWords);
    expect(img.layers[1].output.addr).toBe(img.input.addr); // layer 1 reuses the input's region
  });

  it('refuses models that do not fit, naming both sizes', () => {
    const r = rng(9);
    const q = randQ(r);
    const big = randDense(r, [1024], 200, q, false);
    expect(() => compile(modelOf([big], q), BOARD_CONFIG)).toThrow(ModelTooLargeError);
    expect(() => compile(modelOf([big], q), BOARD_CONFIG)).toThrow(
      /model needs 207,200 WMEM bytes, device has 131,072/,
    );
    const wide = randConv(r, { c: 16, h: 64, w: 64, oc: 16, k: [1, 1] }, q);
    expect(() => compile(modelOf([wide], q), BOARD_CONFIG)).toThrow(
      /model needs [\d,]+ AMEM bytes, device has 10,240/,
    );
    const many = Array.from({ length: 17 }, (_, i) =>
      randPool(r, 'maxpool', [4, 2, 2], [1, 1], [1, 1], [0, 0, 0, 0], q, `p${i}`),
    );
    expect(() => compile(modelOf(many, q), SIM_CONFIG)).toThrow(/17 layers, the device runs at most 16/);
  });

  it('configs match the ARCHITECTURE table', () => {
    expect(coreParams(BOARD_CONFIG)).toEqual({
      Dim: 4,
      AmemWords: 2560,
      WmemWords: 32768,
      DmemWords: 256,
      AccDepth: 256,
      MaxLayers: 16,
    });
    expect(coreParams(SIM_CONFIG)).toEqual({
      Dim: 8,
      AmemWords: 16384,
      WmemWords: 65536,
      DmemWords: 256,
      AccDepth: 1024,
      MaxLayers: 16,
    });
  });
});
