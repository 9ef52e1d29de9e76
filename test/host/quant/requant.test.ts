// requant() at its edges, against values worked out by hand from
// requant(acc, M0, S) = floor((acc * M0 + 2^(S-1)) / 2^S) (docs/ARCHITECTURE.md section 2).
import { describe, expect, it } from 'vitest';
import { requant, requantClamp } from '../../../host/quant/requant.ts';
import { rng } from '../helpers.ts';

const P30 = 2 ** 30;
const MAX_M0 = 2 ** 31 - 1;

describe('requant', () => {
  it('rounds exact ties (acc*M0 = half of 2^S) toward +infinity', () => {
    expect(requant(1, P30, 31)).toBe(1); // 0.5 -> 1
    expect(requant(-1, P30, 31)).toBe(0); // -0.5 -> 0
    expect(requant(3, P30, 31)).toBe(2); // 1.5 -> 2
    expect(requant(-3, P30, 31)).toBe(-1); // -1.5 -> -1
    expect(requant(2 ** 30, MAX_M0, 31)).toBe(2 ** 30); // 2^30 - 0.5 -> 2^30
    expect(requant(-(2 ** 30), MAX_M0, 31)).toBe(-(2 ** 30) + 1); // -2^30 + 0.5 -> -2^30 + 1
  });

  it('rounds non-ties to nearest for negative and positive accumulators', () => {
    expect(requant(5, P30, 32)).toBe(1); // 1.25
    expect(requant(-5, P30, 32)).toBe(-1); // -1.25
    expect(requant(7, P30, 32)).toBe(2); // 1.75
    expect(requant(-7, P30, 32)).toBe(-2); // -1.75
    expect(requant(0, MAX_M0, 40)).toBe(0);
  });

  it('is exact for the largest products (M0 = 2^31 - 1, |acc| = 2^31)', () => {
    // (2^31-1)^2 / 2^31 = 2^31 - 2 + 2^-31 -> 2^31 - 2
    expect(requant(MAX_M0, MAX_M0, 31)).toBe(2 ** 31 - 2);
    // -2^31 (2^31-1) / 2^31 = -(2^31 - 1) exactly
    expect(requant(-(2 ** 31), MAX_M0, 31)).toBe(-(2 ** 31 - 1));
  });

  it('handles S = 1 (a multiplier near 2^30)', () => {
    expect(requant(3, P30, 1)).toBe(1610612736); // (3*2^30 + 1) >> 1
    expect(requant(-3, P30, 1)).toBe(-1610612736); // floor(-1610612735.5)
  });

  it('handles S = 62 (the smallest multipliers)', () => {
    // (2^62 - 2^32 + 1 + 2^61) / 2^62 = 1.5 - (2^32 - 1) / 2^62 -> 1
    expect(requant(MAX_M0, MAX_M0, 62)).toBe(1);
    // (-2^62 + 2^31 + 2^61) / 2^62 = -0.5 + 2^-31 -> floor = -1
    expect(requant(-(2 ** 31), MAX_M0, 62)).toBe(-1);
    expect(requant(1000, P30, 62)).toBe(0);
  });

  it('equals the exact BigInt definition on random accumulators, multipliers and shifts', () => {
    const r = rng(7);
    for (let i = 0; i < 5000; i++) {
      const acc = Math.trunc(r() * 2 ** 31);
      const m0 = P30 + Math.floor(Math.abs(r()) * P30);
      const s = 1 + Math.floor(Math.abs(r()) * 62);
      const exact = Number((BigInt(acc) * BigInt(m0) + (1n << BigInt(s - 1))) >> BigInt(s));
      expect(requant(acc, m0, s)).toBe(exact);
    }
  });

  it('saturates to [lo, hi] after adding the zero point', () => {
    const m = { m0: P30, s: 31 }; // M = 0.5
    expect(requantClamp(100000, m, 0, -128, 127)).toBe(127);
    expect(requantClamp(-100000, m, 0, -128, 127)).toBe(-128);
    expect(requantClamp(-10, m, -20, -20, 127)).toBe(-20); // fused Relu: lo = zero point
    expect(requantClamp(10, m, -20, -128, 127)).toBe(-15);
  });
});
