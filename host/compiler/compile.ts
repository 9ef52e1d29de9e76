// The compiler: QModel graph → DeviceImage (docs/ARCHITECTURE.md sections 1, 3, 4).
//
// Every layer is lowered onto the two descriptor ops the accelerator has, CONV and
// MAXPOOL (a convolution whose accumulators take the maximum); one layer may take several
// descriptors ("steps"). The steps run in the QModel's (topological) order, in segments
// of MaxLayers descriptors (the host runs the segments one after another). Activations
// are placed in AMEM by liveness: a tensor lives from the step that first writes it to
// the last that reads it, and two tensors share memory only when their lives do not
// overlap. program.ts encodes the descriptors (encodeDescriptor, from each step's
// LayerFields) and checks every program segment (checkProgram).
//
// Every tensor is in the usual layout (channel groups innermost). A descriptor reads its
// input through a view (View below: where tap (ky, kx) of output pixel (oy, ox) is, and
// the extents of the pad test), so that the lowerings below need no layout of their own.
// A step is "grouped" when output group og reads input group og only (descriptor word 0
// bit 4: the controller adds og to the input address and runs a cg loop of one); its
// weight tiles connect lanes of the same group only.
//
// Lowerings (all exact; a copy is a 1x1 identity conv with M = 1 and the same zero point,
// y = zp + (x - zp)):
// - conv, group 1: one CONV. Depthwise convs, and group convs whose groups lie inside the
//   array's channel groups, are one grouped CONV (lowerGroupedConv: the one place that
//   lowers depthwise); other group convs are CONVs with block-diagonal weights. A group-1
//   conv over C channels with C*KW <= N, where the estimate says it is faster, is two
//   (packedConv): a pack step (a copy, kernel [dy, KW], the conv's pads) writes dy kernel
//   rows of KW*C taps into the lanes of one word of T, then a [ceil(KH/dy), 1] conv over
//   T, no padding, with the same products (dy = sh when sh*KW*C <= N, else 1); exact, T's
//   padding and zero point being the input's.
// - the one group-1 conv reading a model input of C <= N/2 channels, where the estimate
//   says it is faster: the host writes the input pixel-packed (floor(N/C) columns a word,
//   layout.ts pixelPackTensor) and the conv is phase descriptors whose outputs interleave
//   (pixelPackedConv; descriptor word 0's output shift).
// - dense over [C,H,W]: an HxW conv over C channels giving [Nout,1,1] ([Nout][C*H*W]
//   weights are OIHW [Nout][C][H][W]); over a vector [M]: a 1x1 conv over [M,1,1]. When
//   only dense layers read the model input, the host writes it as the vector [M] (same
//   CHW-flat data, all N lanes busy even when C < N).
// - max pooling: one grouped MAXPOOL with identity tiles (weight 1 from channel c to
//   channel c), padding reading -128, bias -128 and M = 1 (M0 = 2^30, S = 30): the
//   accumulator keeps the window's maximum, the requantizer passes it through.
// - average pooling with count_include_pad: one grouped CONV with identity tiles, bias 0
//   (folded to -kh*kw*x_zp) and the pool's multiplier; padding reads x_zp, so acc =
//   Σ (x_q - x_zp) over the window. A global pool (max or average, a 1x1 output and no
//   padding) reads its channel groups as pixels instead, as the residual add does: one
//   grouped step with OG = 1, pixel g at word g, its kh*kw identity tiles loaded once
//   (globalPool). Without count_include_pad it is two passes of such
//   convs (ARCHITECTURE section 2): a 1-D pool along the rows, written transposed
//   ([C, OW, H]), then one along its rows (the original columns) written back in place
//   order; each pass in bands of output rows that share an in-bounds count, so one
//   multiplier 1/count per descriptor. Transposing costs nothing: a view's steps are free.
// - residual add: CONVs with a 2x1 kernel over a stacked view whose two kernel rows are
//   the two operands (the kernel-row step is the distance from a to b in AMEM, so the
//   operands may lie anywhere), every word of them a pixel of one channel group (the add
//   is elementwise: every channel has the same weights and multiplier), the words laid
//   out as rows of at most 255 pixels (stackedPieces). Weights w_a (kernel row 0) and
//   w_b (row 1) on the diagonal of one tile each, bias_folded = -(a_zp*w_a + b_zp*w_b).
// - concat: the same stacked view over its inputs (copied into one block when there are
//   more than two or their channel groups differ), weight 1 from input k's channel c to
//   output channel offset_k + c, each output channel its input's multiplier.
// - pad: a grouped 1x1 identity conv with the pads (padding reads x_zp, i.e. writes y_zp).
// Zero points fold into the bias: bias_folded = bias - x_zp*Σw (int32, wrapping); padding
// reads as x_zp, so the fold is exact at the borders too.
// WMEM: per descriptor, per og: 8 parameter words (m | s << 16, then bias_folded[N], as
// little-endian int32, m = M0 / 2^15 and s the window shift below), then its tiles for
// ky, kx, cg (N words each, word r byte j = W[og*N+j][cg*N+r][ky][kx], the cg loop of one
// reading lanes og*N + r when grouped); the controller reads it all with one pointer.
// The requantizer (16-bit M0, ARCHITECTURE section 2) runs Steps radix-4 Booth digits of
// the accumulator (word 9): the fewest that are exact for every channel (requantPlan).
// Channel o's accumulators, bounded from its weights, folded bias and the int8 input
// range, fit need_o digits; a lane whose accumulator is wider than 2*Steps bits
// saturates, which is exact when its window shift S_o - 16 - 2*Steps is at most 5; so
// channel o requires min(need_o, ceil((S_o - 21) / 2)) digits, and Steps is the largest
// requirement.

import { ModelTooLargeError, UnsupportedOpError } from '../errors.ts';
import { DEVICE_M0_BITS, encodeMultiplier } from '../quant/requant.ts';
import type { ActQuant, Multiplier, QConv, QLayer, QModel, QPool } from '../quant/types.ts';
import { MODEL_INPUT } from '../quant/types.ts';
import { chooseBlock, decodeProgram, type DescriptorShape, layerCycles, OVERHEAD } from './estimate.ts';
import { shape3 } from './layout.ts';
import {
  DESC_WORDS,
  EXTENT_MAX,
  OP_CONV,
  OP_MAXPOOL,
  PARAM_WORDS,
  checkProgram,
  encodeDescriptor,
  windowOf,
  extensionAlias,
  requantInterval,
  type LayerFields,
} from './program.ts';
import type { CompiledLayer, DeviceConfig, DeviceImage, MemoryNeeds, TensorPlacement } from './types.ts';

export { DESC_WORDS, OP_CONV, OP_END, OP_MAXPOOL } from './program.ts';

export interface CompileOptions {
  /** 'liveness' (default): memory reused once a tensor is dead; 'distinct': never reused. */
  allocation?: 'liveness' | 'distinct';
  /**
   * Pack a narrow conv's taps into lanes (Lowering.packedConv) where the estimate says it
   * is faster (default true); a model whose memory then does not fit is compiled without.
   * 'always': wherever it applies, faster or not (the tests of its exactness).
   */
  packTaps?: boolean | 'always';
  /**
   * Write a narrow model input pixel-packed for the one conv that reads it
   * (Lowering.pixelPackedConv) where the estimate says it is faster (default true);
   * 'always': wherever it applies (the tests of its exactness).
   */
  packPixels?: boolean | 'always';
  /**
   * On a core with the block schedule (DeviceConfig.blockSchedule): run a descriptor in
   * blocks where the estimate says it is faster, with the fastest block (default true);
   * false: the sliding window everywhere; a number: blocks of that many pixels (at most
   * half the accumulator entries) on every descriptor (the tests of its exactness).
   */
  block?: boolean | number;
}

/** M = 1 (M0 = 2^30, S = 30): a copy, and max pooling's requantization (r = x). */
const ONE: Multiplier = { m0: 2 ** 30, s: 30 };

/** A tensor in AMEM, in the usual layout. */
interface DevTensor {
  shape: [number, number, number];
  q: ActQuant;
  words: number; // memory words
  first: number; // first step writing it (-1: written by the host)
  last: number; // last step reading it (Infinity: read by the host at the end)
  base: number; // memory word, once allocated
  /** The model input written pixel-packed (TensorPlacement.pixelPack). */
  pixelPack?: TensorPlacement['pixelPack'];
}

