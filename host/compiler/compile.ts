// The compiler: QModel graph → DeviceImage (docs/ARCHITECTURE.md sections 1, 3, 4).
//
// Every layer is lowered onto the two descriptor ops the accelerator has, CONV and
// MAXPOOL; one layer may take several descriptors ("steps"). The steps run in the
// QModel's (topological) order, in segments of MaxLayers descriptors (the host runs the
// segments one after another). Activations are placed in AMEM by liveness: a tensor
// lives from the step that first writes it to the last that reads it, and two tensors
// share memory only when their lives do not overlap.
//
// Lowerings (all exact: a copy is a 1x1 identity conv with M = 1 and the same zero
// point, y = zp + (x - zp)):
// - conv, group 1: one CONV. Grouped convs are CONVs with block-diagonal weights.
// - dense over [C,H,W]: an HxW conv over C channels giving [Nout,1,1] ([Nout][C*H*W]
//   weights are OIHW [Nout][C][H][W]); over a vector [M]: a 1x1 conv over [M,1,1]. When
//   only dense layers read the model input, the host writes it as the vector [M] (same
//   CHW-flat data, all N lanes busy even when C < N).
// - channelwise layers (depthwise conv, group = C = K, and average pooling with
//   count_include_pad) on more than N channels run one CONV per channel group on the
//   planar layout (layout.ts): plane g is a one-group tensor, so each step is an ordinary
//   CONV with CG = OG = 1 and a diagonal weight tile, instead of one CONV whose every
//   output group walks every input group. Their input is planar when its producer can
//   write it so (a conv-like layer writes one plane per output-group descriptor) or is
//   made planar by "extract" copies: a 1x1 CONV that reads group g of every pixel (CG =
//   1 with the pixel steps of the real CG in descriptor words 11-13) and writes plane g.
//   A pointwise conv (1x1, stride 1, no pads) reads a planar [C,H,W] as the one-group
//   tensor [N, G, H*W] with a Gx1 kernel; any other reader gets a "merge" copy (that Gx1
//   kernel with identity weights) in the usual layout.
// - average pooling becomes a convolution: weight 1 from channel c to channel c, bias 0,
//   the pool's multiplier; padding reads x_zp, so acc = Σ (x_q − x_zp) over the window.
//   Without count_include_pad it is two passes of such convs (ARCHITECTURE section 2): a
//   1-D pool along the rows, written transposed ([C, OW, H]), then one along its rows
//   (the original columns) written back in place order; each pass in bands of output
//   rows that share an in-bounds count, so one multiplier 1/count per descriptor.
//   Transposing costs nothing: the descriptor's pixel steps (words 11-13) are free.
// - residual add: one CONV with a 2x1 kernel over a two-row view whose rows are the two
//   operands, each word of them a pixel of one channel group (the add is elementwise:
//   every channel has the same weights and multiplier): the row step (word 11) is the
//   distance from a to b in AMEM (modulo the memory size), so the operands may lie
//   anywhere. Weights w_a (row 0) and w_b (row 1) on the diagonal of one tile each,
//   bias_folded = −(a_zp·w_a + b_zp·w_b).
// - concat: the same view over its inputs (copies into one block when there are more
//   than two or their channel groups differ), weight 1 from input k's channel c to
//   output channel offset_k + c, each output channel its input's multiplier.
// - pad: a 1x1 identity conv with the pads (padding reads x_zp, i.e. writes y_zp).
// - maxpool: one MAXPOOL.
// Zero points fold into the bias: bias_folded = bias − x_zp·Σw (int32, wrapping);
// padding reads as x_zp, so the fold is exact at the borders too.
// WMEM: per CONV descriptor, per og: 12 parameter words (bias_folded[N], M0[N], s[N] as
// little-endian int32, s the window shift below), then its tiles for ky, kx, cg (N words
// each, word r byte j = W[og·N+j][cg·N+r][ky][kx]); the controller reads it all with one
// pointer. The requantizer runs Steps radix-4 Booth digits (word 9): the fewest that hold
// every accumulator the descriptor can produce for int8 inputs (requantSteps); its S
// words hold the window shift S - 1 - 2*Steps (at most 31).

import { ModelTooLargeError, UnsupportedOpError } from '../errors.ts';
import { encodeMultiplier } from '../quant/requant.ts';
import type { ActQuant, Multiplier, QLayer, QModel, QPool } from '../quant/types.ts';
import { MODEL_INPUT } from '../quant/types.ts';
import { shape3 } from './layout.ts';
import type { CompiledLayer, DeviceConfig, DeviceImage, MemoryNeeds, TensorPlacement } from './types.ts';

