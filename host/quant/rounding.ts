// Named requantization rounding rules (RoundingRule of host/quant/intref.ts): the
// project's rule and the two that SPEC section 3 asks the host to compare against.
// Each returns the requantized value before the output zero point and the clamp.
// Our multiplier is M = M0 * 2^-S (S = 31 + n); TFLite writes it as M0 * 2^-31 * 2^shift,
// so shift = 31 - S (a left shift when S < 31).
import type { RoundingRule } from './intref.ts';
import { requant } from './requant.ts';
import type { Multiplier } from './types.ts';

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** The project's rule (docs/ARCHITECTURE.md section 2): floor((acc*M0 + 2^(S-1)) / 2^S). */
export const nnfpgaRule: RoundingRule = (acc, mult) => requant(acc, mult.m0, mult.s);

/** Two's-complement int32 wrap, as C's int32 arithmetic does on every target TFLite runs on. */
function wrap32(x: bigint): bigint {
  return BigInt.asIntN(32, x);
}

/**
 * gemmlowp SaturatingRoundingDoublingHighMul(a, b): the high 32 bits of 2*a*b, rounded
 * to nearest with ties away from zero; the one overflowing case (a = b = INT32_MIN)
 * saturates to INT32_MAX.
 *   nudge = ab >= 0 ? 2^30 : 1 - 2^30;  result = (ab + nudge) / 2^31  (C division: truncates)
 */
export function saturatingRoundingDoublingHighMul(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  const ab = BigInt(a) * BigInt(b);
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return Number((ab + nudge) / (1n << 31n)); // BigInt division truncates toward zero, like C
}

/**
 * gemmlowp RoundingDivideByPOT(x, e): x / 2^e rounded to nearest, ties away from zero.
 *   mask = 2^e - 1; remainder = x & mask; threshold = (mask >> 1) + (x < 0 ? 1 : 0)
 *   result = (x >> e) + (remainder > threshold ? 1 : 0)
 */
export function roundingDivideByPOT(x: number, e: number): number {
  if (e === 0) return x;
  const bx = BigInt(x);
  const mask = (1n << BigInt(e)) - 1n;
  const remainder = bx & mask;
  const threshold = (mask >> 1n) + (bx < 0n ? 1n : 0n);
  return Number((bx >> BigInt(e)) + (remainder > threshold ? 1n : 0n));
}

/**
 * TFLite's MultiplyByQuantizedMultiplier (double rounding):
 *   RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(acc * 2^left, M0), right)
 * with left = max(31 - S, 0), right = max(S - 31, 0). The left-shifted accumulator wraps
 * like TFLite's int32 multiplication.
 */
export const tfliteRule: RoundingRule = (acc: number, mult: Multiplier) => {
  const left = Math.max(31 - mult.s, 0);
  const right = Math.max(mult.s - 31, 0);
  const x = Number(wrap32(BigInt(acc) << BigInt(left)));
  return roundingDivideByPOT(saturatingRoundingDoublingHighMul(x, mult.m0), right);
};

/** Round half to even (nearbyint in the default rounding mode). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x); // half up
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * ONNX Runtime's requantization (MlasRequantizeOutput): the multiplier as a float32
 * scale, acc converted to float32, one float32 product, rounded half to even.
 */
export const onnxruntimeRule: RoundingRule = (acc: number, mult: Multiplier) => {
  const scale = Math.fround(mult.m0 * 2 ** -mult.s);
  return roundHalfEven(Math.fround(Math.fround(acc) * scale));
};

/** The rules by name, for reports. */
export const roundingRules: Record<'nnfpga' | 'tflite' | 'onnxruntime', RoundingRule> = {
  nnfpga: nnfpgaRule,
  tflite: tfliteRule,
  onnxruntime: onnxruntimeRule,
};