/**
 * A tensor as a descriptor reads it (program.ts LayerFields): tap (ky, kx) of output
 * pixel (oy, ox) at t.base + offset + oy*pyStep + ox*pxStep + (ky - pt)*rowStep +
 * (kx - pl)*colStep (+ cg, + og when grouped), padding where the pad test's input row or
 * column falls outside h, w.
 */
interface View {
  t: DevTensor;
  offset: number; // memory words from t.base
  h: number; // extents of the pad test
  w: number;
  cg: number; // channel groups of the tile loop (1 for a grouped step)
  rowStep: number; // words per kernel row (W*CG for the usual layout)
  /** With `rowTo`, the kernel-row step is the distance from t to rowTo (stacked operands). */
  rowTo?: DevTensor;
  colStep: number; // words per kernel column (CG for the usual layout)
  /** Words per output row and per output pixel; default stride * rowStep, stride * colStep. */
  pyStep?: number;
  pxStep?: number;
}

/**
 * One descriptor. Weights are over channel lanes: o in [0, og*N) the output lane, c the
 * input lane, in [0, cg*N), or in [og*N, og*N + N) for output group og of a grouped step.
 */
interface Step {
  op: typeof OP_CONV | typeof OP_MAXPOOL;
  grouped: boolean;
  layer: number; // QModel layer it belongs to
  src: View;
  dst: DevTensor;
  dstOffset: number;
  og: number;
  outH: number;
  outW: number;
  kernel: [number, number];
  stride: [number, number];
  pads: [number, number]; // top, left (bottom/right follow from the output size)
  padValue: number; // what padded taps read (int8)
  xzp: number; // the zero point folded into the bias (bias - xzp * Σw)
  yzp: number;
  lo: number;
  hi: number;
  /** Lanes with a real output channel; the others get m = 0 (output y_zp). */
  realOut: number;
  w: (o: number, c: number, ky: number, kx: number) => number;
  /** The bias before the zero-point fold, and the multiplier, of output lane o. */
  bias: (o: number) => number;
  mult: (o: number) => Multiplier;
  /** Output pixel p at dst + dstOffset + p * (og << outShift) (default 0). */
  outShift?: number;
}

const fmt = (n: number) => n.toLocaleString('en-US');

function check(cond: boolean, msg: string): void {
  if (!cond) throw new UnsupportedOpError(msg);
}

/** MACs of a QModel layer (host/info.ts): conv K·(C/G)·kh·kw·OH·OW, dense N·M, else 0. */
function layerMacs(l: QLayer): number {
  if (l.kind === 'conv') return l.weights.length * l.output[1] * l.output[2];
  if (l.kind === 'dense') return l.weights.length;
  return 0;
}

/**
 * A group conv whose every group lies inside one of the array's channel groups (C/group
 * input and output channels per group, dividing N): output group og then reads input
 * group og only, so it runs grouped. Depthwise convs (one channel per group) are the
 * usual case.
 */
function groupAligned(l: QConv, n: number): boolean {
  const cpg = l.input[0] / l.group;
  return l.group > 1 && l.output[0] / l.group === cpg && n % cpg === 0;
}

/**
 * Pieces of `count` pixels laid out as rows for a stacked view of `k` kernel rows:
 * [first pixel, rows, pixels per row], with rows + k - 1 (the pad test's extent) and the
 * pixels per row at most 255; rows of `rowLen` pixels when that fits, else one piece
 * when `count` has a divisor that allows it, else full rows of 255 and the rest.
 */
function stackedPieces(count: number, k: number, rowLen?: number): [number, number, number][] {
  const maxRows = EXTENT_MAX + 1 - k;
  if (rowLen !== undefined && rowLen <= EXTENT_MAX && count / rowLen <= maxRows)
    return [[0, count / rowLen, rowLen]];
  for (let c = Math.min(EXTENT_MAX, count); c >= 1 && count / c <= maxRows; c--)
    if (count % c === 0) return [[0, count / c, c]];
  const pieces: [number, number, number][] = [];
  for (let p0 = 0; p0 < count; p0 += maxRows * EXTENT_MAX) {
    const left = Math.min(count - p0, maxRows * EXTENT_MAX);
    const rows = Math.floor(left / EXTENT_MAX);
    if (rows > 0) pieces.push([p0, rows, EXTENT_MAX]);
    if (left > rows * EXTENT_MAX) pieces.push([p0 + rows * EXTENT_MAX, 1, left - rows * EXTENT_MAX]);
  }
  return pieces;
}

class Lowering {
  readonly steps: Step[] = [];
  readonly tensors: DevTensor[] = [];
  /** Device tensor of each QModel tensor: [0] the input, [k + 1] layer k's output. */
  readonly qt: DevTensor[] = [];
  /** Steps of each QModel layer: [first, end). */
  readonly ranges: [number, number][] = [];

  constructor(
    private model: QModel,
    private n: number,
    private packTaps: boolean | 'always' = true,
    private requantUnits = 1,
    private requantPipes = 1,
    private packPixels: boolean | 'always' = true,
    private outputShift = false,
    /** The configuration (its block schedule) and CompileOptions.block: blockFor's. */
    private schedule: { config: DeviceConfig; block: boolean | number } | null = null,
  ) {}

  /** Layers reading the model input. */
  private inputReaders = 0;

  private groups(t: DevTensor): number {
    return Math.ceil(t.shape[0] / this.n);
  }

  private tensor(shape: [number, number, number], q: ActQuant): DevTensor {
    const g = Math.ceil(shape[0] / this.n);
    const t: DevTensor = { shape, q, words: shape[1] * shape[2] * g, first: Infinity, last: -1, base: 0 };
    this.tensors.push(t);
    return t;
  }

  private push(s: Step): void {
    const i = this.steps.length;
    this.steps.push(s);
    s.src.t.last = Math.max(s.src.t.last, i);
    if (s.src.rowTo) s.src.rowTo.last = Math.max(s.src.rowTo.last, i);
    s.dst.first = Math.min(s.dst.first, i);
  }

  /** The usual view of a tensor: the tile loop over its groups, or one loop step when grouped. */
  private view(t: DevTensor, grouped = false): View {
    const g = this.groups(t);
    return {
      t,
      offset: 0,
      h: t.shape[1],
      w: t.shape[2],
      cg: grouped ? 1 : g,
      rowStep: t.shape[2] * g,
      colStep: g,
    };
  }

  /** A copy step: identity on the real channels, M = 1, the same zero point. */
  private copy(
    layer: number,
    src: View,
    dst: DevTensor,
    dstOffset: number,
    og: number,
    out: [number, number],
    realOut: number,
    grouped: boolean,
    pads: [number, number] = [0, 0],
  ): void {
    const zp = src.t.q.zeroPoint;
    this.push({
      op: OP_CONV,
      grouped,
      layer,
      src,
      dst,
      dstOffset,
      og,
      outH: out[0],
      outW: out[1],
      kernel: [1, 1],
      stride: [1, 1],
      pads,
      padValue: zp,
      xzp: zp,
      yzp: zp,
      lo: -128,
      hi: 127,
      realOut,
      w: (o, c) => (o === c && o < realOut ? 1 : 0),
      bias: () => 0,
      mult: () => ONE,
    });
  }

  run(): void {
    const { model } = this;
    const L = model.layers.length;
    const readers: number[][] = Array.from({ length: L + 1 }, () => []);
    model.layers.forEach((l, i) => l.inputs.forEach((t) => readers[t + 1].push(i)));
    this.inputReaders = readers[0].length;
    // The host writes the input as the vector [M] when only dense layers read it.
    const inShape =
      readers[0].every((i) => model.layers[i].kind === 'dense') && model.input.length === 3
        ? ([model.input.reduce((a, b) => a * b, 1), 1, 1] as [number, number, number])
        : shape3(model.input);
    const input = this.tensor(inShape, model.inQ);
    input.first = -1;
    this.qt.push(input);
    model.layers.forEach((l, i) => {
      const start = this.steps.length;
      const out = this.tensor(shape3(l.output), l.outQ);
      this.qt.push(out);
      this.lower(l, i, out);
      this.ranges.push([start, this.steps.length]);
    });
    this.qt[this.qt.length - 1].last = Infinity;
  }