export const OP_END = 0;
export const OP_CONV = 1;
export const OP_MAXPOOL = 2;
/** Reserved: average pooling is compiled to OP_CONV. */
export const OP_AVGPOOL = 3;
export const DESC_WORDS = 16;

export interface CompileOptions {
  /** 'liveness' (default): memory reused once a tensor is dead; 'distinct': never reused. */
  allocation?: 'liveness' | 'distinct';
}

/** M = 1: a copy. */
const ONE: Multiplier = { m0: 2 ** 30, s: 30 };

/** A tensor in AMEM. */
interface DevTensor {
  shape: [number, number, number];
  /** Planar layout; only ever set with more than one group and more than one pixel. */
  planar: boolean;
  q: ActQuant;
  words: number; // memory words
  first: number; // first step writing it (-1: written by the host)
  last: number; // last step reading it (Infinity: read by the host at the end)
  base: number; // memory word, once allocated
}

/** A tensor as a descriptor reads it (ARCHITECTURE section 1: AMEM = P(oy, ox) + koff). */
interface View {
  t: DevTensor;
  offset: number; // memory words from t.base
  h: number; // extent checked for padding
  w: number;
  cg: number; // channel groups the tile loop runs over (word 4)
  rowStep: number; // words from one input row to the next (W·CG for the usual layout)
  /** With `rowTo`, the row step is the distance from t to rowTo (the add's operands). */
  rowTo?: DevTensor;
  colStep: number; // words from one input column to the next (the controller steps CG per kx)
}

/** One descriptor. Conv weights are over lanes: o in [0, og·N), c in [0, cg·N). */
interface Step {
  op: number;
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
  xzp: number;
  yzp: number;
  lo: number;
  hi: number;
  /** CONV: lanes with a real output channel; the others get M0 = 0. */
  realOut?: number;
  w?: (o: number, c: number, ky: number, kx: number) => number;
  /** CONV: the bias before the zero-point fold, and the multiplier, of output lane o. */
  bias?: (o: number) => number;
  mult?: (o: number) => Multiplier;
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

/** Depthwise conv (one input channel per output channel) or count_include_pad average pool. */
function channelwise(l: QLayer): boolean {
  if (l.kind === 'conv') return l.group === l.input[0] && l.output[0] === l.input[0];
  return l.kind === 'avgpool' && !l.excludePad;
}

/** A pointwise conv: reads a planar tensor through the [N, G, H*W] view. */
function pointwise(l: QLayer): boolean {
  return (
    l.kind === 'conv' &&
    l.group === 1 &&
    l.kernel[0] === 1 &&
    l.kernel[1] === 1 &&
    l.stride[0] === 1 &&
    l.stride[1] === 1 &&
    l.pads.every((p) => p === 0)
  );
}

/** Layers lowered to CONVs that can write their output one plane per descriptor. */
function writesPlanes(l: QLayer): boolean {
  return l.kind === 'conv' || l.kind === 'pad' || (l.kind === 'avgpool' && !l.excludePad);
}

class Lowering {
  readonly steps: Step[] = [];
  readonly tensors: DevTensor[] = [];
  /** Device tensor of each QModel tensor: [0] the input, [k + 1] layer k's output. */
  readonly qt: DevTensor[] = [];
  private planarCopy = new Map<DevTensor, DevTensor>();
  private groupCopy = new Map<DevTensor, DevTensor>();
  /** Steps of each QModel layer: [first, end). */
  readonly ranges: [number, number][] = [];

  constructor(
    private model: QModel,
    private n: number,
  ) {}

  private groups(t: DevTensor): number {
    return Math.ceil(t.shape[0] / this.n);
  }

  private tensor(shape: [number, number, number], q: ActQuant, planar = false): DevTensor {
    const g = Math.ceil(shape[0] / this.n);
    const t: DevTensor = {
      shape,
      planar: planar && g > 1 && shape[1] * shape[2] > 1,
      q,
      words: shape[1] * shape[2] * g,
      first: Infinity,
      last: -1,
      base: 0,
    };
    this.tensors.push(t);
    return t;
  }

  /** Whether the tensor's words are its planar layout (always so with one group or pixel). */
  private planarView(t: DevTensor): boolean {
    return t.planar || this.groups(t) === 1 || t.shape[1] * t.shape[2] === 1;
  }

  private push(s: Step): void {
    const i = this.steps.length;
    this.steps.push(s);
    s.src.t.last = Math.max(s.src.t.last, i);
    if (s.src.rowTo) s.src.rowTo.last = Math.max(s.src.rowTo.last, i);
    s.dst.first = Math.min(s.dst.first, i);
  }

  /** The usual view of a tensor in its own layout. */
  private view(t: DevTensor): View {
    const g = this.groups(t);
    return { t, offset: 0, h: t.shape[1], w: t.shape[2], cg: g, rowStep: t.shape[2] * g, colStep: g };
  }

