// The one rounding rule that the integer reference and the RTL (rtl/npu_requant.v)
// share bit for bit (docs/ARCHITECTURE.md section 2):
//
//   requant(acc, M0, S) = floor((acc * M0 + 2^(S-1)) / 2^S)     1 <= S <= 62
//
// i.e. the exact 64-bit product rounded half toward +infinity. JavaScript numbers hold
// integers exactly only up to 2^53, so the product is split on M0's 16-bit halves.

import type { Multiplier } from './types.ts';

const TWO16 = 65536;

/** Exact requantization of an int32 accumulator; see the file header. */
export function requant(acc: number, m0: number, s: number): number {
  if (s < 17) return requantBig(acc, m0, s);
  const mh = Math.floor(m0 / TWO16);
  const ml = m0 - mh * TWO16;
  const hi = acc * mh; // |hi| < 2^46
  const lo = acc * ml; // |lo| < 2^47
  // acc*M0 + 2^(S-1) = (hi + floor(lo/2^16) + 2^(S-17)) * 2^16 + (lo mod 2^16); the low
  // 16 bits cannot change floor(./2^S) because S >= 16.
  const a = hi + Math.floor(lo / TWO16) + 2 ** (s - 17);
  return Math.floor(a / 2 ** (s - 16));
}

function requantBig(acc: number, m0: number, s: number): number {
  const bs = BigInt(s);
  const v = (BigInt(acc) * BigInt(m0) + (1n << (bs - 1n))) >> bs;
  return Number(v);
}

/** y = clamp(zp + requant(acc), lo, hi). */
export function requantClamp(acc: number, mult: Multiplier, zp: number, lo: number, hi: number): number {
  const y = zp + requant(acc, mult.m0, mult.s);
  return y < lo ? lo : y > hi ? hi : y;
}

/**
 * Significant bits of M0 that nnfpga's devices run (SPEC section 3, revision 2): M0 =
 * m * 2^15 with m in [2^15, 2^16), the 16-bit multiplier of rtl/npu_requant.v. The
 * quantizer encodes for it, the compiler accepts nothing else.
 */
export const DEVICE_M0_BITS = 16;

/** The M0 widths a quantized model may record (QModel.m0Bits): 31 is the full int32. */
export type M0Bits = 16 | 31;

/**
 * Encodes a positive real multiplier as M0 in [2^30, 2^31) with `m0Bits` significant
 * bits (M0 a multiple of 2^(31 - m0Bits)) and S = 31 + n, so that M ≈ M0 * 2^-S.
 * Multipliers too small to represent give M0 = 0 (output = zero point); multipliers of
 * 2^30 or more are refused.
 */
export function encodeMultiplier(m: number, m0Bits: M0Bits = 31): Multiplier {
  if (!(m > 0) || !Number.isFinite(m)) {
    if (m === 0) return { m0: 0, s: 31 };
    throw new RangeError(`multiplier ${m} is not a positive finite number`);
  }
  // m = f * 2^e with f in [0.5, 1): M0 = round(f * 2^31), S = 31 - e.
  let e = Math.floor(Math.log2(m)) + 1;
  let f = m / 2 ** e;
  if (f >= 1) {
    f /= 2;
    e += 1;
  } else if (f < 0.5) {
    f *= 2;
    e -= 1;
  }
  const unit = 2 ** (31 - m0Bits);
  let m0 = Math.round(f * 2 ** m0Bits) * unit;
  if (m0 === 2 ** 31) {
    m0 = 2 ** 30;
    e += 1;
  }
  const s = 31 - e;
  if (s > 62) return { m0: 0, s: 62 };
  if (s < 1) throw new RangeError(`multiplier ${m} is too large to encode (needs a left shift)`);
  return { m0, s };
}