  private lower(l: QLayer, i: number, out: DevTensor): void {
    const n = this.n;
    const ins = l.inputs.map((t) => this.qt[t - MODEL_INPUT]);
    const zps = {
      padValue: l.inQ.zeroPoint,
      xzp: l.inQ.zeroPoint,
      yzp: l.outQ.zeroPoint,
      lo: l.lo,
      hi: l.hi,
    };
    const [oc, oh, ow] = out.shape;
    const pads = (p: number[]): [number, number] => [p[0], p[1]];
    switch (l.kind) {
      case 'conv': {
        if (groupAligned(l, n)) {
          this.lowerGroupedConv(l, i, ins[0], out);
          return;
        }
        const plain: Step = {
          op: OP_CONV,
          grouped: false,
          layer: i,
          src: this.view(ins[0]),
          dst: out,
          dstOffset: 0,
          og: this.groups(out),
          outH: oh,
          outW: ow,
          kernel: l.kernel,
          stride: l.stride,
          pads: pads(l.pads),
          ...zps,
          realOut: oc,
          // block-diagonal when grouped (group 1: one block)
          w: groupedWeights(l, oc),
          bias: (o) => l.bias[o],
          mult: (o) => l.mult[o],
        };
        if (!this.pixelPackedConv(l, plain) && !this.packedConv(l, plain)) this.push(plain);
        return;
      }
      case 'dense': {
        const src = ins[0];
        const [c, h, w] = src.shape;
        const m = c * h * w;
        this.push({
          op: OP_CONV,
          grouped: false,
          layer: i,
          src: this.view(src),
          dst: out,
          dstOffset: 0,
          og: this.groups(out),
          outH: 1,
          outW: 1,
          kernel: [h, w],
          stride: [1, 1],
          pads: [0, 0],
          ...zps,
          realOut: oc,
          w: (o, ci, ky, kx) => (o < oc && ci < c ? l.weights[o * m + (ci * h + ky) * w + kx] : 0),
          bias: (o) => l.bias[o],
          mult: (o) => l.mult[o],
        });
        return;
      }
      case 'maxpool': {
        if (this.globalPool(l, i, ins[0], out)) return;
        this.push({
          op: OP_MAXPOOL,
          grouped: true,
          layer: i,
          src: this.view(ins[0], true),
          dst: out,
          dstOffset: 0,
          og: this.groups(out),
          outH: oh,
          outW: ow,
          kernel: l.kernel,
          stride: l.stride,
          pads: pads(l.pads),
          padValue: -128,
          xzp: 0,
          yzp: 0,
          lo: l.lo,
          hi: l.hi,
          realOut: oc,
          w: (o, c) => (o === c && o < oc ? 1 : 0),
          bias: () => -128,
          mult: () => ONE,
        });
        return;
      }
      case 'avgpool': {
        if (this.globalPool(l, i, ins[0], out)) return;
        if (l.excludePad) {
          this.excludePadPool(l, i, ins[0], out);
          return;
        }
        const mult = l.mult ?? encodeMultiplier(1 / (l.kernel[0] * l.kernel[1]), DEVICE_M0_BITS);
        this.push({
          op: OP_CONV,
          grouped: true,
          layer: i,
          src: this.view(ins[0], true),
          dst: out,
          dstOffset: 0,
          og: this.groups(out),
          outH: oh,
          outW: ow,
          kernel: l.kernel,
          stride: l.stride,
          pads: pads(l.pads),
          ...zps,
          realOut: oc,
          w: (o, c) => (o === c && o < oc ? 1 : 0),
          bias: () => 0,
          mult: () => mult,
        });
        return;
      }
      case 'add': {
        // Elementwise, with the same weights and multiplier on every channel: the
        // operands' words are read as one-group pixels (CG = OG = 1 whatever C).
        const [a, b] = ins;
        const [wa, wb] = l.weights;
        const lanes = Math.min(n, oc); // with several groups every lane of a word is a channel
        for (const [p0, rows, cols] of stackedPieces(a.words, 2)) {
          this.push({
            op: OP_CONV,
            grouped: false,
            layer: i,
            src: {
              t: a,
              offset: p0,
              rowTo: b,
              h: rows + 1,
              w: cols,
              cg: 1,
              rowStep: 0,
              colStep: 1,
              pyStep: cols,
            },
            dst: out,
            dstOffset: p0,
            og: 1,
            outH: rows,
            outW: cols,
            kernel: [2, 1],
            stride: [1, 1],
            pads: [0, 0],
            ...zps,
            realOut: lanes,
            w: (o, c, ky) => (o === c && o < lanes ? (ky === 0 ? wa : wb) : 0),
            // folded: bias - a_zp (w_a + w_b) = -(a_zp w_a + b_zp w_b)
            bias: () => (l.inQ.zeroPoint - l.inQB.zeroPoint) * wb,
            mult: () => l.mult,
          });
        }
        return;
      }
      case 'concat': {
        const gMax = Math.max(...ins.map((t) => this.groups(t)));
        const px = oh * ow;
        const k = ins.length;
        // the first input's pixel q at base + q*gMax, input j's at that + j*dist
        let first: DevTensor;
        let rowTo: DevTensor | undefined;
        let dist = 0;
        if (k === 2 && ins.every((t) => this.groups(t) === gMax)) {
          [first, rowTo] = ins;
        } else {
          // Copies into one block, equally spaced rows of gMax groups, one per input.
          first = this.tensor([gMax * n, k * oh, ow], ins[0].q);
          ins.forEach((t, j) =>
            this.copy(i, this.view(t), first, j * px * gMax, gMax, [oh, ow], t.shape[0], false),
          );
          dist = px * gMax;
        }
        const offsets: number[] = [];
        let acc = 0;
        for (const s of l.inputShapes) {
          offsets.push(acc);
          acc += s[0];
        }
        const which = (o: number) => {
          let j = offsets.length - 1;
          while (offsets[j] > o) j--;
          return j;
        };
        const zp0 = l.inQs[0].zeroPoint;
        const og = this.groups(out);
        for (const [p0, rows, cols] of stackedPieces(px, k, ow)) {
          this.push({
            op: OP_CONV,
            grouped: false,
            layer: i,
            src: {
              t: first,
              offset: p0 * gMax,
              ...(rowTo ? { rowTo } : {}),
              h: rows - 1 + k,
              w: cols,
              cg: gMax,
              rowStep: dist,
              colStep: gMax,
              pyStep: cols * gMax,
            },
            dst: out,
            dstOffset: p0 * og,
            og,
            outH: rows,
            outW: cols,
            kernel: [k, 1],
            stride: [1, 1],
            pads: [0, 0],
            ...zps,
            padValue: zp0,
            xzp: zp0,
            realOut: oc,
            w: (o, ci, ky) => {
              if (o >= oc) return 0;
              const j = which(o);
              return ky === j && ci === o - offsets[j] ? 1 : 0;
            },
            // folded: bias - zp_0 = -zp_j for the channels of input j
            bias: (o) => zp0 - l.inQs[which(o)].zeroPoint,
            mult: (o) => l.mults[which(o)],
          });
        }
        return;
      }
      case 'pad': {
        this.copy(i, this.view(ins[0], true), out, 0, this.groups(out), [oh, ow], oc, true, pads(l.pads));
        // the copy's clamp is the layer's (a pad keeps its input quantization)
        const s = this.steps[this.steps.length - 1];
        s.lo = l.lo;
        s.hi = l.hi;
        return;
      }
    }
  }

  /**
   * A conv (group 1) over C channels with C*KW <= N, whose plain lowering would leave
   * N - C lanes of every input word idle: a pack step copies dy kernel rows' worth of
   * KW*C taps into the lanes of one word, T[(d*KW + kx)*C + c][y'][ox] =
   * Xpad[c][dy*y' + d][sw*ox + kx] (a CONV with M = 1 and the input's zero point, kernel
   * [dy, KW], stride [dy, sw], the conv's top and left pads: padding reads x_zp and is
   * written into T as x_zp), then conv' over T: kernel [ceil(KH/dy), 1], stride
   * [sh/dy, 1], no padding, W'[o][(d*KW + kx)*C + c][j][0] = W[o][c][dy*j + d][kx] (0
   * when dy*j + d >= KH), the conv's bias and multipliers. dy = sh when sh*KW*C <= N
   * (conv' then has row stride 1), else 1. T has the rows conv' reads: its last rows
   * may lie below the input, where the pad test gives x_zp. Exact: T holds the padded
   * input's values, conv' sums the same products, T's zero point is the input's. Taken
   * only when the estimate (layerCycles) of the two steps is below that of the plain
   * conv; returns whether it was.
   */
  private packedConv(l: QConv, plain: Step): boolean {
    const taps = this.packedConvSteps(l, plain);
    if (!taps) return false;
    const cycles = (s: Step) => this.stepCycles(s, l.name);
    if (this.packTaps !== 'always' && cycles(taps.steps[0]) + cycles(taps.steps[1]) >= cycles(plain))
      return false;
    this.tensors.push(taps.t);
    for (const s of taps.steps) this.push(s);
    return true;
  }

