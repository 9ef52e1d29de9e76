// The alternative rounding rules against values worked out by hand from their
// definitions (gemmlowp for TFLite; float32 scale + round-half-even for ONNX Runtime).
import { describe, expect, it } from 'vitest';
import {
  addRuleDistance,
  nnfpgaRule,
  onnxruntimeAdd,
  onnxruntimeRule,
  roundHalfEven,
  roundingDivideByPOT,
  saturatingRoundingDoublingHighMul,
  tfliteAdd,
  tfliteMultiplier,
  tfliteRule,
} from '../../../host/quant/rounding.ts';

const P30 = 2 ** 30;

describe('gemmlowp primitives', () => {
  it('SaturatingRoundingDoublingHighMul nudges by 2^30 (or 1 - 2^30) then truncates', () => {
    expect(saturatingRoundingDoublingHighMul(3, P30)).toBe(2); // (3*2^30 + 2^30) / 2^31 = 2
    expect(saturatingRoundingDoublingHighMul(-3, P30)).toBe(-1); // (-2^32 + 1) / 2^31 -> -1
    expect(saturatingRoundingDoublingHighMul(-10, 3 * 2 ** 29)).toBe(-7); // (-16*2^30 + 1) / 2^31 -> -7
    expect(saturatingRoundingDoublingHighMul(-(2 ** 31), -(2 ** 31))).toBe(2 ** 31 - 1); // saturation
  });

  it('RoundingDivideByPOT rounds half away from zero', () => {
    expect(roundingDivideByPOT(5, 1)).toBe(3); // 2.5
    expect(roundingDivideByPOT(-5, 1)).toBe(-3); // -2.5
    expect(roundingDivideByPOT(-6, 2)).toBe(-2); // -1.5
    expect(roundingDivideByPOT(6, 2)).toBe(2); // 1.5
    expect(roundingDivideByPOT(7, 2)).toBe(2); // 1.75
    expect(roundingDivideByPOT(-7, 2)).toBe(-2); // -1.75
  });
});

describe('rounding rules', () => {
  it('tfliteRule rounds twice: M = 0.1875, acc = 2 gives 1 where the exact 0.375 rounds to 0', () => {
    const m = { m0: 3 * 2 ** 29, s: 33 }; // 0.75 * 2^31 * 2^-33 = 0.1875
    expect(tfliteRule(2, m)).toBe(1); // SRDHM: 1.5 -> 2, then 2 / 4 = 0.5 -> 1
    expect(nnfpgaRule(2, m)).toBe(0); // floor(0.375 + 0.5)
    expect(onnxruntimeRule(2, m)).toBe(0);
  });

  it('differ on ties: M = 0.25 with acc = -6 (-1.5) and acc = 10 (2.5)', () => {
    const m = { m0: P30, s: 32 };
    expect(nnfpgaRule(-6, m)).toBe(-1); // half toward +infinity
    expect(tfliteRule(-6, m)).toBe(-2); // SRDHM -3, then -1.5 away from zero
    expect(onnxruntimeRule(-6, m)).toBe(-2); // half to even
    expect(nnfpgaRule(10, m)).toBe(3);
    expect(tfliteRule(10, m)).toBe(3);
    expect(onnxruntimeRule(10, m)).toBe(2);
  });

  it('tfliteRule shifts left when S < 31 (M >= 1)', () => {
    expect(tfliteRule(3, { m0: P30, s: 29 })).toBe(6); // M = 2
    expect(tfliteRule(-5, { m0: 3 * 2 ** 29, s: 30 })).toBe(-7); // M = 1.5: -7.5 -> -7
    expect(nnfpgaRule(-5, { m0: 3 * 2 ** 29, s: 30 })).toBe(-7);
    expect(onnxruntimeRule(-5, { m0: 3 * 2 ** 29, s: 30 })).toBe(-8); // half to even
  });

  it('onnxruntimeRule works in float32: M0 = 2^31 - 1 becomes a scale of exactly 1', () => {
    const m = { m0: 2 ** 31 - 1, s: 31 };
    expect(onnxruntimeRule(16777217, m)).toBe(16777216); // acc itself rounds to float32
    expect(nnfpgaRule(16777217, m)).toBe(16777217);
  });

  it('roundHalfEven sends ties to the even neighbour', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, -2.6].map(roundHalfEven)).toEqual([
      0, 2, 2, -0, -2, -2, 2, -3,
    ]);
  });
});

describe('residual add against the runtimes', () => {
  it("TFLite's ADD: rescale each input at 2^20 precision, sum, requantize (worked example)", () => {
    // s_a = 0.02, s_b = 0.01, s_y = 0.05; a - a_zp = 10 (0.2), b - b_zp = -3 (-0.03): 0.17/0.05 = 3.4
    const l = {
      kind: 'add' as const,
      name: 'r',
      inputs: [0, 1],
      input: [1],
      output: [1],
      inQ: { scale: 0.02, zeroPoint: 5 },
      inQB: { scale: 0.01, zeroPoint: -2 },
      outQ: { scale: 0.05, zeroPoint: 1 },
      lo: -128,
      hi: 127,
      weights: [2, 1] as [number, number],
      mult: { m0: 0, s: 31 },
    };
    expect(tfliteAdd(l, 15, -5)).toBe(4); // 1 + round(3.4)
    expect(onnxruntimeAdd(l, 15, -5)).toBe(4);
    expect(tfliteAdd({ ...l, lo: 6 }, 15, -5)).toBe(6); // fused Relu clamp
    expect(tfliteMultiplier(0.5)).toEqual({ m0: 2 ** 30, shift: 0 });
    expect(tfliteMultiplier(0.3)).toEqual({ m0: Math.round(0.6 * 2 ** 31), shift: -1 });
  });

  it("the project's add is within 1 LSB of TFLite's ADD and ONNX Runtime's, on under 1 % of outputs", () => {
    for (const other of [tfliteAdd, onnxruntimeAdd]) {
      const d = addRuleDistance(other, 12);
      expect(d.outputs).toBe(12 * 65536);
      expect(d.max_lsb).toBe(1);
      expect(d.differing).toBeLessThan(0.01);
      expect(d.differing).toBeGreaterThan(0); // not the same rule
    }
  });
});
