// The descriptor program (docs/ARCHITECTURE.md section 4): one 16-word descriptor per
// layer, encoded from a layer's primary fields, checked before it is written to a
// device, and bounded in cycles.
//
// The controller (rtl/npu_ctrl.v) runs every field value to an end in bounded time, but
// only a well-formed program computes anything: checkProgram() is the host's side of
// ARCHITECTURE section 4's definition of "malformed" and refuses anything else with one
// line. programCycleBound() is what a well-formed program can take at most (a run
// watchdog, or a test, compares against it).

import { InputError } from '../errors.ts';
import type { DeviceConfig } from './types.ts';

export const DESC_WORDS = 16;
export const OP_END = 0;
export const OP_CONV = 1;
/** A convolution whose accumulators take the maximum (max pooling over identity tiles). */
export const OP_MAXPOOL = 2;
/** Parameter words per output group: m | s << 16, then bias[N] (ARCHITECTURE section 3). */
export const PARAM_WORDS = 8;
/** The largest H, W, OH, OW, kernel side, stride and pad the descriptor holds. */
export const EXTENT_MAX = 255;
/** Input coordinates are 10-bit two's complement in the controller. */
const COORD_LIMIT = 512;

/** A program that is not well-formed (ARCHITECTURE section 4). Exit code 1. */
export class ProgramError extends InputError {}

/**
 * A CONV or MAXPOOL descriptor as the hardware runs it; addresses in memory words. The
 * controller reads tap (ky, kx) of channel group cg for output pixel (oy, ox) at
 *
 *   inBase + (oy*sh - pt + ky) -> rows:    P(0,0) + oy*pyStep + ky*rowStep
 *            (ox*sw - pl + kx) -> columns:          + ox*pxStep + kx*colStep
 *            + cg (+ og for a grouped layer)
 *
 * with P(0,0) = inBase - pt*rowStep - pl*colStep, and substitutes padValue for a tap whose
 * input row oy*sh - pt + ky is outside [0, h) or column ox*sw - pl + kx outside [0, w).
 * For a tensor [CG groups, H, W] in the usual layout the steps are those of plainSteps();
 * the compiler's other views (a residual add's two operands as two rows, transposed
 * passes) set them as they need.
 */
export interface LayerFields {
  op: typeof OP_CONV | typeof OP_MAXPOOL;
  /** Output group og reads input group og only (pools, depthwise), at +og words. */
  grouped: boolean;
  inBase: number;
  outBase: number;
  /** Channel groups of the tile loop (1 when grouped). */
  cg: number;
  /** Extents of the pad test (the input's height and width). */
  h: number;
  w: number;
  /** Output groups and pixels. */
  og: number;
  /**
   * Output pixel p's og words start at outBase + p * (og << outShift) (0..3, word 0 bits
   * 7:6; 0 when absent): with 2^outShift descriptors each writing every 2^outShift-th pixel
   * of one tensor (a pixel-packed input's phases).
   */
  outShift?: number;
  /**
   * The block schedule (word 0 bits 15:12 = 1, a core with DeviceConfig.blockSchedule):
   * blocks of max(block, N) output pixels, each through every weight tile in periods of
   * as many beats. Absent: the sliding window.
   */
  block?: number;
  oh: number;
  ow: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  pt: number;
  pl: number;
  /** AMEM words from one kernel row to the next, and from one kernel column to the next. */
  rowStep: number;
  colStep: number;
  /** AMEM words from one output pixel to the next in a row, and from one output row to the next. */
  pxStep: number;
  pyStep: number;
  wBase: number;
  /** Requantizer Booth digits (1..16). */
  steps: number;
  padValue: number; // int8: what padded positions read
  yZp: number;
  lo: number;
  hi: number;
}

/** The steps of a tensor of `groups` channel groups, `w` wide, in the usual layout. */
export function plainSteps(
  groups: number,
  w: number,
  sh: number,
  sw: number,
): Pick<LayerFields, 'rowStep' | 'colStep' | 'pxStep' | 'pyStep'> {
  return { rowStep: w * groups, colStep: groups, pxStep: sw * groups, pyStep: sh * w * groups };
}

const u16 = (v: number) => ((v % 65536) + 65536) % 65536;
const s16 = (v: number) => ((v & 0xffff) ^ 0x8000) - 0x8000;
const half = (lo: number, hi: number) => (u16(lo) | (u16(hi) << 16)) >>> 0;
const u8 = (v: number) => v & 0xff;

