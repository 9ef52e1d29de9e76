// The run watchdog's limit (docs/ARCHITECTURE.md section 6): RUN and INFER carry a cycle
// limit in units of 2^20 cycles; the device stops a run that reaches it and answers
// WATCHDOG. The limit is an upper bound of what the model's program can legitimately
// take on the controller (ARCHITECTURE section 1), doubled: a hang, or a program that is
// not this model's, is stopped within a few times the model's own run time.
import { shape3 } from '../compiler/layout.ts';
import type { QModel } from '../quant/types.ts';

export const LIMIT_UNIT_CYCLES = 2 ** 20;
/** The largest limit the u8 field holds; beyond it the run is not limited (0). */
export const MAX_LIMIT_UNITS = 255;

/**
 * Cycles the controller needs at most for the model's program on an N x N array, from
 * the layer shapes as the compiler lowers them. Per CONV output group: its 12 parameter
 * words, the sliding window's periods of N beats (each of the P pixels meets all K tiles,
 * W = min(K, N) pixels at a time, plus the ramp in and out), a requantizer interval (at
 * most 16 + N cycles) per output, and the drain; per max pool: a beat per window element,
 * a requantizer interval per output vector; per layer the descriptor fetch and the
 * counter writes. Each term is rounded up generously. null for a layer kind it does not
 * know (the run is then not limited).
 */
export function runCycleBound(model: QModel, dim: number): number | null {
  let total = 200;
  for (let i = 0; i < model.layers.length; i++) {
    const l = model.layers[i];
    let c: number, h: number, w: number, oc: number, oh: number, ow: number, kh: number, kw: number;
    [oc, oh, ow] = shape3(l.output);
    if (l.kind === 'dense') {
      const m = l.input.reduce((a, b) => a * b, 1);
      [c, h, w] = i === 0 || l.input.length === 1 ? [m, 1, 1] : shape3(l.input);
      [kh, kw] = [h, w];
      [oc, oh, ow] = [l.output.reduce((a, b) => a * b, 1), 1, 1];
    } else if (l.kind === 'conv' || l.kind === 'avgpool' || l.kind === 'maxpool') {
      [c, h, w] = shape3(l.input);
      [kh, kw] = l.kernel;
    } else {
      return null;
    }
    const cg = Math.ceil(c / dim);
    const og = Math.ceil(oc / dim);
    const p = oh * ow;
    total += 100;
    if (l.kind === 'maxpool') {
      total += cg * p * (Math.max(kh * kw, dim) + 2) + 8 * dim + 100;
      continue;
    }
    const k = kh * kw * cg; // average pools are CONVs over their own channels
    const win = Math.min(k, dim);
    const periods = Math.ceil(((p + win) * k) / win) + k + 2;
    total += og * (100 + periods * dim + p * (17 + dim) + 8 * dim);
  }
  return total;
}

/** The limit field for a bound: twice the bound, in units of 2^20 cycles (0: none). */
export function limitUnits(boundCycles: number | null): number {
  if (boundCycles === null) return 0;
  const units = Math.ceil((2 * boundCycles) / LIMIT_UNIT_CYCLES);
  return units > MAX_LIMIT_UNITS ? 0 : Math.max(1, units);
}