  /** A copy step: 1x1, identity on the real channels, M = 1, the same zero point. */
  private copy(
    layer: number,
    src: View,
    dst: DevTensor,
    dstOffset: number,
    og: number,
    outH: number,
    outW: number,
    kernel: [number, number],
    w: Step['w'],
    realOut: number,
  ): void {
    this.push({
      op: OP_CONV,
      layer,
      src,
      dst,
      dstOffset,
      og,
      outH,
      outW,
      kernel,
      stride: [1, 1],
      pads: [0, 0],
      xzp: src.t.q.zeroPoint,
      yzp: src.t.q.zeroPoint,
      lo: -128,
      hi: 127,
      realOut,
      w,
      bias: () => 0,
      mult: () => ONE,
    });
  }

  /** The planar copy of an interleaved tensor: one 1x1 step per group reads group g. */
  private planarOf(t: DevTensor, layer: number): DevTensor {
    if (this.planarView(t)) return t;
    let p = this.planarCopy.get(t);
    if (p) return p;
    p = this.tensor(t.shape, t.q, true);
    const g = this.groups(t);
    const [c, h, w] = t.shape;
    const n = this.n;
    for (let k = 0; k < g; k++) {
      const view: View = { t, offset: k, h, w, cg: 1, rowStep: w * g, colStep: g };
      const real = Math.min(n, c - k * n);
      this.copy(layer, view, p, k * h * w, 1, h, w, [1, 1], (o, ci) => (o === ci && o < real ? 1 : 0), real);
    }
    this.planarCopy.set(t, p);
    return p;
  }

  /** The usual-layout copy of a planar tensor: a Gx1 kernel over the [N, G, H*W] view. */
  private groupedOf(t: DevTensor, layer: number): DevTensor {
    if (!t.planar) return t;
    let u = this.groupCopy.get(t);
    if (u) return u;
    u = this.tensor(t.shape, t.q);
    const g = this.groups(t);
    const [c, h, w] = t.shape;
    const n = this.n;
    const view: View = { t, offset: 0, h: g, w: h * w, cg: 1, rowStep: h * w, colStep: 1 };
    this.copy(layer, view, u, 0, g, 1, h * w, [g, 1], (o, j, ky) => (o === ky * n + j && o < c ? 1 : 0), c);
    this.groupCopy.set(t, u);
    return u;
  }

  /**
   * A conv-like step writing `dst`: one step, or one per output group when dst is planar
   * (each writes its plane; lanes are then that group's channels).
   */
  private conv(
    layer: number,
    src: View,
    dst: DevTensor,
    p: Omit<Step, 'op' | 'layer' | 'src' | 'dst' | 'dstOffset' | 'og' | 'realOut'> & { realOut: number },
  ): void {
    const n = this.n;
    const gOut = Math.ceil(p.realOut / n);
    if (!dst.planar) {
      this.push({ ...p, op: OP_CONV, layer, src, dst, dstOffset: 0, og: gOut });
      return;
    }
    const px = p.outH * p.outW;
    for (let k = 0; k < gOut; k++) {
      const o0 = k * n;
      this.push({
        ...p,
        op: OP_CONV,
        layer,
        src,
        dst,
        dstOffset: k * px,
        og: 1,
        realOut: Math.min(n, p.realOut - o0),
        w: (o, c, ky, kx) => p.w!(o0 + o, c, ky, kx),
        bias: (o) => p.bias!(o0 + o),
        mult: (o) => p.mult!(o0 + o),
      });
    }
  }