/** Tiles per output pixel: kh * kw * (the cg loop). */
export function tilesPerPixel(f: Pick<LayerFields, 'kh' | 'kw' | 'cg'>): number {
  return f.kh * f.kw * f.cg;
}

/** WMEM memory words of one output group (parameters and tiles). */
export function ogWords(f: Pick<LayerFields, 'kh' | 'kw' | 'cg'>, dim: number): number {
  return PARAM_WORDS + tilesPerPixel(f) * dim;
}

/**
 * Cycles from one output vector to the next at the requantizer (descriptor word 9's
 * interval): each of its `units` Booth units takes Steps cycles per vector and they take
 * the vectors in turn, and the result chain N cycles per vector (ARCHITECTURE section 2).
 */
export function requantInterval(steps: number, dim: number, units = 1): number {
  return Math.max(Math.ceil(steps / units), dim);
}

/** The interval word 9 of a descriptor holds (requantInterval when compiled). */
export function descriptorInterval(d: Uint32Array): number {
  return ((d[9] >>> 8) & 0x1f) + 1;
}

/**
 * The window of a layer of K tiles per pixel and P pixels (ARCHITECTURE section 1): W
 * pixels, sliding up to twice a period when the core has two requantizer pipelines, K < N
 * and there is more than one pixel (a single pixel would only leave a beat later).
 */
export function windowOf(k: number, p: number, dim: number, requantPipes = 1): { win: number; two: boolean } {
  const two = requantPipes > 1 && k < dim && p > 1;
  return { win: Math.min(two ? 2 * k : k, dim), two };
}

/**
 * The sliding window's Bresenham term at an og's start: the largest x0 for which pixel 0
 * leaves after K periods (x0 >= W - K, pixel 0's last period is K - 1 when x0 < 2W - K)
 * and no slide comes before the first period (x0 < W).
 */
export function bresenhamStart(win: number, k: number): number {
  return Math.min(2 * win - k, win) - 1;
}

/**
 * The 16 descriptor words of a layer (ARCHITECTURE section 4), for an array of side `dim`
 * with `requantUnits` requantizer Booth units per pipeline and `requantPipes` pipelines
 * (DeviceConfig.requantUnits, requantPipes).
 */
export function encodeDescriptor(
  f: LayerFields,
  dim: number,
  requantUnits = 1,
  requantPipes = 1,
): Uint32Array {
  const d = new Uint32Array(DESC_WORDS);
  const k = tilesPerPixel(f);
  const p = f.oh * f.ow;
  const block = f.block ?? 0;
  // W: pixels per period (a block's descriptor keeps the window's fields at W = 1)
  const { win, two } = block ? { win: 1, two: false } : windowOf(k, p, dim, requantPipes);
  d[0] =
    f.op | (f.grouped ? 1 << 4 : 0) | (two ? 1 << 5 : 0) | ((f.outShift ?? 0) << 6) | (block ? 1 << 12 : 0);
  d[1] = f.inBase;
  d[2] = f.outBase;
  d[3] = half(f.h, f.w);
  d[4] = half(f.cg - 1, f.og - 1);
  d[5] = ((f.kh - 1) | ((f.kw - 1) << 8) | (f.sh << 16) | (f.sw << 24)) >>> 0;
  // koff per ky row, per kx (after the cg loop); pp per output pixel, per row end
  d[6] = half(f.rowStep, f.colStep - (f.cg - 1));
  d[7] = half(f.pxStep, f.pyStep - (f.ow - 1) * f.pxStep);
  d[8] = f.wBase;
  // requantizer Steps - 1 and its interval max(ceil(Steps / units), N) - 1; WMEM words of
  // an og's tiles
  const interval = requantInterval(f.steps, dim, requantUnits);
  d[9] = ((f.steps - 1) | ((interval - 1) << 8) | (u16(k * dim) << 16)) >>> 0;
  d[10] = (u8(f.padValue) | (u8(f.yZp) << 8) | (u8(f.lo) << 16) | (u8(f.hi) << 24)) >>> 0;
  // the sliding window (ARCHITECTURE section 1): Bresenham step W - K, W - 1; a block: B - 1
  d[11] = block ? half(block - 1, 0) : half(win - k, win - 1);
  // og start values: P(0,0) = in_base - pt*rowStep - pl*colStep, P - 1 - s for s = 1 - W
  // (a block: s = 0), input row/column of pixel (0,0), Bresenham start min(2W - K, W) - 1
  // (a block: 0), OW - 1
  d[12] = half(f.inBase - f.pt * f.rowStep - f.pl * f.colStep, block ? p - 1 : p - 2 + win);
  d[13] = half(-f.pt, -f.pl);
  d[14] = half(block ? 0 : bresenhamStart(win, k), f.ow - 1);
  d[15] = 0;
  return d;
}

