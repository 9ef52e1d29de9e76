// The compiler's images against docs/ARCHITECTURE.md sections 3 and 4: AMEM layout,
// descriptor words, weight tiles, folded parameters, size checks.
import { describe, expect, it } from 'vitest';
import {
  compile,
  DESC_WORDS,
  imageRuns,
  OP_CONV,
  OP_END,
  OP_MAXPOOL,
  plan,
} from '../../../host/compiler/compile.ts';
import { BOARD_CONFIG, SIM_CONFIG, coreParams } from '../../../host/compiler/configs.ts';
import { packTensor, unpackTensor } from '../../../host/compiler/layout.ts';
import { decodeDescriptor } from '../../../host/compiler/program.ts';
import { ModelTooLargeError } from '../../../host/errors.ts';
import { numel } from '../../../host/ir.ts';
import { importOnnx } from '../../../host/onnx/import.ts';
import { calibrate, quantizeModel } from '../../../host/quant/quantize.ts';
import type { QAdd, QConv, QModel } from '../../../host/quant/types.ts';
import { buildModel, randomArray } from '../helpers.ts';
import { generatedModels } from '../models.ts';
import {
  modelOf,
  randConv,
  randDense,
  randInt8,
  randPool,
  randQ,
  rng,
  withSelfAdd,
} from '../../rtl/random-models.ts';

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