  run(): void {
    const { model } = this;
    const L = model.layers.length;
    const readers: number[][] = Array.from({ length: L + 1 }, () => []);
    model.layers.forEach((l, i) => l.inputs.forEach((t) => readers[t + 1].push(i)));
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
      // Planar output: a channelwise layer on several groups always writes planes; any
      // other layer that can writes them when a channelwise layer reads its output.
      const planar = channelwise(l)
        ? true
        : writesPlanes(l) && readers[i + 1].some((r) => channelwise(model.layers[r]));
      const out = this.tensor(shape3(l.output), l.outQ, planar);
      this.qt.push(out);
      this.lower(l, i, out);
      this.ranges.push([start, this.steps.length]);
    });
    this.qt[this.qt.length - 1].last = Infinity;
  }

  private lower(l: QLayer, i: number, out: DevTensor): void {
    const n = this.n;
    const ins = l.inputs.map((t) => this.qt[t - MODEL_INPUT]);
    const clamp = { xzp: l.inQ.zeroPoint, yzp: l.outQ.zeroPoint, lo: l.lo, hi: l.hi };
    const [oc, oh, ow] = out.shape;
    switch (l.kind) {
      case 'conv': {
        const [c, h, w] = shape3(l.input);
        const [kh, kw] = l.kernel;
        if (channelwise(l)) {
          // One step per channel group, on planes.
          const src = this.planarOf(ins[0], i);
          const g = this.groups(src);
          for (let k = 0; k < g; k++) {
            const o0 = k * n;
            const real = Math.min(n, c - o0);
            const view: View = { t: src, offset: k * h * w, h, w, cg: 1, rowStep: w, colStep: 1 };
            this.push({
              op: OP_CONV,
              layer: i,
              src: view,
              dst: out,
              dstOffset: k * oh * ow,
              og: 1,
              outH: oh,
              outW: ow,
              kernel: l.kernel,
              stride: l.stride,
              pads: [l.pads[0], l.pads[1]],
              ...clamp,
              realOut: real,
              w: (o, ci, ky, kx) => (o === ci && o < real ? l.weights[((o0 + o) * kh + ky) * kw + kx] : 0),
              bias: (o) => l.bias[o0 + o],
              mult: (o) => l.mult[o0 + o],
            });
          }
          return;
        }
        const cpg = c / l.group;
        const kpg = oc / l.group;
        const wt = (o: number, ci: number, ky: number, kx: number) => {
          if (o >= oc || ci >= c) return 0;
          const grp = Math.floor(o / kpg);
          const cc = ci - grp * cpg;
          return cc < 0 || cc >= cpg ? 0 : l.weights[((o * cpg + cc) * kh + ky) * kw + kx];
        };
        const common = {
          ...clamp,
          realOut: oc,
          bias: (o: number) => l.bias[o],
          mult: (o: number) => l.mult[o],
        };
        if (ins[0].planar && pointwise(l)) {
          const g = this.groups(ins[0]);
          const view: View = { t: ins[0], offset: 0, h: g, w: h * w, cg: 1, rowStep: h * w, colStep: 1 };
          this.conv(i, view, out, {
            ...common,
            outH: 1,
            outW: h * w,
            kernel: [g, 1],
            stride: [1, 1],
            pads: [0, 0],
            w: (o, j, ky) => wt(o, ky * n + j, 0, 0),
          });
          return;
        }
        this.conv(i, this.view(this.groupedOf(ins[0], i)), out, {
          ...common,
          outH: oh,
          outW: ow,
          kernel: l.kernel,
          stride: l.stride,
          pads: [l.pads[0], l.pads[1]],
          w: wt,
        });
        return;
      }
      case 'dense': {
        const src = this.groupedOf(ins[0], i);
        const [c, h, w] = src.shape;
        const m = c * h * w;
        this.conv(i, this.view(src), out, {
          ...clamp,
          realOut: oc,
          outH: 1,
          outW: 1,
          kernel: [h, w],
          stride: [1, 1],
          pads: [0, 0],
          w: (o, ci, ky, kx) => (o < oc && ci < c ? l.weights[o * m + (ci * h + ky) * w + kx] : 0),
          bias: (o) => l.bias[o],
          mult: (o) => l.mult[o],
        });
        return;
      }
      case 'maxpool': {
        const src = this.groupedOf(ins[0], i);
        const v = this.view(src);
        this.push({
          op: OP_MAXPOOL,
          layer: i,
          src: v,
          dst: out,
          dstOffset: 0,
          og: v.cg,
          outH: oh,
          outW: ow,
          kernel: l.kernel,
          stride: l.stride,
          pads: [l.pads[0], l.pads[1]],
          ...clamp,
        });
        return;
      }
      case 'avgpool': {
        const [c, h, w] = shape3(l.input);
        const mult = l.mult ?? encodeMultiplier(1 / (l.kernel[0] * l.kernel[1]));
        if (!l.excludePad) {
          const src = this.planarOf(ins[0], i);
          const g = this.groups(src);
          for (let k = 0; k < g; k++) {
            const real = Math.min(n, c - k * n);
            this.push({
              op: OP_CONV,
              layer: i,
              src: { t: src, offset: k * h * w, h, w, cg: 1, rowStep: w, colStep: 1 },
              dst: out,
              dstOffset: k * oh * ow,
              og: 1,
              outH: oh,
              outW: ow,
              kernel: l.kernel,
              stride: l.stride,
              pads: [l.pads[0], l.pads[1]],
              ...clamp,
              realOut: real,
              w: (o, ci) => (o === ci && o < real ? 1 : 0),
              bias: () => 0,
              mult: () => mult,
            });
          }
          return;
        }
        this.excludePadPool(l, i, this.groupedOf(ins[0], i), out);
        return;
      }
      case 'add': {
        // Elementwise, with the same weights and multiplier on every channel: the operands'
        // words are read as one-group pixels, so the add runs with CG = OG = 1 whatever
        // the layout (both planar: planar out; otherwise both in the usual layout).
        const planar = ins[0].planar && ins[1].planar;
        const [a, b] = planar ? ins : ins.map((t) => this.groupedOf(t, i));
        out.planar = planar;
        const [wa, wb] = l.weights;
        const lanes = Math.min(n, oc); // with several groups every lane of a word is a channel
        const view: View = { t: a, offset: 0, h: 2, w: a.words, cg: 1, rowStep: 0, rowTo: b, colStep: 1 };
        this.push({
          op: OP_CONV,
          layer: i,
          src: view,
          dst: out,
          dstOffset: 0,
          og: 1,
          outH: 1,
          outW: a.words,
          kernel: [2, 1],
          stride: [1, 1],
          pads: [0, 0],
          ...clamp,
          realOut: lanes,
          w: (o, c, ky) => (o === c && o < lanes ? (ky === 0 ? wa : wb) : 0),
          // folded: bias - a_zp (w_a + w_b) = -(a_zp w_a + b_zp w_b)
          bias: () => (l.inQ.zeroPoint - l.inQB.zeroPoint) * wb,
          mult: () => l.mult,
        });
        return;
      }
      case 'concat': {
        const srcs = ins.map((t) => this.groupedOf(t, i));
        const gMax = Math.max(...srcs.map((t) => this.groups(t)));
        const px = out.shape[1] * out.shape[2];
        let view: View;
        if (srcs.length === 2 && srcs.every((t) => this.groups(t) === gMax)) {
          view = { t: srcs[0], offset: 0, h: 2, w: px, cg: gMax, rowStep: 0, rowTo: srcs[1], colStep: gMax };
        } else {
          // Copies into one block, equally spaced rows of gMax groups, one per input.
          const block = this.tensor([gMax * n, srcs.length * out.shape[1], out.shape[2]], srcs[0].q);
          srcs.forEach((t, k) => {
            const real = t.shape[0];
            const diag = (o: number, ci: number) => (o === ci && o < real ? 1 : 0);
            this.copy(
              i,
              this.view(t),
              block,
              k * px * gMax,
              gMax,
              t.shape[1],
              t.shape[2],
              [1, 1],
              diag,
              real,
            );
          });
          view = { t: block, offset: 0, h: srcs.length, w: px, cg: gMax, rowStep: px * gMax, colStep: gMax };
        }
        const offsets: number[] = [];
        let acc = 0;
        for (const s of l.inputShapes) {
          offsets.push(acc);
          acc += s[0];
        }
        const which = (o: number) => {
          let k = offsets.length - 1;
          while (offsets[k] > o) k--;
          return k;
        };
        const zp0 = l.inQs[0].zeroPoint;
        this.conv(i, view, out, {
          ...clamp,
          xzp: zp0,
          realOut: oc,
          outH: 1,
          outW: px,
          kernel: [ins.length, 1],
          stride: [1, 1],
          pads: [0, 0],
          w: (o, ci, ky) => {
            if (o >= oc) return 0;
            const k = which(o);
            return ky === k && ci === o - offsets[k] ? 1 : 0;
          },
          // folded: bias - zp_0 = -zp_k for the channels of input k
          bias: (o) => zp0 - l.inQs[which(o)].zeroPoint,
          mult: (o) => l.mults[which(o)],
        });
        return;
      }
      case 'pad': {
        const src = this.groupedOf(ins[0], i);
        this.conv(i, this.view(src), out, {
          ...clamp,
          realOut: oc,
          outH: oh,
          outW: ow,
          kernel: [1, 1],
          stride: [1, 1],
          pads: [l.pads[0], l.pads[1]],
          w: (o, ci) => (o === ci && o < oc ? 1 : 0),
          bias: () => 0,
          mult: () => ONE,
        });
        return;
      }
    }
  }

  /**
   * Average pool without count_include_pad: along the rows into T = [C, OW, H] (written
   * transposed), then along T's rows into the output; each pass in bands of output rows
   * with one in-bounds count (one multiplier 1/count per descriptor).
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
    const diag = (o: number, ci: number) => (o === ci && o < c ? 1 : 0);
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
    // Pass 1: the descriptor's rows are the input's columns (row step g, column step
    // w*g), its output rows T's rows.
    for (const [r0, r1, cnt] of bands(ow, kw, sw, pl, w)) {
      const c0 = r0 * sw - pl; // first input column of the band's first window
      const skip = Math.max(0, c0);
      this.push({
        op: OP_CONV,
        layer: i,
        src: { t: src, offset: skip * g, h: w - skip, w: h, cg: g, rowStep: g, colStep: w * g },
        dst: t,
        dstOffset: r0 * h * g,
        og: g,
        outH: r1 - r0,
        outW: h,
        kernel: [kw, 1],
        stride: [sw, 1],
        pads: [Math.max(0, -c0), 0],
        xzp: zp,
        yzp: zp,
        lo: -128,
        hi: 127,
        realOut: c,
        w: diag,
        bias: () => 0,
        mult: () => encodeMultiplier(1 / cnt),
      });
    }
    // Pass 2: the descriptor's rows are T's columns (the input's rows: step g), its
    // columns T's rows (step h*g); its output rows are the output's rows.
    for (const [r0, r1, cnt] of bands(oh, kh, sh, pt, h)) {
      const y0 = r0 * sh - pt;
      const skip = Math.max(0, y0);
      this.push({
        op: OP_CONV,
        layer: i,
        src: { t, offset: skip * g, h: h - skip, w: ow, cg: g, rowStep: g, colStep: h * g },
        dst: out,
        dstOffset: r0 * ow * g,
        og: g,
        outH: r1 - r0,
        outW: ow,
        kernel: [kh, 1],
        stride: [sh, 1],
        pads: [Math.max(0, -y0), 0],
        xzp: zp,
        yzp: zp,
        lo: l.lo,
        hi: l.hi,
        realOut: c,
        w: diag,
        bias: () => 0,
        mult: () => encodeMultiplier(1 / cnt),
      });
    }
  }
}

/** Σ over the taps of output lane o's weights. */
function weightSum(s: Step, n: number, o: number): number {
  let sum = 0;
  for (let c = 0; c < s.src.cg * n; c++)
    for (let ky = 0; ky < s.kernel[0]; ky++)
      for (let kx = 0; kx < s.kernel[1]; kx++) sum += s.w!(o, c, ky, kx);
  return sum;
}