/** The primary fields of a descriptor, as far as they can be read back (null: END). */
export function decodeDescriptor(d: Uint32Array): LayerFields | null {
  const op = d[0] & 0xf;
  if (op !== OP_CONV && op !== OP_MAXPOOL) return null;
  const grouped = ((d[0] >>> 4) & 1) === 1;
  const cg = (d[4] & 0xffff) + 1;
  const block = ((d[0] >>> 12) & 0xf) === 1 ? (d[11] & 0xffff) + 1 : 0;
  const win = block ? 1 : (d[11] >>> 16) + 1;
  const ow = (d[14] >>> 16) + 1;
  const p = (d[12] >>> 16) + 2 - win;
  const pxStep = s16(d[7]);
  return {
    op,
    grouped,
    inBase: d[1],
    outBase: d[2],
    cg,
    h: d[3] & 0xffff,
    w: d[3] >>> 16,
    og: (d[4] >>> 16) + 1,
    outShift: (d[0] >>> 6) & 3,
    ...(block ? { block } : {}),
    oh: Math.max(1, Math.floor(p / ow)),
    ow,
    kh: (d[5] & 0xff) + 1,
    kw: ((d[5] >>> 8) & 0xff) + 1,
    sh: (d[5] >>> 16) & 0xff,
    sw: d[5] >>> 24,
    pt: u16(-(d[13] & 0xffff)),
    pl: u16(-(d[13] >>> 16)),
    rowStep: s16(d[6]),
    colStep: s16(d[6] >>> 16) + cg - 1,
    pxStep,
    pyStep: s16(d[7] >>> 16) + (ow - 1) * pxStep,
    wBase: d[8],
    steps: (d[9] & 0xf) + 1,
    padValue: (d[10] << 24) >> 24,
    yZp: (d[10] << 16) >> 24,
    lo: (d[10] << 8) >> 24,
    hi: d[10] >> 24,
  };
}

/**
 * The smallest and largest of `out * outStep + k * kStep` over the output positions
 * out < outs and taps k < ks whose input coordinate out * stride - pad + k lies in
 * [0, extent) (the taps the controller reads from memory), or null when there is none.
 */
function axisReach(
  outs: number,
  ks: number,
  stride: number,
  pad: number,
  extent: number,
  outStep: number,
  kStep: number,
): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (let o = 0; o < outs; o++) {
    for (let k = 0; k < ks; k++) {
      const i = o * stride - pad + k;
      if (i < 0 || i >= extent) continue;
      const a = o * outStep + k * kStep;
      lo = Math.min(lo, a);
      hi = Math.max(hi, a);
    }
  }
  return lo <= hi ? [lo, hi] : null;
}

/** The AMEM words a descriptor reads (taps inside the input only), as [first, last], or null. */
export function inputReach(f: LayerFields): [number, number] | null {
  const rows = axisReach(f.oh, f.kh, f.sh, f.pt, f.h, f.pyStep, f.rowStep);
  const cols = axisReach(f.ow, f.kw, f.sw, f.pl, f.w, f.pxStep, f.colStep);
  if (!rows || !cols) return null;
  const p00 = f.inBase - f.pt * f.rowStep - f.pl * f.colStep;
  const lanes = f.grouped ? f.og - 1 : f.cg - 1;
  return [p00 + rows[0] + cols[0], p00 + rows[1] + cols[1] + lanes];
}

/**
 * Which of AMEM's memories a descriptor reads and writes (ARCHITECTURE section 3): the
 * extension is memory words [own, own + ext) of AMEM, WMEM's upper half.
 */
export function extensionUse(f: LayerFields, config: DeviceConfig): { reads: boolean; writes: boolean } {
  const sub = config.dim / 4;
  const own = config.amemWords / sub;
  const ext = (config.amemExtWords ?? 0) / sub;
  if (ext === 0) return { reads: false, writes: false };
  const reach = inputReach(f);
  const outEnd = outputEnd(f);
  return { reads: reach !== null && reach[1] >= own, writes: outEnd > own };
}