  /** packedConv's two steps and its tensor T (not yet among the tensors), or null where it does not apply. */
  private packedConvSteps(l: QConv, plain: Step): { steps: [Step, Step]; t: DevTensor } | null {
    const n = this.n;
    const src = plain.src.t;
    const [c] = src.shape;
    const [kh, kw] = l.kernel;
    const [sh, sw] = l.stride;
    if (!this.packTaps || l.group !== 1 || c * kw > n) return null;
    const [oc, oh, ow] = plain.dst.shape;
    const dy = sh * kw * c <= n ? sh : 1;
    const khT = Math.ceil(kh / dy);
    const shT = sh / dy;
    const th = shT * (oh - 1) + khT; // T's rows: the last conv' window's
    const lanes = dy * kw * c;
    // the descriptor's extents, and the 512 input rows the controller addresses
    if (th > EXTENT_MAX || th * dy - l.pads[0] > 512) return null;
    const zp = l.inQ.zeroPoint;
    const t = this.tensor([lanes, th, ow], l.inQ);
    this.tensors.pop(); // packedConv adds it when it takes the steps
    const pack: Step = {
      op: OP_CONV,
      grouped: false,
      layer: plain.layer,
      dstOffset: 0,
      src: this.view(src),
      dst: t,
      og: 1,
      outH: th,
      outW: ow,
      kernel: [dy, kw],
      stride: [dy, sw],
      pads: [l.pads[0], l.pads[1]],
      padValue: zp,
      xzp: zp,
      yzp: zp,
      lo: -128,
      hi: 127,
      realOut: lanes,
      w: (o, ci, d, kx) => (ci < c && o === (d * kw + kx) * c + ci ? 1 : 0),
      bias: () => 0,
      mult: () => ONE,
    };
    const conv: Step = {
      ...plain,
      src: this.view(t),
      kernel: [khT, 1],
      stride: [shT, 1],
      pads: [0, 0],
      w: (o, lane, j) => {
        if (o >= oc || lane >= lanes) return 0;
        const ky = dy * j + Math.floor(lane / (kw * c));
        return ky < kh ? plain.w(o, lane % c, ky, Math.floor(lane / c) % kw) : 0;
      },
    };
    return { steps: [pack, conv], t };
  }

  /** The estimate (layerCycles) of a conv step, with the per-layer overhead. */
  private stepCycles(s: Step, name: string): number {
    const n = this.n;
    const folded = new Int32Array(s.realOut);
    for (let o = 0; o < s.realOut; o++) folded[o] = (s.bias(o) - s.xzp * weightSum(s, n, o)) | 0;
    const steps = requantPlan(s, n, folded, name).steps;
    const k = s.kernel[0] * s.kernel[1] * s.src.cg;
    const d: DescriptorShape = {
      op: 'conv',
      grouped: false,
      k,
      ...windowOf(k, s.outH * s.outW, n, this.requantPipes),
      kh: s.kernel[0],
      kw: s.kernel[1],
      cg: s.src.cg,
      og: s.og,
      p: s.outH * s.outW,
      steps,
      interval: requantInterval(steps, n, this.requantUnits),
      block: 0,
    };
    const vector = this.schedule?.config.blockSchedule ?? false;
    if (this.schedule) d.block = blockFor(d, this.schedule.config, this.schedule.block);
    return layerCycles(d, n, undefined, this.requantPipes, vector) + OVERHEAD.perLayer;
  }

  /**
   * The one conv (group 1) reading a model input of C <= N/2 channels: the host writes the
   * input pixel-packed, g = floor(N/C) columns a word (layout.ts pixelPackTensor: T[j*C +
   * c][y][x'] = X[c][y][g*x' + j], x_zp past the last column), and the conv runs as Φ =
   * g / gcd(sw, g) phase descriptors. Phase φ computes the output columns ox = φ + Φt,
   * whose windows start at column a = sw*φ - pl + lcm(sw, g)*t, in lane group r = a mod g
   * of word b + (lcm/g)*t (b = floor((sw*φ - pl)/g)): kernel [KH, ceil((r + KW)/g)] words,
   * stride [sh, lcm/g], pads [pt, -b], W'[o][j*C + c][ky][kx'] = W[o][c][ky][g*kx' + j - r]
   * (0 outside the kernel), writing output pixel p of the phase at (φ + Φp)·OG (outShift
   * log2 Φ; OW a multiple of Φ keeps a row's phases in step). Exact: every product of the
   * conv is summed once, column x_zp where the conv reads padding, and a tap past the
   * input's right edge reads x_zp as the conv's padding does. Taken where the estimate of
   * the phases is below the plain conv's and the tap-packed one's (packedConv); returns
   * whether it was. The input tensor takes the packed shape [g*C, H, ceil(W/g)].
   */
  private pixelPackedConv(l: QConv, plain: Step): boolean {
    const n = this.n;
    const t = plain.src.t;
    if (!this.packPixels || (this.packTaps === 'always' && this.packPixels !== 'always')) return false;
    if (t !== this.qt[0] || this.inputReaders !== 1 || l.group !== 1) return false;
    const [c, h, w] = t.shape;
    const g = Math.floor(n / c);
    if (g < 2) return false;
    const [kh, kw] = l.kernel;
    const [sh, sw] = l.stride;
    const [oc, , ow] = plain.dst.shape;
    const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
    const phases = g / gcd(sw, g);
    // more than one phase needs the core's output shift (DeviceConfig.outputShift)
    if (ow % phases !== 0 || phases > 8 || (phases > 1 && !this.outputShift)) return false;
    const wg = Math.ceil(w / g);
    const packed: DevTensor = { ...t, shape: [g * c, h, wg], words: h * wg };
    const src = this.view(packed);
    const steps: Step[] = [];
    for (let ph = 0; ph < phases; ph++) {
      const a = sw * ph - l.pads[1];
      const b = Math.floor(a / g);
      if (b > 0) return false; // a window starting right of word 0: not needed by any model here
      const r = a - b * g;
      steps.push({
        ...plain,
        src,
        dstOffset: ph * plain.og,
        outW: ow / phases,
        kernel: [kh, Math.ceil((r + kw) / g)],
        stride: [sh, (sw * phases) / g],
        pads: [l.pads[0], -b],
        outShift: Math.log2(phases),
        w: (o, lane, ky, kx) => {
          if (o >= oc || lane >= g * c) return 0;
          const col = g * kx + Math.floor(lane / c) - r;
          return col >= 0 && col < kw ? plain.w(o, lane % c, ky, col) : 0;
        },
      });
    }
    if (this.packPixels !== 'always') {
      const cost = steps.reduce((sum, s) => sum + this.stepCycles(s, l.name), 0);
      if (cost >= this.stepCycles(plain, l.name)) return false;
      const taps = this.packedConvSteps(l, plain);
      if (taps && cost >= taps.steps.reduce((sum, s) => sum + this.stepCycles(s, l.name), 0)) return false;
    }
    // the packed tensor replaces the input: only this conv reads it
    t.shape = packed.shape;
    t.words = packed.words;
    t.pixelPack = { pixels: g, modelShape: [c, h, w] };
    for (const s of steps) {
      s.src = { ...s.src, t };
      this.push(s);
    }
    return true;
  }

  /**
   * Depthwise convs, and group convs whose groups lie inside the array's channel groups
   * (groupAligned): one grouped CONV, output group og reading input group og only; its
   * tiles are block-diagonal (diagonal for depthwise), K = KH*KW per pixel.
   */
  private lowerGroupedConv(l: QConv, i: number, src: DevTensor, out: DevTensor): void {
    const [oc, oh, ow] = out.shape;
    this.push({
      op: OP_CONV,
      grouped: true,
      layer: i,
      src: this.view(src, true),
      dst: out,
      dstOffset: 0,
      og: this.groups(out),
      outH: oh,
      outW: ow,
      kernel: l.kernel,
      stride: l.stride,
      pads: [l.pads[0], l.pads[1]],
      padValue: l.inQ.zeroPoint,
      xzp: l.inQ.zeroPoint,
      yzp: l.outQ.zeroPoint,
      lo: l.lo,
      hi: l.hi,
      realOut: oc,
      w: groupedWeights(l, oc),
      bias: (o) => l.bias[o],
      mult: (o) => l.mult[o],
    });
  }

