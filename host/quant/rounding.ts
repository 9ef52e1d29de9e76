// Named requantization rounding rules (RoundingRule of host/quant/intref.ts): the
// project's rule and the two that SPEC section 3 asks the host to compare against.
// Each returns the requantized value before the output zero point and the clamp; the
// other two also carry their runtime's residual add (TFLite's ADD, ONNX Runtime's
// QLinearAdd), so that `eval`'s comparison covers the project's add rule too.
// Our multiplier is M = M0 * 2^-S (S = 31 + n); TFLite writes it as M0 * 2^-31 * 2^shift,
// so shift = 31 - S (a left shift when S < 31).
import type { AddRule, RoundingRule } from './intref.ts';
import { addInt } from './intref.ts';
import { addRule } from './quantize.ts';
import { requant } from './requant.ts';
import type { Multiplier, QAdd } from './types.ts';

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
const tfliteRequant = (acc: number, mult: Multiplier): number => {
  const left = Math.max(31 - mult.s, 0);
  const right = Math.max(mult.s - 31, 0);
  const x = Number(wrap32(BigInt(acc) << BigInt(left)));
  return roundingDivideByPOT(saturatingRoundingDoublingHighMul(x, mult.m0), right);
};

/**
 * TFLite's QuantizeMultiplier for a multiplier below 1: M = M0 * 2^-31 * 2^shift, shift
 * <= 0, M0 = round(frac * 2^31) (std::round: half away from zero) of frexp's fraction.
 */
export function tfliteMultiplier(m: number): { m0: number; shift: number } {
  if (m === 0) return { m0: 0, shift: 0 };
  let shift = Math.floor(Math.log2(m)) + 1;
  let frac = m / 2 ** shift;
  if (frac >= 1) {
    frac /= 2;
    shift++;
  } else if (frac < 0.5) {
    frac *= 2;
    shift--;
  }
  let m0 = Math.round(frac * 2 ** 31);
  if (m0 === 2 ** 31) {
    m0 /= 2;
    shift++;
  }
  return { m0, shift };
}

/** gemmlowp MultiplyByQuantizedMultiplierSmallerThanOneExp. */
function mulSmallerThanOne(x: number, q: { m0: number; shift: number }): number {
  return roundingDivideByPOT(saturatingRoundingDoublingHighMul(x, q.m0), -q.shift);
}

/**
 * TFLite's int8 ADD (kernels/add.cc PrepareGeneralSubOp, reference_integer_ops::Add):
 * left_shift 20; each input minus its zero point, shifted left by 20, multiplied by
 * s_in / (2 max(s_a, s_b)); the sum multiplied by 2 max(s_a, s_b) / (2^20 s_y); plus
 * y_zp, clamped to the fused activation's range.
 */
export const tfliteAdd: AddRule = (l: QAdd, a: number, b: number) => {
  const twiceMax = 2 * Math.max(l.inQ.scale, l.inQB.scale);
  const qa = tfliteMultiplier(l.inQ.scale / twiceMax);
  const qb = tfliteMultiplier(l.inQB.scale / twiceMax);
  const qo = tfliteMultiplier(twiceMax / (2 ** 20 * l.outQ.scale));
  const sa = mulSmallerThanOne((a - l.inQ.zeroPoint) * 2 ** 20, qa);
  const sb = mulSmallerThanOne((b - l.inQB.zeroPoint) * 2 ** 20, qb);
  const y = l.outQ.zeroPoint + mulSmallerThanOne(sa + sb, qo);
  return y < l.lo ? l.lo : y > l.hi ? l.hi : y;
};

export const tfliteRule: RoundingRule = Object.assign(tfliteRequant, { add: tfliteAdd });

/** Round half to even (nearbyint in the default rounding mode). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x); // half up
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * ONNX Runtime's requantization (MlasRequantizeOutput): the multiplier as a float32
 * scale, acc converted to float32, one float32 product, rounded half to even.
 */
const onnxruntimeRequant = (acc: number, mult: Multiplier): number => {
  const scale = Math.fround(mult.m0 * 2 ** -mult.s);
  return roundHalfEven(Math.fround(Math.fround(acc) * scale));
};

/**
 * ONNX Runtime's QLinearAdd (MlasQLinearAdd, scalar path): float32 scale ratios
 * s_a / s_y and s_b / s_y, one float32 sum, rounded half to even, plus y_zp, saturated to
 * int8 (then the fused activation's clamp).
 */
export const onnxruntimeAdd: AddRule = (l: QAdd, a: number, b: number) => {
  const ra = Math.fround(l.inQ.scale / l.outQ.scale);
  const rb = Math.fround(l.inQB.scale / l.outQ.scale);
  const v = Math.fround(Math.fround(ra * (a - l.inQ.zeroPoint)) + Math.fround(rb * (b - l.inQB.zeroPoint)));
  const y = Math.max(-128, Math.min(127, roundHalfEven(v) + l.outQ.zeroPoint));
  return y < l.lo ? l.lo : y > l.hi ? l.hi : y;
};

export const onnxruntimeRule: RoundingRule = Object.assign(onnxruntimeRequant, { add: onnxruntimeAdd });

/** The rules by name, for reports. */
export const roundingRules: Record<'nnfpga' | 'tflite' | 'onnxruntime', RoundingRule> = {
  nnfpga: nnfpgaRule,
  tflite: tfliteRule,
  onnxruntime: onnxruntimeRule,
};

/** How far the project's residual add is from another runtime's, over random scales. */
export interface AddDistance {
  /** Output elements compared: every (a, b) int8 pair for each scale configuration. */
  outputs: number;
  /** Share of outputs that differ, and the largest difference in LSBs. */
  differing: number;
  max_lsb: number;
}

/**
 * The project's add (host/quant/intref.ts addInt, weights from quantize.ts addWeights)
 * against `other` over `configs` random configurations: input scales log-uniform over a
 * factor of 16 around 0.01, the output scale 0.5 to 1.5 times their sum, random zero
 * points; every one of the 65,536 (a, b) pairs each. docs/ARCHITECTURE.md section 2
 * quotes it for TFLite's ADD.
 */
export function addRuleDistance(other: AddRule, configs: number, seed = 7): AddDistance {
  let s = seed >>> 0;
  const rnd = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  const a = new Int8Array(65536);
  const b = new Int8Array(65536);
  for (let i = 0; i < 65536; i++) {
    a[i] = (i & 255) - 128;
    b[i] = (i >> 8) - 128;
  }
  let differing = 0;
  let max = 0;
  for (let c = 0; c < configs; c++) {
    const sa = 0.01 * 2 ** (4 * rnd() - 2);
    const sb = 0.01 * 2 ** (4 * rnd() - 2);
    const sy = (sa + sb) * (0.5 + rnd());
    const zp = () => Math.floor(rnd() * 256) - 128;
    const l: QAdd = {
      kind: 'add',
      name: 'add',
      inputs: [0, 1],
      input: [65536],
      output: [65536],
      inQ: { scale: sa, zeroPoint: zp() },
      inQB: { scale: sb, zeroPoint: zp() },
      outQ: { scale: sy, zeroPoint: zp() },
      lo: -128,
      hi: 127,
      ...addRule(sa, sb, sy),
    };
    const y = addInt(l, a, b);
    for (let i = 0; i < 65536; i++) {
      const d = Math.abs(y[i] - other(l, a[i], b[i]));
      if (d) differing++;
      if (d > max) max = d;
    }
  }
  const outputs = configs * 65536;
  return { outputs, differing: differing / outputs, max_lsb: max };
}