function quantizedGen(name: string): QModel {
  const fm = importOnnx(buildModel(generatedModels[name]), name);
  const x = randomArray(8 * numel(fm.input), 5, 1, 0.2);
  return quantizeModel(fm, calibrate(fm, x, 8), { model: name, calibration: 'random' });
}

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

  it('refuses a multiplier too large for the 16-bit requantizer, and 31-bit models', () => {
    const r = rng(9);
    const q = randQ(r);
    const conv = randConv(
      r,
      { c: 4, h: 3, w: 3, oc: 4, k: [3, 3], stride: [1, 1], pads: [1, 1, 1, 1] },
      q,
      'c',
    );
    // S - 16 must leave at least one Booth digit
    conv.mult[2] = { m0: 2 ** 30, s: 17 };
    expect(() => compile(modelOf([conv], q), BOARD_CONFIG)).toThrow(/channel 2: .*S >= 18/);
    // channel 2 limits the layer to 2 digits; channel 3 needs more and would not saturate
    // (the others' window shift is 5: a wider accumulator saturates, exactly)
    conv.mult = conv.mult.map(() => ({ m0: 2 ** 30, s: 25 }));
    conv.mult[2] = { m0: 2 ** 30, s: 21 };
    conv.mult[3] = { m0: 2 ** 30, s: 45 };
    expect(() => compile(modelOf([conv], q), BOARD_CONFIG)).toThrow(/channel 3 needs \d+-bit accumulators/);
    conv.mult[3] = { m0: 2 ** 30, s: 25 };
    expect(() => compile(modelOf([conv], q), BOARD_CONFIG)).not.toThrow();
    conv.mult[2] = { m0: 2 ** 30, s: 45 };
    const m31 = { ...modelOf([conv], q), m0Bits: 31 as const };
    expect(() => compile(m31, BOARD_CONFIG)).toThrow(/31-bit M0, the device runs 16-bit ones: re-quantize/);
    const { m0Bits: _dropped, ...legacy } = m31;
    expect(() => compile(legacy, BOARD_CONFIG)).toThrow(/re-quantize it with 'nnfpga quantize'/);
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
    const cg = 2; // ceil(5/4)
    const k = 3 * 2 * cg;
    const u16 = (v: number) => ((v % 65536) + 65536) % 65536;
    expect(d[0]).toBe(OP_CONV);
    expect(d[2]).toBe(d[1] + 6 * 7 * cg); // the output right after the input
    expect(d[3]).toBe(6 | (7 << 16)); // in_h | in_w
    expect(d[4]).toBe((cg - 1) | ((2 - 1) << 16)); // the cg loop, OG = ceil(6/4), minus one
    expect(d[5]).toBe((3 - 1) | ((2 - 1) << 8) | (2 << 16) | (1 << 24)); // KH-1, KW-1, sh, sw
    expect(d[6]).toBe((7 * cg) | (1 << 16)); // W*CG | koff step per kx after the cg loop
    expect(d[7]).toBe((1 * cg) | (u16((2 * 7 - (ow - 1) * 1) * cg) << 16)); // pp per pixel | per row end
    expect(d[10]).toBe(
      ((q.zeroPoint & 0xff) |
        ((conv.outQ.zeroPoint & 0xff) << 8) |
        ((conv.lo & 0xff) << 16) |
        ((conv.hi & 0xff) << 24)) >>>
        0,
    );
    expect(d[11]).toBe((u16(4 - k) | (3 << 16)) >>> 0); // W - K | W - 1, W = min(K, 4)
    expect(d[12]).toBe((u16(d[1] - (1 * 7 + 0) * cg) | ((oh * ow - 2 + 4) << 16)) >>> 0);
    expect(d[13]).toBe((u16(-1) | (u16(-0) << 16)) >>> 0); // -pt | -pl
    expect(d[14]).toBe((u16(2 * 4 - 1 - k) | ((ow - 1) << 16)) >>> 0);
    expect(d[15]).toBe(0);
    expect(d[16]).toBe(0); // END
    // per og: 8 parameter words, then its tiles; weight word r of tile (og, ky, kx, cg),
    // byte j = W[og*4+j][cg*4+r][ky][kx]
    const bytes = new Int8Array(img.wmem.buffer);
    const ogWords = 8 + k * 4;
    expect(d[9] >>> 16).toBe(k * 4);
    const tile = (og: number, ky: number, kx: number, c: number) =>
      og * ogWords + 8 + ((ky * 2 + kx) * cg + c) * 4;
    const W = (o: number, c: number, ky: number, kx: number) =>
      o < oc && c < 5 ? conv.weights[((o * 5 + c) * 3 + ky) * 2 + kx] : 0;
    for (const [og, ky, kx, c, row, j] of [
      [0, 0, 0, 0, 0, 0],
      [1, 2, 1, 1, 0, 1],
      [1, 1, 0, 1, 3, 3],
      [0, 2, 1, 0, 2, 2],
    ])
      expect(bytes[(d[8] + tile(og, ky, kx, c) + row) * 4 + j]).toBe(W(og * 4 + j, c * 4 + row, ky, kx));
    // requantizer steps: the widest accumulator bias + sum(w * (x - x_zp)) over int8 x
    let bits = 0;
    for (let o = 0; o < oc; o++) {
      let hi = conv.bias[o];
      let lo = conv.bias[o];
      for (let t = 0; t < 30; t++) {
        const v = conv.weights[o * 30 + t];
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
    expect(d[9] & 0xffff).toBe((steps - 1) | ((Math.max(steps, 4) - 1) << 8));
    // params: m = M0 / 2^15 | the window shift S - 16 - 2*steps << 16, then
    // bias_folded = bias - x_zp * sum(w)
    const p = new DataView(img.wmem.buffer, d[8] * 4);
    for (let o = 0; o < oc; o++) {
      const base = Math.floor(o / 4) * ogWords * 4 + (o % 4) * 4;
      let sw = 0;
      for (let t = 0; t < 30; t++) sw += conv.weights[o * 30 + t];
      expect(p.getInt32(base + 16, true)).toBe((conv.bias[o] - q.zeroPoint * sw) | 0);
      const { m0, s } = conv.mult[o];
      expect(p.getUint32(base, true)).toBe(m0 / 2 ** 15 + (Math.min(s - 16 - 2 * steps, 15) << 16));
    }
  });

  it('dense as the first layer reads its input as a vector; pools are grouped layers', () => {
    const r = rng(6);
    const q = randQ(r);
    const img = compile(modelOf([randDense(r, [3, 4, 4], 9, q, false)], q), SIM_CONFIG);
    expect(img.input.shape).toEqual([48]);
    expect(img.dmem[3]).toBe(1 | (1 << 16));
    expect(img.dmem[4]).toBe(5 | (1 << 16)); // CG = 48/8, OG = 2, minus one
    expect(img.dmem[5] & 0xffff).toBe(0); // 1x1 kernel
    const pool = compile(
      modelOf([randPool(r, 'maxpool', [5, 6, 6], [2, 2], [2, 2], [0, 0, 0, 0], q)], q),
      BOARD_CONFIG,
    );
    expect(pool.dmem[0]).toBe(OP_MAXPOOL | (1 << 4)); // grouped
    expect(pool.dmem[4]).toBe(0 | (1 << 16)); // a cg loop of one, OG = 2
    expect(pool.dmem[6]).toBe((6 * 2) | (2 << 16)); // koff per kx: CG
    expect(pool.dmem[10] & 0xffff).toBe(0x80); // pads read -128, y_zp 0
    // identity tiles: word r, byte j = (r == j)
    const bytes = new Int8Array(pool.wmem.buffer);
    for (let r2 = 0; r2 < 4; r2++)
      for (let j = 0; j < 4; j++) expect(bytes[(pool.dmem[8] + 8 + r2) * 4 + j]).toBe(r2 === j ? 1 : 0);
  });

  it('reuses the memory of a dead tensor (liveness): the pool writes over the conv input', () => {
    const r = rng(8);
    const q = randQ(r);
    const c1 = randConv(r, { c: 4, h: 28, w: 28, oc: 8, k: [3, 3], pads: [1, 1, 1, 1] }, q, 'c1');
    const p1 = randPool(r, 'maxpool', [8, 28, 28], [2, 2], [2, 2], [0, 0, 0, 0], c1.outQ);
    const img = compile(modelOf([c1, p1], q), SIM_CONFIG);
    expect(img.layers[1].output.addr).toBe(img.input.addr); // the input is dead once c1 ran
    // the input (pixel-packed, two columns of 4 channels a word: 392 words) beside c1's
    // output, no more
    expect(img.amemWordsUsed).toBe((392 + 784) * 2);
    const distinct = compile(modelOf([c1, p1], q), SIM_CONFIG, { allocation: 'distinct' });
    const [o0, o1] = distinct.layers.map((l) => l.output);
    expect(o1.addr).toBeGreaterThanOrEqual(o0.addr + o0.words); // nothing shared
    const apart = (a: { addr: number; words: number }, b: { addr: number; words: number }) =>
      a.addr + a.words <= b.addr || b.addr + b.words <= a.addr;
    expect(apart(distinct.input, o0) && apart(distinct.input, o1)).toBe(true);
  });

  it('refuses models that do not fit with one line naming the layer, the memory and both sizes', () => {
    const r = rng(9);
    const q = randQ(r);
    const big = randDense(r, [1024], 200, q, false, 'fc_big');
    expect(() => compile(modelOf([big], q), BOARD_CONFIG)).toThrow(ModelTooLargeError);
    expect(() => compile(modelOf([big], q), BOARD_CONFIG)).toThrow(
      /^layer 'fc_big' \(dense\): WMEM needs 206,400 bytes for the weights and parameters \(206,400 up to this layer\), the configuration has 131,072$/,
    );
    const wide = randConv(r, { c: 16, h: 64, w: 64, oc: 16, k: [1, 1] }, q, 'wide');
    expect(() => compile(modelOf([wide], q), BOARD_CONFIG)).toThrow(
      /^layer 'wide' \(conv\): AMEM needs 131,072 bytes for the activations alive while it runs, the configuration has 8,192 and 8,192 in its extension, and neither has room for a 65,536-byte tensor$/,
    );
  });

  it('runs more layers than the program memory holds in segments of MaxLayers descriptors', () => {
    const r = rng(9);
    const q = randQ(r);
    const many = Array.from({ length: 17 }, (_, i) =>
      randPool(r, 'maxpool', [4, 2, 2], [1, 1], [1, 1], [0, 0, 0, 0], q, `p${i}`),
    );
    const img = compile(modelOf(many, q), SIM_CONFIG);
    expect(img.segments.map((s) => s.length / DESC_WORDS)).toEqual([16, 2]); // 16 (full), 1 + END
    expect(img.segments[1][DESC_WORDS]).toBe(OP_END);
    expect(img.dmem).toBe(img.segments[0]);
    expect(imageRuns(img, true).map((run) => run.count)).toEqual(new Array(17).fill(1));
  });

  it('gives per-layer and peak memory needs, and says why a model does not fit', () => {
    const r = rng(8);
    const q = randQ(r);
    const c1 = randConv(r, { c: 4, h: 28, w: 28, oc: 8, k: [3, 3], pads: [1, 1, 1, 1] }, q, 'c1');
    const p1 = randPool(r, 'maxpool', [8, 28, 28], [2, 2], [2, 2], [0, 0, 0, 0], c1.outQ, 'p1');
    const m = modelOf([c1, p1], q);
    const p = plan(m, BOARD_CONFIG);
    expect(p.layers.map((l) => [l.name, l.amem, l.descriptors])).toEqual([
      ['c1', (784 + 1568) * 4, 1],
      ['p1', (1568 + 392) * 4, 1], // the pool's output in the input's place, beside c1's
    ]);
    // the pool's identity tiles are weights too
    expect(p.layers[0].wmem + p.layers[1].wmem).toBe(compile(m, BOARD_CONFIG).wmem.length * 4);
    expect(p.peak.amem).toBe((784 + 1568) * 4);
    // AMEM's 16 EBRs and its extension in the upper SPRAM pair: 2048 + 2048 words
    expect(p).toMatchObject({ fits: true, fitReason: null, available: { amem: 16384 } });
    const wide = randConv(r, { c: 16, h: 64, w: 64, oc: 16, k: [1, 1] }, q, 'wide');
    expect(plan(modelOf([wide], q), BOARD_CONFIG)).toMatchObject({ fits: false, fitReason: /AMEM needs/ });
  });

  it('a residual add is one CONV over a stacked view: the kernel-row step is the distance between the operands', () => {
    const q = quantizedGen('residual_concat');
    const img = compile(q, SIM_CONFIG, { block: false }); // the sliding window's fields
    const k = q.layers.findIndex((l) => l.kind === 'add');
    const add = q.layers[k] as QAdd;
    expect(img.layers[k].steps.count).toBe(1);
    const d = img.descriptors.subarray(img.layers[k].steps.first * DESC_WORDS);
    const [a, b] = add.inputs.map((t) => img.layers[t].output.addr / 2); // memory words (N = 8)
    const u16 = (v: number) => ((v % 65536) + 65536) % 65536;
    expect(d[0]).toBe(OP_CONV | (1 << 5)); // K = 2 < N on two requantizer pipelines: two slides
    expect(d[11] >>> 16).toBe(3); // a window of 2K = 4 pixels, minus one
    expect(d[3]).toBe(2 | (64 << 16)); // one row of the 8x8 pixels' 64 words, two kernel rows
    expect(d[4]).toBe(0); // CG = OG = 1 (8 channels), minus one
    expect(d[5]).toBe(1 | (0 << 8) | (1 << 16) | (1 << 24)); // kernel 2x1, strides 1
    expect(d[6]).toBe((u16(b - a) | (1 << 16)) >>> 0); // kernel-row step: from a to b
    expect(d[7] & 0xffff).toBe(1); // one word per pixel
    expect(d[12] & 0xffff).toBe(a); // P(0, 0): a itself
    // weights: w_a on the diagonal of tile ky = 0, w_b of tile ky = 1; folded bias
    const bytes = new Int8Array(img.wmem.buffer, d[8] * 8);
    const [wa, wb] = add.weights;
    expect(bytes[(8 + 3) * 8 + 3]).toBe(wa);
    expect(bytes[(8 + 8 + 5) * 8 + 5]).toBe(wb);
    expect(bytes[(8 + 3) * 8 + 4]).toBe(0);
    const p = new DataView(img.wmem.buffer, d[8] * 8);
    expect(p.getInt32(4 * 8, true)).toBe(-(add.inQ.zeroPoint * wa + add.inQB.zeroPoint * wb));
  });

  it('an add of more than 255 words reads them as rows, in two pieces when their count has no divisor that fits', () => {
    const r = rng(12);
    const q = randQ(r);
    // 24 channels on N = 4: 6 words per pixel, 10 x 13 pixels: 780 words = 4 rows of 195
    const conv = randConv(r, { c: 3, h: 10, w: 13, oc: 24, k: [1, 1] }, q, 'c');
    const img = compile(withSelfAdd(modelOf([conv], q)), BOARD_CONFIG);
    const { first, count } = img.layers[1].steps;
    expect(count).toBe(1);
    const d = img.descriptors.subarray(first * DESC_WORDS);
    expect(d[3]).toBe(5 | (195 << 16)); // 4 rows (and the second kernel row's reach), 195 wide
    expect(d[12] >>> 16).toBe(780 - 2 + 2); // P - 2 + W
    expect(d[7]).toBe((1 | (1 << 16)) >>> 0); // pixel step 1, and 1 from a row's end to the next
    // 1028 channels of one pixel: 257 words (a prime): a row of 255 and one of 2
    const dense = randDense(r, [8], 1028, q, false, 'd');
    const img2 = compile(withSelfAdd(modelOf([dense], q)), BOARD_CONFIG);
    const steps = img2.layers[1].steps;
    expect(steps.count).toBe(2);
    const d0 = img2.descriptors.subarray(steps.first * DESC_WORDS);
    const d1 = img2.descriptors.subarray((steps.first + 1) * DESC_WORDS);
    expect([d0[3] >>> 16, d1[3] >>> 16]).toEqual([255, 2]);
    expect(d1[1] - d0[1]).toBe(255); // the second piece's operands start 255 words on
    expect(d1[2] - d0[2]).toBe(255);
  });

  it('a depthwise conv on several channel groups is one grouped CONV with diagonal tiles', () => {
    const q = quantizedGen('wide_depthwise');
    const img = compile(q, SIM_CONFIG, { block: false }); // the sliding window's fields
    const k = q.layers.findIndex((l) => l.kind === 'conv' && l.group === 20);
    const { first, count } = img.layers[k].steps;
    expect(count).toBe(1);
    const l = q.layers[k] as QConv;
    const [, , w] = l.input;
    const d = img.descriptors.subarray(first * DESC_WORDS);
    expect(d[0]).toBe(OP_CONV | (1 << 4) | (1 << 5)); // grouped; K = 6 < N: two slides
    expect(d[1]).toBe(img.layers[k - 1].output.addr / 2); // the pointwise conv's output, as it is
    expect(d[4]).toBe(0 | (2 << 16)); // a cg loop of one, OG = 3 (20 channels), minus one
    expect(d[6]).toBe((w * 3) | (3 << 16)); // a row of 3-group pixels; a column step of 3 words
    expect(d[9] >>> 16).toBe(3 * 2 * 8); // K = 3x2 taps: an og's tiles
    // og 2's tile (ky, kx) = (2, 1): byte j of word j is channel 16 + j's weight
    const ogWords = 8 + 6 * 8;
    const bytes = new Int8Array(img.wmem.buffer, d[8] * 8);
    const tile = (2 * ogWords + 8 + (2 * 2 + 1) * 8) * 8;
    for (let r = 0; r < 8; r++)
      for (let j = 0; j < 8; j++)
        expect(bytes[tile + r * 8 + j], `${r} ${j}`).toBe(
          r === j && 16 + j < 20 ? l.weights[((16 + j) * 3 + 2) * 2 + 1] : 0,
        );
    // no copies anywhere: one descriptor per layer but the exclude-pad pools' passes
    expect(img.layers.every((x) => x.steps.count === 1)).toBe(true);
  });

  it('requantizer Steps: every channel fits its digits or saturates exactly, and one step fewer would not', () => {
    // Random 3x3 convs (8 channels, two output groups on N = 4) with a multiplier shift S
    // per channel from 18 to 46, some M0 = 0 (with accumulators near 2^30); a channel o's
    // accumulators are bias + Σ w (x - x_zp) over int8 x. With the compiled Steps and
    // window shifts s_o: a channel either fits 2*Steps bits or has s_o <= 5 (a wider
    // lane saturates, exactly); at Steps - 1 some channel would do neither.
    const fits = (b: [number, number], steps: number) =>
      b[0] <= 2 ** (2 * steps - 1) - 1 && b[1] >= -(2 ** (2 * steps - 1));
    let compiled = 0;
    let saturating = 0;
    let refused = 0;
    for (let seed = 0; seed < 60; seed++) {
      const r = rng(400 + seed);
      const q = randQ(r);
      const conv = randConv(r, { c: 5, h: 4, w: 4, oc: 8, k: [3, 3], pads: [1, 1, 1, 1] }, q, 'c');
      const base = 18 + Math.floor(r() * 24);
      conv.mult = conv.mult.map(({ m0 }) => ({ m0, s: Math.min(62, base + Math.floor(r() * 6)) }));
      if (seed % 3 === 0) {
        conv.mult[5] = { m0: 0, s: 31 };
        conv.bias[5] = 2 ** 30;
      }
      const bound = (o: number): [number, number] => {
        let hi = conv.bias[o];
        let lo = conv.bias[o];
        for (let t = 0; t < 45; t++) {
          const v = conv.weights[o * 45 + t];
          hi += Math.max(v * (127 - q.zeroPoint), v * (-128 - q.zeroPoint));
          lo += Math.min(v * (127 - q.zeroPoint), v * (-128 - q.zeroPoint));
        }
        return [hi, lo];
      };
      const live = [...Array(8).keys()].filter((o) => conv.mult[o].m0 !== 0);
      // channel o requires Steps >= min(need_o, ceil((S_o - 21) / 2)); no shift may be negative
      const requires = (o: number, steps: number) =>
        fits(bound(o), steps) || conv.mult[o].s - 16 - 2 * steps <= 5;
      const cap = Math.min(...live.map((o) => Math.floor((conv.mult[o].s - 16) / 2)));
      const model = modelOf([conv], q);
      if (!live.every((o) => requires(o, cap))) {
        expect(() => compile(model, BOARD_CONFIG)).toThrow(/channel \d+ needs \d+-bit accumulators/);
        refused++;
        continue;
      }
      const img = compile(model, BOARD_CONFIG);
      const f = decodeDescriptor(img.dmem)!;
      const steps = f.steps;
      const ogWords = 8 + 9 * 2 * 4;
      const p = new DataView(img.wmem.buffer, f.wBase * 4);
      for (let o = 0; o < 8; o++) {
        const word = p.getUint32(Math.floor(o / 4) * ogWords * 4 + (o % 4) * 4, true);
        const { m0, s } = conv.mult[o];
        expect(word & 0xffff).toBe(m0 / 2 ** 15);
        // M0 = 0: shift 15, a lane that never saturates (m = 0 gives y_zp)
        expect(word >>> 16, `channel ${o}`).toBe(m0 === 0 ? 15 : Math.min(s - 16 - 2 * steps, 15));
        if (m0 !== 0)
          expect(requires(o, steps), `seed ${seed} channel ${o}: inexact at Steps ${steps}`).toBe(true);
      }
      if (steps > 1)
        expect(
          live.some((o) => !requires(o, steps - 1)),
          `seed ${seed}: Steps ${steps - 1} would be exact too`,
        ).toBe(true);
      if (live.some((o) => !fits(bound(o), steps))) saturating++;
      compiled++;
    }
    // the cases above: layers whose lanes saturate, and refusals
    expect(compiled).toBeGreaterThan(30);
    expect(saturating).toBeGreaterThan(10);
    expect(refused).toBeGreaterThan(0);
  });

  it('a global pool is one descriptor with OG = 1: its channel groups are the pixels', () => {
    const r = rng(14);
    const q = randQ(r);
    for (const kind of ['avgpool', 'maxpool'] as const) {
      // 20 channels on N = 8: three groups, the last one half full; a 4x5 window at the
      // top left of 5x6 (stride 2: one output)
      for (const [k, stride] of [
        [
          [5, 6],
          [1, 1],
        ],
        [
          [4, 5],
          [2, 2],
        ],
      ] as [[number, number], [number, number]][]) {
        const pool = randPool(r, kind, [20, 5, 6], k, stride, [0, 0, 0, 0], q);
        const img = compile(modelOf([pool], q), SIM_CONFIG);
        expect(img.layers[0].steps.count).toBe(1);
        const f = decodeDescriptor(img.dmem)!;
        expect(f.op).toBe(kind === 'maxpool' ? OP_MAXPOOL : OP_CONV);
        expect(f.grouped).toBe(true); // og 0 only: input group 0 + 0
        expect([f.cg, f.og, f.oh, f.ow]).toEqual([1, 1, 1, 3]); // three pixels: the groups
        expect([f.kh, f.kw]).toEqual(k);
        expect([f.rowStep, f.colStep, f.pxStep]).toEqual([6 * 3, 3, 1]);
        expect([f.pt, f.pl]).toEqual([0, 0]);
        // the pad test never fires: every tap of every pixel lies inside its extents
        expect(f.h).toBeGreaterThanOrEqual(k[0]);
        expect(f.w).toBeGreaterThanOrEqual(2 + k[1]);
        expect(f.outBase).toBe(img.output.addr / 2); // pixel g: the output's word g
        // the kh*kw tiles once, each the identity on all 8 lanes (every lane a channel)
        expect(img.wmem.length).toBe((8 + k[0] * k[1] * 8) * 2);
        const bytes = new Int8Array(img.wmem.buffer, f.wBase * 8);
        const last = (8 + (k[0] * k[1] - 1) * 8) * 8;
        for (let row = 0; row < 8; row++)
          for (let j = 0; j < 8; j++) expect(bytes[last + row * 8 + j]).toBe(row === j ? 1 : 0);
      }
    }
    // with padding, or an output larger than 1x1, a pool stays grouped, one og per group
    const padded = randPool(r, 'avgpool', [20, 5, 6], [5, 6], [1, 1], [1, 1, 1, 1], q);
    const f = decodeDescriptor(compile(modelOf([padded], q), SIM_CONFIG).dmem)!;
    expect([f.grouped, f.og]).toEqual([true, 3]);
  });

  it('configs match the ARCHITECTURE table', () => {
    expect(coreParams(BOARD_CONFIG)).toEqual({
      Dim: 4,
      AmemWords: 2048,
      AmemExtWords: 2048,
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
      RqUnits: 2,
      RqPipes: 2,
      OutShift: 1,
      Block: 1,
    });
  });
});