  /**
   * Average pool without count_include_pad: along the rows into T = [C, OW, H] (written
   * transposed), then along T's rows into the output; each pass in bands of output rows
   * with one in-bounds count (one multiplier 1/count per descriptor), grouped.
   */
  private excludePadPool(l: QPool, i: number, src: DevTensor, out: DevTensor): void {
    const [c, h, w] = src.shape;
    const [, oh, ow] = out.shape;
    const g = this.groups(src);
    const [kh, kw] = l.kernel;
    const [sh, sw] = l.stride;
    const [pt, pl] = l.pads;
    const zp = l.inQ.zeroPoint;
    const t = this.tensor([c, ow, h], l.inQ);
    // count of in-bounds taps of output position o along an axis of length len
    const count = (o: number, k: number, s: number, p: number, len: number) =>
      Math.min(len, o * s - p + k) - Math.max(0, o * s - p);
    const bands = (
      outLen: number,
      k: number,
      s: number,
      p: number,
      len: number,
    ): [number, number, number][] => {
      const b: [number, number, number][] = [];
      for (let o = 0; o < outLen; o++) {
        const cnt = count(o, k, s, p, len);
        if (b.length && b[b.length - 1][2] === cnt) b[b.length - 1][1] = o + 1;
        else b.push([o, o + 1, cnt]);
      }
      return b;
    };
    const pass = (
      view: View,
      dst: DevTensor,
      dstOffset: number,
      outHW: [number, number],
      k: number,
      s: number,
      pad: number,
      cnt: number,
      clamp: [number, number],
    ) =>
      this.push({
        op: OP_CONV,
        grouped: true,
        layer: i,
        src: view,
        dst,
        dstOffset,
        og: g,
        outH: outHW[0],
        outW: outHW[1],
        kernel: [k, 1],
        stride: [s, 1],
        pads: [pad, 0],
        padValue: zp,
        xzp: zp,
        yzp: zp,
        lo: clamp[0],
        hi: clamp[1],
        realOut: c,
        w: (o, ci) => (o === ci && o < c ? 1 : 0),
        bias: () => 0,
        mult: () => encodeMultiplier(1 / cnt, DEVICE_M0_BITS),
      });
    // Pass 1: the descriptor's rows are the input's columns (row step g, column step
    // w*g), its output rows T's rows.
    for (const [r0, r1, cnt] of bands(ow, kw, sw, pl, w)) {
      const c0 = r0 * sw - pl; // first input column of the band's first window
      const skip = Math.max(0, c0);
      const view: View = { t: src, offset: skip * g, h: w - skip, w: h, cg: 1, rowStep: g, colStep: w * g };
      pass(view, t, r0 * h * g, [r1 - r0, h], kw, sw, Math.max(0, -c0), cnt, [-128, 127]);
    }
    // Pass 2: the descriptor's rows are T's columns (the input's rows: step g), its
    // columns T's rows (step h*g); its output rows are the output's rows.
    for (const [r0, r1, cnt] of bands(oh, kh, sh, pt, h)) {
      const y0 = r0 * sh - pt;
      const skip = Math.max(0, y0);
      const view: View = { t, offset: skip * g, h: h - skip, w: ow, cg: 1, rowStep: g, colStep: h * g };
      pass(view, out, r0 * ow * g, [r1 - r0, ow], kh, sh, Math.max(0, -y0), cnt, [l.lo, l.hi]);
    }
  }

  /**
   * A pool whose output is 1x1, without padding (a global pool): every channel has the
   * same weights and multiplier, so, as for the residual add, its G channel groups are
   * read as G one-group pixels: one grouped CONV (MAXPOOL) with OG = 1, output pixel g the
   * output's word g, tap (ky, kx) of pixel g at ky*W*G + kx*G + g. Its K = kh*kw identity
   * tiles then load once instead of once per output group. False when it does not
   * apply (padding, an output larger than 1x1, or more than 256 - kw groups).
   */
  private globalPool(l: QPool, i: number, src: DevTensor, out: DevTensor): boolean {
    const [c, , w] = src.shape;
    const g = this.groups(src);
    const [kh, kw] = l.kernel;
    const max = l.kind === 'maxpool';
    if (
      out.shape[1] !== 1 ||
      out.shape[2] !== 1 ||
      l.pads.some((p) => p !== 0) ||
      (!max && l.excludePad) ||
      g - 1 + kw > EXTENT_MAX
    )
      return false;
    const lanes = Math.min(this.n, c); // with several groups every lane of a word is a channel
    const mult = max ? ONE : (l.mult ?? encodeMultiplier(1 / (kh * kw), DEVICE_M0_BITS));
    const zp = max ? 0 : l.inQ.zeroPoint;
    this.push({
      op: max ? OP_MAXPOOL : OP_CONV,
      grouped: true, // (a MAXPOOL must be; with OG = 1 the same as a cg loop of one)
      layer: i,
      // the pad test's extents hold every tap of every pixel: no padding
      src: {
        t: src,
        offset: 0,
        h: kh,
        w: g - 1 + kw,
        cg: 1,
        rowStep: w * g,
        colStep: g,
        pxStep: 1,
        pyStep: g,
      },
      dst: out,
      dstOffset: 0,
      og: 1,
      outH: 1,
      outW: g,
      kernel: l.kernel,
      stride: [1, 1],
      pads: [0, 0],
      padValue: max ? -128 : zp,
      xzp: zp,
      yzp: max ? 0 : l.outQ.zeroPoint,
      lo: l.lo,
      hi: l.hi,
      realOut: lanes,
      w: (o, ci) => (o === ci && o < lanes ? 1 : 0),
      bias: () => (max ? -128 : 0),
      mult: () => mult,
    });
    return true;
  }
}

/** The input lanes output lane o of a step reads. */
function inLanes(s: Step, n: number, o: number): [number, number] {
  if (s.grouped) {
    const base = Math.floor(o / n) * n;
    return [base, base + n];
  }
  return [0, s.src.cg * n];
}

/** Σ over the taps of output lane o's weights. */
function weightSum(s: Step, n: number, o: number): number {
  const [c0, c1] = inLanes(s, n, o);
  let sum = 0;
  for (let c = c0; c < c1; c++)
    for (let ky = 0; ky < s.kernel[0]; ky++)
      for (let kx = 0; kx < s.kernel[1]; kx++) sum += s.w(o, c, ky, kx);
  return sum;
}

/** The requantizer's setting of a step: Steps, and each channel's window shift. */
interface RequantPlan {
  steps: number;
  shifts: number[];
}

/**
 * Requantizer steps of a descriptor (ARCHITECTURE section 2): the fewest that are exact
 * for every channel. Channel o's accumulators bias_folded + Σ w*x over int8 inputs x
 * (padding reads an int8 too; a max pool's accumulators are int8 values) fit need_o
 * radix-4 digits, as signed 2*need_o-bit numbers. A lane whose accumulator is wider than
 * 2*Steps bits saturates to lo or hi by its sign, and that is its exact result when its
 * window shift s_o = S_o - 16 - 2*Steps is at most 5: |acc * M| >= 2^(2*Steps - 1) *
 * 2^(30 - S_o) = 2^(13 - s_o) >= 256 puts y_zp + r outside int8 (M0 >= 2^30). So channel
 * o requires Steps >= min(need_o, ceil((S_o - 21) / 2)), and Steps = the largest
 * requirement (at least 1, the fewest the unit runs). No shift may be negative, so Steps
 * is at most floor((S_o - 16) / 2) for every channel; a layer whose requirement is above
 * that is refused. A channel with M0 = 0 requires nothing: its shift is 15, so its lane
 * never saturates, and m = 0 gives y_zp whatever the accumulator.
 */