/**
 * Requantizer steps of a CONV descriptor: the fewest radix-4 digits (2..16) that hold, as
 * signed 2*Steps-bit numbers, every accumulator bias_folded + sum(w * x) it can produce
 * for int8 x (padding reads x_zp, an int8 too). The window shift S - 1 - 2*Steps must not
 * be negative: a multiplier that large (M >= 2^(2*Steps - 31)) with accumulators that
 * wide is refused.
 */
function requantSteps(s: Step, n: number, folded: Int32Array, name: string): number {
  let steps = 2;
  for (let o = 0; o < s.realOut!; o++) {
    let hi = folded[o];
    let lo = folded[o];
    for (let c = 0; c < s.src.cg * n; c++)
      for (let ky = 0; ky < s.kernel[0]; ky++)
        for (let kx = 0; kx < s.kernel[1]; kx++) {
          const v = s.w!(o, c, ky, kx);
          hi += v > 0 ? 127 * v : -128 * v;
          lo += v > 0 ? -128 * v : 127 * v;
        }
    let need = 2;
    while (need < 16 && (hi > 2 ** (2 * need - 1) - 1 || lo < -(2 ** (2 * need - 1)))) need++;
    steps = Math.max(steps, need);
  }
  for (let o = 0; o < s.realOut!; o++) {
    const { m0, s: sh } = s.mult!(o);
    check(
      m0 === 0 || sh - 1 >= 2 * steps,
      `layer '${name}': requantizer multiplier too large for its accumulator range ` +
        `(channel ${o}: S = ${sh} < ${2 * steps + 1}, accumulators need ${2 * steps} bits); ` +
        `use a coarser output scale`,
    );
  }
  return steps;
}