/** One past the last AMEM word a descriptor writes. */
export function outputEnd(f: LayerFields): number {
  return f.outBase + (f.oh * f.ow - 1) * (f.og << (f.outShift ?? 0)) + f.og;
}

/**
 * The WMEM memory words that are the AMEM extension (ARCHITECTURE section 3: AMEM memory
 * word a >= own is WMEM word half + a mod half), as [from, to) intervals; none without one.
 */
export function extensionAlias(config: DeviceConfig): [number, number][] {
  const sub = config.dim / 4;
  const own = config.amemWords / sub;
  const ext = (config.amemExtWords ?? 0) / sub;
  const half = config.wmemWords / sub / 2;
  if (ext === 0) return [];
  const from = half + (own % half);
  const to = from + ext;
  return to <= 2 * half
    ? [[from, to]]
    : [
        [from, 2 * half],
        [half, to - half],
      ];
}

/** Why a layer's fields are out of what the hardware computes, or null. */
export function fieldsProblem(f: LayerFields, config: DeviceConfig): string | null {
  const dim = config.dim;
  const sub = dim / 4;
  const amem = (config.amemWords + (config.amemExtWords ?? 0)) / sub;
  const wmem = config.wmemWords / sub;
  for (const [name, v] of [
    ['H', f.h],
    ['W', f.w],
    ['OH', f.oh],
    ['OW', f.ow],
    ['kernel height', f.kh],
    ['kernel width', f.kw],
    ['stride', f.sh],
    ['stride', f.sw],
  ] as const) {
    if (!(v >= 1 && v <= EXTENT_MAX)) return `${name} ${v} outside 1..${EXTENT_MAX}`;
  }
  if (f.pt > EXTENT_MAX || f.pl > EXTENT_MAX) return `padding outside 0..${EXTENT_MAX}`;
  if ((f.oh - 1) * f.sh - f.pt + f.kh > COORD_LIMIT || (f.ow - 1) * f.sw - f.pl + f.kw > COORD_LIMIT)
    return 'the windows reach past the padding the controller can address';
  if (f.cg < 1 || f.og < 1) return 'no channel groups';
  if (f.grouped && f.cg !== 1) return `grouped layer with a cg loop of ${f.cg}`;
  if (f.op === OP_MAXPOOL && !f.grouped) return 'MAXPOOL must be grouped';
  if (!(f.steps >= 1 && f.steps <= 16)) return `requantizer steps ${f.steps}`;
  const reach = inputReach(f);
  if (reach && (reach[0] < 0 || reach[1] >= amem))
    return `input [${reach[0]}, ${reach[1] + 1}) outside AMEM (${amem} words)`;
  if (!((f.outShift ?? 0) >= 0 && (f.outShift ?? 0) <= 3)) return `output shift ${f.outShift} outside 0..3`;
  if ((f.outShift ?? 0) > 0 && !config.outputShift) return `output shift ${f.outShift} on a core without one`;
  if (f.block !== undefined) {
    if (!config.blockSchedule) return `a block schedule on a core without one`;
    if (!(Number.isInteger(f.block) && f.block >= 1 && f.block <= config.accDepth / 2))
      return `block of ${f.block} pixels outside 1..${config.accDepth / 2} (half the accumulator entries)`;
  }
  const outEnd = outputEnd(f);
  if (outEnd > amem) return `output [${f.outBase}, ${outEnd}) outside AMEM (${amem} words)`;
  const k = tilesPerPixel(f);
  if (k * dim >= 65536) return `${k} tiles per pixel (the descriptor holds fewer than ${65536 / dim})`;
  const wEnd = f.wBase + f.og * ogWords(f, dim);
  if (wEnd > wmem) return `weights [${f.wBase}, ${wEnd}) outside WMEM (${wmem} words)`;
  const x = extensionUse(f, config);
  if (x.reads && x.writes)
    return `it reads and writes the AMEM extension (words ${config.amemWords / sub} on), whose RAM serves one request a cycle`;
  if ((x.reads || x.writes) && wEnd > wmem / 2)
    return `it uses the AMEM extension and has weights [${f.wBase}, ${wEnd}) in WMEM's upper half, whose RAM the extension is`;
  return null;
}