function requantPlan(s: Step, n: number, folded: Int32Array, name: string): RequantPlan {
  let req = 0;
  let needy = -1; // the channel that requires the most digits
  let cap = 16;
  let capper = -1; // the channel with the smallest S
  for (let o = 0; o < s.realOut; o++) {
    const { m0, s: sh } = s.mult(o);
    if (m0 === 0) continue;
    check(m0 >= 2 ** 30 && m0 < 2 ** 31, `layer '${name}': channel ${o}: M0 = ${m0} is outside [2^30, 2^31)`);
    check(
      sh >= 18,
      `layer '${name}': requantizer multiplier too large (channel ${o}: M0·2^-${sh} >= 2^${30 - sh + 1}; ` +
        `the device needs S >= 18); use a coarser output scale`,
    );
    let need = 4; // a max pool's int8 accumulators
    if (s.op !== OP_MAXPOOL) {
      let hi = folded[o];
      let lo = folded[o];
      const [c0, c1] = inLanes(s, n, o);
      for (let c = c0; c < c1; c++)
        for (let ky = 0; ky < s.kernel[0]; ky++)
          for (let kx = 0; kx < s.kernel[1]; kx++) {
            const v = s.w(o, c, ky, kx);
            hi += v > 0 ? 127 * v : -128 * v;
            lo += v > 0 ? -128 * v : 127 * v;
          }
      need = 1;
      while (need < 16 && (hi > 2 ** (2 * need - 1) - 1 || lo < -(2 ** (2 * need - 1)))) need++;
    }
    const r = Math.min(need, Math.ceil((sh - 21) / 2));
    if (r > req) {
      req = r;
      needy = o;
    }
    if (Math.floor((sh - 16) / 2) < cap) {
      cap = Math.floor((sh - 16) / 2);
      capper = o;
    }
  }
  const steps = Math.max(1, req);
  if (steps > cap) {
    const S = (o: number) => s.mult(o).s;
    check(
      false,
      `layer '${name}': requantizer: channel ${needy} needs ${2 * steps}-bit accumulators (S = ${S(needy)}: ` +
        `a wider one would not saturate exactly) but channel ${capper}'s multiplier (S = ${S(capper)}) ` +
        `leaves ${2 * cap} bits to the layer; re-quantize with a coarser output scale`,
    );
  }
  const shifts: number[] = [];
  for (let o = 0; o < s.realOut; o++) {
    const { m0, s: sh } = s.mult(o);
    shifts.push(m0 === 0 ? 15 : Math.min(sh - 16 - 2 * steps, 15));
  }
  return { steps, shifts };
}

/** Parameter words and weight tiles of one descriptor (ARCHITECTURE section 3). */
function convImage(s: Step, n: number, plan: RequantPlan, folded: Int32Array, name: string): Int8Array {
  const [kh, kw] = s.kernel;
  const cgN = s.src.cg;
  const ogWords = PARAM_WORDS + kh * kw * cgN * n; // params, then tiles
  const bytes = new Int8Array(s.og * ogWords * n);
  for (let og = 0; og < s.og; og++) {
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        for (let cg = 0; cg < cgN; cg++) {
          const tile = og * ogWords + PARAM_WORDS + ((ky * kw + kx) * cgN + cg) * n;
          const c0 = (s.grouped ? og : cg) * n;
          for (let r = 0; r < n; r++) {
            for (let j = 0; j < n; j++) {
              const o = og * n + j;
              if (o >= s.realOut) continue;
              const v = s.w(o, c0 + r, ky, kx);
              // The array's column sums are sized for |w| <= 127 (SPEC section 3).
              check(v !== -128, `layer '${name}': weight -128 (weights must be in [-127, 127])`);
              bytes[(tile + r) * n + j] = v;
            }
          }
        }
      }
    }
  }
  const params = new DataView(bytes.buffer);
  for (let o = 0; o < s.og * n; o++) {
    const base = Math.floor(o / n) * ogWords * n;
    const j = o % n;
    let bias = 0;
    let m = 0;
    let sh = 15; // unused lanes: m = 0 gives the zero point whatever the shift
    if (o < s.realOut) {
      bias = folded[o];
      m = s.mult(o).m0 / 2 ** 15;
      check(Number.isInteger(m), `layer '${name}': channel ${o}: M0 has more than 16 significant bits`);
      sh = plan.shifts[o];
    }
    params.setUint32(base + 4 * j, m | (sh << 16), true);
    params.setInt32(base + 4 * n + 4 * j, bias, true);
  }
  return bytes;
}

/** The descriptor fields of a step, once its tensors and weights are placed. */
function fieldsOf(s: Step, wBase: number, steps: number): LayerFields {
  const v = s.src;
  const rowStep = v.rowTo ? v.rowTo.base - v.t.base : v.rowStep;
  const [sh, sw] = s.stride;
  return {
    op: s.op,
    grouped: s.grouped,
    inBase: v.t.base + v.offset,
    outBase: s.dst.base + s.dstOffset,
    outShift: s.outShift ?? 0,
    cg: v.cg,
    h: v.h,
    w: v.w,
    og: s.og,
    oh: s.outH,
    ow: s.outW,
    kh: s.kernel[0],
    kw: s.kernel[1],
    sh,
    sw,
    pt: s.pads[0],
    pl: s.pads[1],
    rowStep,
    colStep: v.colStep,
    pxStep: v.pxStep ?? sw * v.colStep,
    pyStep: v.pyStep ?? sh * rowStep,
    wBase,
    steps,
    padValue: s.padValue,
    yZp: s.yzp,
    lo: s.lo,
    hi: s.hi,
  };
}

/**
 * The block size of a descriptor (0: the sliding window) under CompileOptions.block: on a
 * core with the block schedule, chooseBlock's where its estimate is below the window's
 * (true), none (false), or the given one (a number, within 1 .. half the accumulator).
 */
function blockFor(d: DescriptorShape, config: DeviceConfig, block: boolean | number): number {
  if (!config.blockSchedule || block === false) return 0;
  if (typeof block === 'number') return Math.min(Math.max(1, Math.floor(block)), config.accDepth / 2);
  return chooseBlock(d, config.dim, config.requantPipes ?? 1, config.accDepth / 2);
}

/** A descriptor's fields with its schedule (blockFor). */
function withSchedule(f: LayerFields, config: DeviceConfig, block: boolean | number): LayerFields {
  if (!config.blockSchedule || block === false) return f;
  // the shape the estimate reads from the window descriptor of these fields
  const [d] = decodeProgram(
    encodeDescriptor(f, config.dim, config.requantUnits ?? 1, config.requantPipes ?? 1),
  );
  const b = blockFor(d, config, block);
  return b ? { ...f, block: b } : f;
}

/** Descriptor field limits (ARCHITECTURE section 4) of one step, named after its layer. */
function checkFields(s: Step, n: number, name: string): void {
  const v = s.src;
  const ext = (what: string, x: number) =>
    check(
      x <= EXTENT_MAX,
      `layer '${name}': ${what} ${x} exceeds ${EXTENT_MAX}, the largest the device runs`,
    );
  ext('input height', v.h);
  ext('input width', v.w);
  ext('output height', s.outH);
  ext('output width', s.outW);
  ext('kernel height', s.kernel[0]);
  ext('kernel width', s.kernel[1]);
  ext('padding', Math.max(...s.pads));
  check(s.stride[0] >= 1 && s.stride[1] >= 1, `layer '${name}': stride out of range`);
  ext('stride', Math.max(...s.stride));
  // input coordinates are 10-bit two's complement in the controller
  const reach = (out: number, st: number, pad: number, k: number) => (out - 1) * st - pad + k;
  check(
    reach(s.outH, s.stride[0], s.pads[0], s.kernel[0]) <= 512 &&
      reach(s.outW, s.stride[1], s.pads[1], s.kernel[1]) <= 512,
    `layer '${name}': its windows reach past the 512 input rows and columns the controller addresses`,
  );
  const k = s.kernel[0] * s.kernel[1] * v.cg;
  check(
    k * n < 65536,
    `layer '${name}': ${fmt(k)} weight tiles per output pixel, the device runs fewer than ${fmt(65536 / n)}`,
  );
}

/** Where AMEM has room, in memory words: its own RAM, then the extension (0: none). */
interface AmemRegions {
  own: number;
  ext: number;
}

/** The allocation: the extent (one past the highest word used) and what could not be placed. */
interface Allocation {
  extent: number;
  /**
   * A tensor that fits neither memory (null: all placed); `clash`: the extension has room
   * but a step would then read and write it.
   */
  unplaced: { t: DevTensor; clash: boolean } | null;
}

/**
 * Liveness allocation, greedy by size (as TFLite's arena planner): the largest tensors
 * first, each at the lowest address free of every placed tensor whose life overlaps its
 * own. With an AMEM extension (`regions.ext` > 0, ARCHITECTURE section 3) a tensor goes
 * to AMEM's own RAM when it fits there, else to the extension, where the rule is that no
 * step reads and writes the extension (the extension's RAM serves one request a cycle):
 * a tensor may go there only when no step that writes it reads a tensor there, and no
 * step that reads it writes one there. So a chain of layers alternates between the two
 * memories (KWS DS-CNN: conv1's output in EBR, dw1's in the extension, pw1's in EBR, ...).
 * Without an extension every tensor is placed (past the end when it must; the capacity
 * check names the layer).
 */
