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
import { ModelTooLargeError } from '../../../host/errors.ts';
import { numel } from '../../../host/ir.ts';
import { importOnnx } from '../../../host/onnx/import.ts';
import { calibrate, quantizeModel } from '../../../host/quant/quantize.ts';
import type { QAdd, QModel } from '../../../host/quant/types.ts';
import { buildModel, randomArray } from '../helpers.ts';
import { generatedModels } from '../models.ts';
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

  it('reuses the memory of a dead tensor (liveness): the pool writes over the conv input', () => {
    const r = rng(8);
    const q = randQ(r);
    const c1 = randConv(r, { c: 4, h: 28, w: 28, oc: 8, k: [3, 3], pads: [1, 1, 1, 1] }, q, 'c1');
    const p1 = randPool(r, 'maxpool', [8, 28, 28], [2, 2], [2, 2], [0, 0, 0, 0], c1.outQ);
    const img = compile(modelOf([c1, p1], q), BOARD_CONFIG);
    expect(img.layers[1].output.addr).toBe(img.input.addr); // the input is dead once c1 ran
    expect(img.amemWordsUsed).toBe(784 + 1568); // input beside c1's output, no more
    const distinct = compile(modelOf([c1, p1], q), SIM_CONFIG, { allocation: 'distinct' });
    const [o0, o1] = distinct.layers.map((l) => l.output);
    expect(o1.addr).toBeGreaterThanOrEqual(o0.addr + o0.words); // nothing shared
    expect(distinct.input.addr + distinct.input.words).toBeLessThanOrEqual(o0.addr);
  });

  it('refuses models that do not fit with one line naming the layer, the memory and both sizes', () => {
    const r = rng(9);
    const q = randQ(r);
    const big = randDense(r, [1024], 200, q, false, 'fc_big');
    expect(() => compile(modelOf([big], q), BOARD_CONFIG)).toThrow(ModelTooLargeError);
    expect(() => compile(modelOf([big], q), BOARD_CONFIG)).toThrow(
      /^layer 'fc_big' \(dense\): WMEM needs 207,200 bytes for the weights and parameters \(207,200 up to this layer\), the configuration has 131,072$/,
    );
    const wide = randConv(r, { c: 16, h: 64, w: 64, oc: 16, k: [1, 1] }, q, 'wide');
    expect(() => compile(modelOf([wide], q), BOARD_CONFIG)).toThrow(
      /^layer 'wide' \(conv\): AMEM needs 131,072 bytes for the activations alive while it runs, the configuration has 10,240$/,
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
    expect(p.layers[0].wmem).toBe(compile(m, BOARD_CONFIG).wmem.length * 4);
    expect(p.peak.amem).toBe((784 + 1568) * 4);
    expect(p).toMatchObject({ fits: true, fitReason: null, available: { amem: 10240 } });
    const wide = randConv(r, { c: 16, h: 64, w: 64, oc: 16, k: [1, 1] }, q, 'wide');
    expect(plan(modelOf([wide], q), BOARD_CONFIG)).toMatchObject({ fits: false, fitReason: /AMEM needs/ });
  });

  it('a residual add is one CONV over a two-row view: the row step is the distance between the operands', () => {
    const q = quantizedGen('residual_concat');
    const img = compile(q, SIM_CONFIG);
    const k = q.layers.findIndex((l) => l.kind === 'add');
    const add = q.layers[k] as QAdd;
    expect(img.layers[k].steps.count).toBe(1);
    const d = img.descriptors.subarray(img.layers[k].steps.first * DESC_WORDS);
    const [a, b] = add.inputs.map((t) => img.layers[t].output.addr / 2); // memory words (N = 8)
    expect(d[0]).toBe(OP_CONV);
    expect(d[3]).toBe(2 | (64 << 16)); // 2 rows of 8x8 pixels
    expect(d[4]).toBe(1 | (1 << 16)); // CG = OG = 1 (8 channels)
    expect(d[6] & 0xffff).toBe(2 | (1 << 8)); // kernel 2x1
    expect(d[11] & 0xffff).toBe((b - a + 65536) % 65536); // row step: from a to b
    expect(d[13] & 0xffff).toBe(a); // P(0, 0): a itself
    // weights: w_a on the diagonal of tile ky = 0, w_b of tile ky = 1; folded bias
    const bytes = new Int8Array(img.wmem.buffer, d[8] * 8);
    const [wa, wb] = add.weights;
    expect(bytes[(12 + 3) * 8 + 3]).toBe(wa);
    expect(bytes[(12 + 8 + 5) * 8 + 5]).toBe(wb);
    expect(bytes[(12 + 3) * 8 + 4]).toBe(0);
    const p = new DataView(img.wmem.buffer, d[8] * 8);
    expect(p.getInt32(0, true)).toBe(-(add.inQ.zeroPoint * wa + add.inQB.zeroPoint * wb));
  });

  it('a depthwise conv on several channel groups runs one CONV per group on planes', () => {
    const q = quantizedGen('wide_depthwise');
    const img = compile(q, SIM_CONFIG);
    const k = q.layers.findIndex((l) => l.kind === 'conv' && l.group === 20);
    const { first, count } = img.layers[k].steps;
    expect(count).toBe(3); // 20 channels: 3 groups of 8
    const out = img.layers[k].output;
    expect(out.planar).toBe(true);
    const src = img.layers[k - 1].output; // the pointwise conv wrote its planes directly
    expect(src.planar).toBe(true);
    const [, oh, ow] = q.layers[k].output;
    const [, h, w] = q.layers[k].input;
    for (let g = 0; g < 3; g++) {
      const d = img.descriptors.subarray((first + g) * DESC_WORDS);
      expect(d[4]).toBe(1 | (1 << 16)); // CG = OG = 1
      expect(d[2]).toBe(out.addr / 2 + g * oh * ow); // its output plane
      expect(d[13] >>> 16).toBe(3 * 2); // K = 3x2 taps, one group
      expect(d[11] & 0xffff).toBe(w); // the plane's row step
      expect(d[1]).toBe(src.addr / 2 + g * h * w); // its input plane
    }
    // the model input is not planar: the first depthwise conv copies it into planes first
    expect(img.layers[0].steps.count).toBe(2 + 2); // 12 channels: 2 copies, 2 convs
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