/**
 * Refuses a program that is not well-formed (ARCHITECTURE section 4) with one line:
 * descriptors from word 0, each END (op 0) or a CONV/MAXPOOL whose every word is what
 * encodeDescriptor() gives for its fields and whose fields pass fieldsProblem() (none
 * reads and writes the AMEM extension, none that uses it has weights in WMEM's upper
 * half); an END within the image unless it holds as many layers as the device runs; and,
 * when a descriptor uses the AMEM extension, no weights in the WMEM words it is.
 */
export function checkProgram(dmem: Uint32Array, config: DeviceConfig): void {
  const limit = Math.min(config.maxLayers, Math.floor(config.dmemWords / DESC_WORDS));
  if (dmem.length > config.dmemWords)
    throw new ProgramError(`program: ${dmem.length} words, DMEM holds ${config.dmemWords}`);
  const alias = extensionAlias(config);
  let extUser = -1; // a descriptor that uses the extension
  let aliasUser = -1; // a descriptor with weights in the WMEM words that are the extension
  const shared = () => {
    if (extUser >= 0 && aliasUser >= 0)
      throw new ProgramError(
        `program: descriptor ${extUser} uses the AMEM extension, and descriptor ${aliasUser} has its weights in the WMEM words that are the extension (recompile the model)`,
      );
  };
  for (let l = 0; l < limit; l++) {
    if ((l + 1) * DESC_WORDS > dmem.length)
      throw new ProgramError(`program: no END descriptor after layer ${l - 1} (recompile the model)`);
    const d = dmem.subarray(l * DESC_WORDS, (l + 1) * DESC_WORDS);
    const op = d[0] & 0xf;
    if (op === OP_END) return shared();
    if (op !== OP_CONV && op !== OP_MAXPOOL)
      throw new ProgramError(`program: descriptor ${l}: unknown op ${op} (recompile the model)`);
    const f = decodeDescriptor(d)!;
    const again = encodeDescriptor(f, config.dim, config.requantUnits ?? 1, config.requantPipes ?? 1);
    const bad = again.findIndex((v, i) => v !== d[i]);
    if (bad >= 0)
      throw new ProgramError(
        `program: descriptor ${l}: word ${bad} is 0x${d[bad].toString(16)}, its other fields give 0x${again[bad].toString(16)} (recompile the model)`,
      );
    const why = fieldsProblem(f, config);
    if (why) throw new ProgramError(`program: descriptor ${l}: ${why} (recompile the model)`);
    const x = extensionUse(f, config);
    if (extUser < 0 && (x.reads || x.writes)) extUser = l;
    const wEnd = f.wBase + f.og * ogWords(f, config.dim);
    if (aliasUser < 0 && alias.some(([from, to]) => f.wBase < to && wEnd > from)) aliasUser = l;
  }
  shared();
}

/** Sliding-window periods of one output group (ARCHITECTURE section 1). */
export function ogPeriods(pixels: number, k: number, dim: number, win = Math.min(k, dim)): number {
  return Math.floor(((pixels - 1) * k) / win) + k;
}

/**
 * Cycles from start_i to done_o that a well-formed program (checkProgram) can take at
 * most: per layer the fetch, and per output group its parameters, its periods of N
 * beats, a requantizer wait of at most its interval per output, and the drain.
 */
export function programCycleBound(dmem: Uint32Array, config: DeviceConfig): number {
  const dim = config.dim;
  const limit = Math.min(config.maxLayers, Math.floor(config.dmemWords / DESC_WORDS));
  const drain = 3 * dim + 32; // f stage, array, accumulator, requantizer (Steps <= 16)
  let cycles = 2;
  for (let l = 0; l < limit && (l + 1) * DESC_WORDS <= dmem.length; l++) {
    const d = dmem.subarray(l * DESC_WORDS, (l + 1) * DESC_WORDS);
    cycles += 13; // fetch and decode
    const f = decodeDescriptor(d);
    if (!f) return cycles;
    const pixels = f.oh * f.ow;
    const interval = descriptorInterval(d);
    const win = (d[11] >>> 16) + 1;
    // a block: its periods of max(B, N) beats, and one wait for the requantizer
    const perOg = f.block
      ? PARAM_WORDS +
        Math.ceil(pixels / Math.max(f.block, dim)) * tilesPerPixel(f) * Math.max(f.block, dim) +
        2 * drain
      : PARAM_WORDS + ogPeriods(pixels, tilesPerPixel(f), dim, win) * dim + pixels * interval + drain;
    cycles += f.og * perOg + 2;
  }
  return cycles;
}