function allocate(tensors: DevTensor[], steps: Step[], distinct: boolean, regions?: AmemRegions): Allocation {
  const order = [...tensors].sort((a, b) => b.words - a.words || a.first - b.first);
  const placed: DevTensor[] = [];
  const inExt = new Set<DevTensor>();
  const ext = regions && regions.ext > 0 ? regions : null;
  // the lowest address from `lo` free of the placed tensors of one memory that overlap t
  const lowest = (t: DevTensor, lo: number, here: (p: DevTensor) => boolean) => {
    const busy = placed
      .filter((p) => here(p) && (distinct || (p.first <= t.last && t.first <= p.last)))
      .sort((a, b) => a.base - b.base);
    let base = lo;
    for (const p of busy) {
      if (base + t.words <= p.base) break;
      base = Math.max(base, p.base + p.words);
    }
    return base;
  };
  // a step that would read and write the extension if t were there
  const clash = (t: DevTensor): Step | undefined =>
    steps.find((s) => {
      const reads = [s.src.t, ...(s.src.rowTo ? [s.src.rowTo] : [])];
      if (s.dst === t) return reads.some((r) => r === t || inExt.has(r));
      return reads.includes(t) && inExt.has(s.dst);
    });
  let extent = 0;
  let unplaced: Allocation['unplaced'] = null;
  for (const t of order) {
    let base = lowest(t, 0, (p) => !inExt.has(p));
    if (ext && base + t.words > ext.own) {
      const c = clash(t);
      const xbase = lowest(t, ext.own, (p) => inExt.has(p));
      if (!c && xbase + t.words <= ext.own + ext.ext) {
        base = xbase;
        inExt.add(t);
      } else if (!unplaced) {
        unplaced = { t, clash: c !== undefined };
      }
    }
    t.base = base;
    placed.push(t);
    extent = Math.max(extent, base + t.words);
  }
  return { extent, unplaced };
}

interface Planned {
  low: Lowering;
  /** Per step: its weight image and requantizer steps. */
  images: { bytes: Int8Array; steps: number }[];
  amemExtent: number;
  /** What the allocation could not place (with an AMEM extension). */
  unplaced: Allocation['unplaced'];
  /** Why the configuration's AMEM extension is not usable for this model, or null. */
  extBlocked: string | null;
  /** Each step's WMEM word, and the end of the weights. */
  wBase: number[];
  wEnd: number;
  needs: MemoryNeeds;
}

function planModel(model: QModel, config: DeviceConfig, options: CompileOptions): Planned {
  const n = config.dim;
  if (model.layers.length === 0) throw new UnsupportedOpError('the model has no layers');
  if ((model.m0Bits ?? 31) !== DEVICE_M0_BITS) {
    throw new UnsupportedOpError(
      `the model's multipliers have ${model.m0Bits ?? 31}-bit M0, the device runs ${DEVICE_M0_BITS}-bit ones: re-quantize it with 'nnfpga quantize'`,
    );
  }
  const low = new Lowering(
    model,
    n,
    options.packTaps ?? true,
    config.requantUnits ?? 1,
    config.requantPipes ?? 1,
    options.packPixels ?? true,
    config.outputShift ?? false,
    { config, block: options.block ?? true },
  );
  low.run();
  const name = (s: Step) => model.layers[s.layer].name;
  for (const s of low.steps) checkFields(s, n, name(s));
  const images = low.steps.map((s) => {
    const folded = new Int32Array(s.realOut);
    for (let o = 0; o < s.realOut; o++) folded[o] = (s.bias(o) - s.xzp * weightSum(s, n, o)) | 0;
    const plan = requantPlan(s, n, folded, name(s));
    return { bytes: convImage(s, n, plan, folded, name(s)), steps: plan.steps };
  });
  const wTotal = images.reduce((s, im) => s + im.bytes.length, 0);
  // AMEM by liveness, with the extension when the configuration has one; if the weights
  // then cannot keep clear of it (placeWeights), again without.
  const regions = amemRegions(config);
  const tensors = low.tensors.filter((t) => t.first <= t.last);
  const distinct = options.allocation === 'distinct';
  let { extent: amemExtent, unplaced } = allocate(tensors, low.steps, distinct, regions);
  let weights = placeWeights(low.steps, images, n, config, regions, amemExtent > regions.own && !unplaced);
  let extBlocked: string | null = null;
  if (weights.clash !== null) {
    const l = model.layers[low.steps[weights.clash].layer];
    extBlocked = `the AMEM extension is WMEM's upper half, and layer '${l.name}', which would use it, has its weights past the lower ${fmt((config.wmemWords / 2) * 4)} bytes`;
    ({ extent: amemExtent, unplaced } = allocate(tensors, low.steps, distinct));
    weights = placeWeights(low.steps, images, n, config, regions, false);
  }
  // AMEM at a step: the extent of the tensors alive then, in each memory (the extension
  // from its first word).
  const usesExt = regions.ext > 0 && !extBlocked && !unplaced && amemExtent > regions.own;
  const live = (i: number) => {
    const alive = low.tensors.filter((t) => t.first <= i && i <= t.last);
    if (!usesExt) return Math.max(0, ...alive.map((t) => t.base + t.words));
    const end = (ts: DevTensor[], from: number) => Math.max(from, ...ts.map((t) => t.base + t.words)) - from;
    return (
      end(
        alive.filter((t) => t.base < regions.own),
        0,
      ) +
      end(
        alive.filter((t) => t.base >= regions.own),
        regions.own,
      )
    );
  };
  const layers = model.layers.map((l, k) => {
    const [a, b] = low.ranges[k];
    let amem = 0;
    let wmem = 0;
    for (let i = a; i < b; i++) {
      amem = Math.max(amem, live(i));
      wmem += images[i].bytes.length;
    }
    return { name: l.name, amem: amem * n, wmem, descriptors: b - a };
  });
  // the extent, or with the extension in use the most that is alive at once in the two
  const peakAmem = usesExt ? Math.max(...low.steps.map((_, i) => live(i))) : amemExtent;
  const perRun = Math.min(config.maxLayers, Math.floor(config.dmemWords / DESC_WORDS));
  const descs = low.steps.length;
  const dmem = Math.min(descs + 1, perRun) * DESC_WORDS * 4;
  return {
    low,
    images,
    amemExtent,
    unplaced,
    extBlocked,
    wBase: weights.base,
    wEnd: weights.end,
    needs: { layers, peak: { amem: peakAmem * n, wmem: wTotal, dmem } },
  };
}

/**
 * Each step's weights, one after another in program order (memory words). With the AMEM
 * extension in use (`ext`) they skip the WMEM words that are the extension, and a step
 * that reads or writes the extension must have its weights in the lower half (the upper
 * half's RAM serves one request a cycle); `clash` is the first that has not (null: none).
 */
function placeWeights(
  steps: Step[],
  images: { bytes: Int8Array }[],
  n: number,
  config: DeviceConfig,
  regions: AmemRegions,
  ext: boolean,
): { base: number[]; end: number; clash: number | null } {
  const half = config.wmemWords / (n / 4) / 2;
  const alias = ext ? extensionAlias(config) : [];
  const inExt = (t: DevTensor) => t.base >= regions.own;
  const base: number[] = [];
  let at = 0;
  let clash: number | null = null;
  steps.forEach((s, i) => {
    const words = images[i].bytes.length / n;
    for (const [from, to] of alias) if (at < to && at + words > from) at = to;
    base.push(at);
    at += words;
    const uses = ext && (inExt(s.dst) || inExt(s.src.t) || (s.src.rowTo !== undefined && inExt(s.src.rowTo)));
    if (uses && at > half && clash === null) clash = i;
  });
  return { base, end: at, clash };
}

/** AMEM's own RAM and its extension, in memory words. */
function amemRegions(config: DeviceConfig): AmemRegions {
  const sub = config.dim / 4;
  return { own: config.amemWords / sub, ext: (config.amemExtWords ?? 0) / sub };
}

/**
 * Per-layer and peak memory needs of a model on a configuration, in bytes, and whether
 * it fits (for `info --board`): AMEM by liveness, WMEM for the weights, DMEM for the
 * largest program segment.
 */
export function plan(
  model: QModel,
  config: DeviceConfig,
): MemoryNeeds & {
  fits: boolean;
  fitReason: string | null;
  available: { amem: number; wmem: number; dmem: number };
} {
  const available = {
    amem: (config.amemWords + (config.amemExtWords ?? 0)) * 4,
    wmem: config.wmemWords * 4,
    dmem: config.dmemWords * 4,
  };
  let fitReason: string | null = null;
  let p: Planned;
  try {
    p = fittedPlan(model, config, {});
  } catch (err) {
    if (!(err instanceof ModelTooLargeError)) throw err;
    fitReason = err.message;
    p = planModel(model, config, { packTaps: false, packPixels: false });
  }
  return { ...p.needs, fits: fitReason === null, fitReason, available };
}