/** Parameter words and weight tiles of one CONV descriptor (ARCHITECTURE section 3). */
function convImage(s: Step, n: number, steps: number, folded: Int32Array, name: string): Int8Array {
  const [kh, kw] = s.kernel;
  const cgN = s.src.cg;
  const ogN = s.og;
  const ogWords = 12 + kh * kw * cgN * n; // params, then tiles
  const bytes = new Int8Array(ogN * ogWords * n);
  for (let og = 0; og < ogN; og++) {
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        for (let cg = 0; cg < cgN; cg++) {
          const tile = og * ogWords + 12 + ((ky * kw + kx) * cgN + cg) * n;
          for (let r = 0; r < n; r++) {
            for (let j = 0; j < n; j++) {
              const v = s.w!(og * n + j, cg * n + r, ky, kx);
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
  for (let o = 0; o < ogN * n; o++) {
    const base = Math.floor(o / n) * ogWords * n;
    const j = o % n;
    let m0 = 0;
    let sh = 0; // window shift (0 for unused lanes: M0 = 0 gives 0 whatever it is)
    if (o < s.realOut!) {
      const m = s.mult!(o);
      m0 = m.m0;
      sh = m0 === 0 ? 0 : Math.min(m.s - 1 - 2 * steps, 31);
    }
    params.setInt32(base + 4 * j, o < s.realOut! ? folded[o] : 0, true);
    params.setUint32(base + 4 * n + 4 * j, m0, true);
    params.setUint32(base + 8 * n + 4 * j, sh, true);
  }
  return bytes;
}

/**
 * The 16 descriptor words of one step (ARCHITECTURE section 4), given where its input
 * view, its output and its weights are.
 */
function encodeDescriptor(s: Step, n: number, accDepth: number, wBase: number, steps: number): Uint32Array {
  const d = new Uint32Array(DESC_WORDS);
  const v = s.src;
  const inBase = v.t.base + v.offset;
  const rowStep = v.rowTo ? v.rowTo.base - v.t.base : v.rowStep;
  const lo16 = (x: number) => ((x % 65536) + 65536) % 65536;
  const hw16 = (a: number, b: number) => (lo16(a) | (lo16(b) << 16)) >>> 0;
  const u8 = (x: number) => x & 0xff;
  const [pt, pl] = s.pads;
  d[0] = s.op;
  d[1] = inBase;
  d[2] = s.dst.base + s.dstOffset;
  d[3] = (v.h | (v.w << 16)) >>> 0;
  d[4] = (v.cg | (s.og << 16)) >>> 0;
  d[5] = (s.outH | (s.outW << 16)) >>> 0;
  d[6] = (s.kernel[0] | (s.kernel[1] << 8) | (s.stride[0] << 16) | (s.stride[1] << 24)) >>> 0;
  d[7] = pt | (pl << 8);
  if (s.op === OP_CONV) {
    d[8] = wBase;
    // requantizer Steps - 1, and its interval max(Steps, N) minus one (the controller
    // spaces the vectors it sends by that)
    d[9] = (steps - 1) | ((Math.max(steps, n) - 1) << 8);
    const npix = s.outH * s.outW;
    const nt = Math.ceil(npix / accDepth);
    d[14] = Math.ceil(npix / nt);
  }
  d[10] = (u8(s.xzp) | (u8(s.yzp) << 8) | (u8(s.lo) << 16) | (u8(s.hi) << 24)) >>> 0;
  // Layer constants the controller would otherwise multiply (AMEM arithmetic is modulo
  // the memory size, so 16-bit residues are enough): the row step (W·CG), sw·(column
  // step), sh·(row step), OH·OW, P(0, 0) = in_base − pt·(row step) − pl·(column step),
  // K = KH·KW·CG.
  d[11] = hw16(rowStep, s.stride[1] * v.colStep);
  d[12] = hw16(s.stride[0] * rowStep, s.outH * s.outW);
  d[13] = hw16(inBase - pt * rowStep - pl * v.colStep, s.kernel[0] * s.kernel[1] * v.cg);
  return d;
}

/** Descriptor field limits (ARCHITECTURE section 4) of one step. */
function checkFields(s: Step, name: string): void {
  const v = s.src;
  check(
    v.h < 65536 && v.w < 65536 && s.outH * s.outW < 65536,
    `layer '${name}': tensor too large for the descriptor fields`,
  );
  check(
    s.kernel[0] <= 255 && s.kernel[1] <= 255,
    `layer '${name}': kernel ${s.kernel.join('x')} exceeds 255`,
  );
  check(
    s.stride[0] >= 1 && s.stride[0] <= 255 && s.stride[1] >= 1 && s.stride[1] <= 255,
    `layer '${name}': stride out of range`,
  );
  check(s.pads[0] <= 255 && s.pads[1] <= 255, `layer '${name}': padding exceeds 255`);
  // A kernel wider than one column steps CG words per tap: the view must be laid out so.
  check(s.kernel[1] === 1 || v.colStep === v.cg, `layer '${name}': internal: column step of a wide kernel`);
}

/**
 * Liveness allocation, greedy by size (as TFLite's arena planner): the largest tensors
 * first, each at the lowest address free of every placed tensor whose life overlaps its
 * own. Returns the extent.
 */
function allocate(tensors: DevTensor[], distinct: boolean): number {
  const order = [...tensors].sort((a, b) => b.words - a.words || a.first - b.first);
  const placed: DevTensor[] = [];
  let extent = 0;
  for (const t of order) {
    const busy = placed
      .filter((p) => distinct || (p.first <= t.last && t.first <= p.last))
      .sort((a, b) => a.base - b.base);
    let base = 0;
    for (const p of busy) {
      if (base + t.words <= p.base) break;
      base = Math.max(base, p.base + p.words);
    }
    t.base = base;
    placed.push(t);
    extent = Math.max(extent, base + t.words);
  }
  return extent;
}

interface Planned {
  low: Lowering;
  /** Per step: its weight image (CONV), requantizer steps, folded biases. */
  images: { bytes: Int8Array | null; steps: number }[];
  amemExtent: number;
  needs: MemoryNeeds;
}

function planModel(model: QModel, config: DeviceConfig, options: CompileOptions): Planned {
  const n = config.dim;
  if (model.layers.length === 0) throw new UnsupportedOpError('the model has no layers');
  const low = new Lowering(model, n);
  low.run();
  const name = (s: Step) => model.layers[s.layer].name;
  for (const s of low.steps) checkFields(s, name(s));
  const amemExtent = allocate(
    low.tensors.filter((t) => t.first <= t.last),
    options.allocation === 'distinct',
  );
  const images = low.steps.map((s) => {
    if (s.op !== OP_CONV) return { bytes: null, steps: 0 };
    const folded = new Int32Array(s.realOut!);
    for (let o = 0; o < s.realOut!; o++) folded[o] = (s.bias!(o) - s.xzp * weightSum(s, n, o)) | 0;
    const steps = requantSteps(s, n, folded, name(s));
    return { bytes: convImage(s, n, steps, folded, name(s)), steps };
  });
  // AMEM at a step: the extent of the tensors alive then.
  const live = (i: number) =>
    Math.max(0, ...low.tensors.filter((t) => t.first <= i && i <= t.last).map((t) => t.base + t.words));
  const layers = model.layers.map((l, k) => {
    const [a, b] = low.ranges[k];
    let amem = 0;
    let wmem = 0;
    for (let i = a; i < b; i++) {
      amem = Math.max(amem, live(i));
      wmem += images[i].bytes?.length ?? 0;
    }
    return { name: l.name, amem: amem * n, wmem, descriptors: b - a };
  });
  const wTotal = images.reduce((s, im) => s + (im.bytes?.length ?? 0), 0);
  const perRun = Math.min(config.maxLayers, Math.floor(config.dmemWords / DESC_WORDS));
  const descs = low.steps.length;
  const dmem = Math.min(descs + 1, perRun) * DESC_WORDS * 4;
  return {
    low,
    images,
    amemExtent,
    needs: { layers, peak: { amem: amemExtent * n, wmem: wTotal, dmem } },
  };
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
  const p = planModel(model, config, {});
  const available = {
    amem: config.amemWords * 4,
    wmem: config.wmemWords * 4,
    dmem: config.dmemWords * 4,
  };
  let fitReason: string | null = null;
  try {
    checkCapacity(model, config, p);
  } catch (err) {
    if (!(err instanceof ModelTooLargeError)) throw err;
    fitReason = err.message;
  }
  return { ...p.needs, fits: fitReason === null, fitReason, available };
}

/** One line naming the layer, the memory, what it needs and what the configuration has. */
function checkCapacity(model: QModel, config: DeviceConfig, p: Planned): void {
  const n = config.dim;
  const { low, images } = p;
  const amemMem = config.amemWords / (n / 4);
  if (p.amemExtent > amemMem) {
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
      `layer '${l.name}' (${l.kind}): AMEM needs ${fmt(p.needs.layers[Math.max(0, k)].amem)} bytes for the activations alive while it runs, the configuration has ${fmt(amemMem * n)}`,
    );
  }
  const wmemMem = (config.wmemWords / (n / 4)) * n;
  let w = 0;
  for (let i = 0; i < images.length; i++) {
    w += images[i].bytes?.length ?? 0;
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
  const p = planModel(model, config, options);
  checkCapacity(model, config, p);
  const { low, images } = p;

  // ---- WMEM
  const wBase: number[] = [];
  let wWords = 0;
  for (const im of images) {
    wBase.push(wWords);
    wWords += (im.bytes?.length ?? 0) / n;
  }
  const wBytes = new Int8Array(wWords * n);
  images.forEach((im, i) => {
    if (im.bytes) wBytes.set(im.bytes, wBase[i] * n);
  });

  // ---- DMEM: every descriptor, then the program in segments of what one RUN executes
  const descriptors = new Uint32Array(low.steps.length * DESC_WORDS);
  low.steps.forEach((s, i) =>
    descriptors.set(encodeDescriptor(s, n, config.accDepth, wBase[i], images[i].steps), i * DESC_WORDS),
  );
  const segments = programRuns({ config, descriptors, ranges: [[0, low.steps.length]] }).map((r) => r.dmem);

  const place = (t: DevTensor, shape: number[]): TensorPlacement => ({
    addr: t.base * sub,
    words: t.words * sub,
    shape,
    ...(t.planar ? { planar: true } : {}),
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
    input: place(
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