/**
 * The plan of a model that fits the configuration (checkCapacity): with packed taps and
 * pixels unless they are off or make it too large, then without.
 */
function fittedPlan(model: QModel, config: DeviceConfig, options: CompileOptions): Planned {
  const p = planModel(model, config, options);
  try {
    checkCapacity(model, config, p);
    return p;
  } catch (err) {
    if (!(err instanceof ModelTooLargeError) || (options.packTaps === false && options.packPixels === false))
      throw err;
  }
  const q = planModel(model, config, { ...options, packTaps: false, packPixels: false });
  checkCapacity(model, config, q);
  return q;
}

/** One line naming the layer, the memory, what it needs and what the configuration has. */
function checkCapacity(model: QModel, config: DeviceConfig, p: Planned): void {
  const n = config.dim;
  const { low, images } = p;
  const { own: amemMem, ext } = amemRegions(config);
  const layerAt = (i: number) => model.layers[low.steps[Math.max(0, i)].layer];
  if (p.unplaced) {
    // the step of its life with the most alive, and what is alive then
    const { t, clash } = p.unplaced;
    const why = clash
      ? `a ${fmt(t.words * n)}-byte tensor fits only the extension, where a descriptor would read and write it`
      : `neither has room for a ${fmt(t.words * n)}-byte tensor`;
    const aliveWords = (i: number) =>
      low.tensors.filter((u) => u.first <= i && i <= u.last).reduce((a, u) => a + u.words, 0);
    let worst = Math.max(0, t.first);
    for (let i = worst; i <= Math.min(t.last, low.steps.length - 1); i++)
      if (aliveWords(i) > aliveWords(worst)) worst = i;
    const l = layerAt(worst);
    throw new ModelTooLargeError(
      `layer '${l.name}' (${l.kind}): AMEM needs ${fmt(aliveWords(worst) * n)} bytes for the activations alive while it runs, the configuration has ${fmt(amemMem * n)} and ${fmt(ext * n)} in its extension, and ${why}`,
    );
  }
  if (p.amemExtent > amemMem && (ext === 0 || p.extBlocked)) {
    // the first step whose live tensors reach past the memory
    const k = low.ranges.findIndex(([a, b]) => {
      for (let i = a; i < b; i++) {
        const over = low.tensors.some((t) => t.first <= i && i <= t.last && t.base + t.words > amemMem);
        if (over) return true;
      }
      return false;
    });
    const l = model.layers[Math.max(0, k)];
    throw new ModelTooLargeError(
      `layer '${l.name}' (${l.kind}): AMEM needs ${fmt(p.needs.layers[Math.max(0, k)].amem)} bytes for the activations alive while it runs, the configuration has ${fmt(amemMem * n)}${p.extBlocked ? ` (${p.extBlocked})` : ''}`,
    );
  }
  const wmemMem = (config.wmemWords / (n / 4)) * n;
  for (let i = 0; i < images.length; i++) {
    const w = p.wBase[i] * n + images[i].bytes.length;
    if (w > wmemMem) {
      const l = model.layers[low.steps[i].layer];
      throw new ModelTooLargeError(
        `layer '${l.name}' (${l.kind}): WMEM needs ${fmt(p.needs.peak.wmem)} bytes for the weights and parameters (${fmt(w)} up to this layer), the configuration has ${fmt(wmemMem)}`,
      );
    }
  }
}

/** Compiles a QModel for a device configuration. */
export function compile(model: QModel, config: DeviceConfig, options: CompileOptions = {}): DeviceImage {
  const n = config.dim;
  const sub = n / 4;
  const p = fittedPlan(model, config, options);
  const { low, images } = p;

  // ---- WMEM
  const { wBase, wEnd: wWords } = p;
  const wBytes = new Int8Array(wWords * n);
  images.forEach((im, i) => wBytes.set(im.bytes, wBase[i] * n));

  // ---- DMEM: every descriptor, then the program in segments of what one RUN executes
  const descriptors = new Uint32Array(low.steps.length * DESC_WORDS);
  low.steps.forEach((s, i) =>
    descriptors.set(
      encodeDescriptor(
        withSchedule(fieldsOf(s, wBase[i], images[i].steps), config, options.block ?? true),
        n,
        config.requantUnits ?? 1,
        config.requantPipes ?? 1,
      ),
      i * DESC_WORDS,
    ),
  );
  const segments = programRuns({ config, descriptors, ranges: [[0, low.steps.length]] }).map((r) => r.dmem);
  // Every segment is a well-formed program (ARCHITECTURE section 4). Only configurations
  // whose AMEM the descriptor's 16-bit fields address are devices; larger ones are the
  // unbounded memories of an estimate (fit.ts), never run.
  if (config.amemWords / sub <= 32768) for (const seg of segments) checkProgram(seg, config);

  const place = (t: DevTensor, shape: number[]): TensorPlacement => ({
    addr: t.base * sub,
    words: t.words * sub,
    shape,
  });
  const layers: CompiledLayer[] = model.layers.map((l, k) => ({
    name: l.name,
    kind: l.kind,
    output: place(low.qt[k + 1], [...l.output]),
    macs: layerMacs(l),
    steps: { first: low.ranges[k][0], count: low.ranges[k][1] - low.ranges[k][0] },
  }));
  const inT = low.qt[0];
  return {
    config,
    dmem: segments[0],
    segments,
    wmem: new Uint32Array(wBytes.buffer),
    amemWordsUsed: p.amemExtent * sub,
    input: inT.pixelPack
      ? { ...place(inT, [...inT.shape]), pixelPack: inT.pixelPack }
      : place(
          inT,
          inT.shape[1] * inT.shape[2] === 1 && model.input.length === 3 ? [inT.shape[0]] : [...model.input],
        ),
    output: layers[layers.length - 1].output,
    layers,
    descriptors,
    stepLayers: low.steps.map((s) => s.layer),
    needs: p.needs,
  };
}

/** One RUN: its DMEM image and which descriptors of the program it holds. */
export interface ProgramRun {
  dmem: Uint32Array;
  first: number;
  count: number;
}

/**
 * The descriptors of `ranges` (each [first, end) of the program) cut into RUNs of at
 * most MaxLayers descriptors, none spanning two ranges; each DMEM image ends with END
 * unless full. With the layers' step ranges, every layer's output can be read right after
 * its last RUN (the host's per-layer read-back).
 */
export function programRuns(
  image: Pick<DeviceImage, 'config' | 'descriptors'> & { ranges: [number, number][] },
): ProgramRun[] {
  const { config, descriptors } = image;
  const perRun = Math.min(config.maxLayers, Math.floor(config.dmemWords / DESC_WORDS));
  const runs: ProgramRun[] = [];
  for (const [a, b] of image.ranges) {
    for (let first = a; first < b; first += perRun) {
      const count = Math.min(perRun, b - first);
      const dmem = new Uint32Array(Math.min(count + 1, perRun) * DESC_WORDS);
      dmem.set(descriptors.subarray(first * DESC_WORDS, (first + count) * DESC_WORDS));
      runs.push({ dmem, first, count });
    }
  }
  return runs;
}

/** The RUNs of the whole program (the image's segments), or one layer after another. */
export function imageRuns(image: DeviceImage, perLayer = false): ProgramRun[] {
  const ranges: [number, number][] = perLayer
    ? image.layers.map((l) => [l.steps.first, l.steps.first + l.steps.count])
    : [[0, image.stepLayers.length]];
  return programRuns({ config: image.config, descriptors: image.descriptors, ranges });
}

/**
 * A conv's weights as W(o, ci, ky, kx) over all its input channels: block-diagonal for
 * groups (output o reads the C/group input channels of its group, 0 elsewhere and past
 * the real channels: o >= oc, ci >= C).
 */
function groupedWeights(l: QConv, oc: number): (o: number, ci: number, ky: number, kx: number) => number {
  const [c] = shape3(l.input);
  const [kh, kw] = l.kernel;
  const cpg = c / l.group;
  const kpg = oc / l.group;
  return (o, ci, ky, kx) => {
    if (o >= oc || ci >= c) return 0;
    const cc = ci - Math.floor(o / kpg) * cpg;
    return cc < 0 || cc >= cpg ? 0 : l.weights[((o * cpg + cc) * kh + ky) * kw + kx];
  };
}
