// The compiler: QModel → DeviceImage (docs/ARCHITECTURE.md sections 1, 3, 4).
//
// - Dense layers become convolutions: dense over an input [C,H,W] is an HxW conv over C
//   channels giving [Nout,1,1]; its [Nout][C*H*W] weights are exactly OIHW [Nout][C][H][W]
//   (CHW flattening), so they go through the same tile packing as conv weights. Dense
//   over a vector [M] is a 1x1 conv over [M,1,1]. When the first layer is dense, the
//   host-written input is laid out as the vector [M] instead of [C,H,W] (same CHW-flat
//   data, all N lanes busy even when C < N).
// - Zero points fold into the bias: bias_folded = bias − x_zp·Σw (int32, wrapping);
//   padding reads as x_zp, so the fold is exact at the borders too.
// - WMEM: per conv layer, per og: 12 parameter words (bias_folded[N], M0[N], s[N] as
//   little-endian int32, s the window shift below), then its tiles for ky, kx, cg (N
//   words each, word r byte j = W[og·N+j][cg·N+r][ky][kx]); the controller reads it all
//   with one pointer.
// - AMEM: every tensor in its own region when that fits ('auto', so every layer's
//   output stays readable), otherwise ping-pong between two regions.
// - Average pooling becomes a convolution too: weight 1 from channel c to channel c
//   (0 elsewhere), bias 0, the pool's multiplier. The bias fold gives −kh·kw·x_zp and
//   padding reads x_zp, so acc = Σ (x_q − x_zp) over the window exactly as the pool
//   defines it (count_include_pad). The hardware has no averaging unit (area).
// - The requantizer runs Steps radix-4 Booth digits of the accumulator (word 9): the
//   fewest that hold every accumulator the layer can produce, bounded from its weights,
//   folded bias and the int8 input range (requantSteps); its S words hold the window
//   shift S - 1 - 2*Steps (at most 31, which already gives the result of any larger one).
// - Descriptor word 14 (T) is still written (T = ceil(P / ceil(P / AccDepth))) but the
//   controller no longer uses it (sliding window of N pixels, ARCHITECTURE section 1).

import { ModelTooLargeError, UnsupportedOpError } from '../errors.ts';
import { encodeMultiplier } from '../quant/requant.ts';
import type { Multiplier, QConv, QLayer, QModel, QPool } from '../quant/types.ts';
import { shape3, tensorMemWords } from './layout.ts';
import type { CompiledLayer, DeviceConfig, DeviceImage, TensorPlacement } from './types.ts';

export const OP_END = 0;
export const OP_CONV = 1;
export const OP_MAXPOOL = 2;
/** Reserved: average pooling is compiled to OP_CONV. */
export const OP_AVGPOOL = 3;
export const DESC_WORDS = 16;

export interface CompileOptions {
  /** 'auto' (default): distinct regions if they fit, else ping-pong. */
  allocation?: 'auto' | 'distinct' | 'pingpong';
}

/** A layer as the hardware runs it. */
interface HwLayer {
  op: number;
  src: QLayer;
  inShape: [number, number, number];
  outShape: [number, number, number];
  kernel: [number, number];
  stride: [number, number];
  pads: [number, number, number, number];
  /** conv only: OIHW weights over inShape's channels. */
  weights?: Int8Array;
  /** conv from an average pool: per-channel bias and multipliers (else the source's). */
  bias?: ArrayLike<number>;
  mults?: Multiplier[];
  macs: number;
}

const fmt = (n: number) => n.toLocaleString('en-US');

function lower(model: QModel): HwLayer[] {
  return model.layers.map((l, i): HwLayer => {
    const out = shape3(l.output);
    if (l.kind === 'conv') {
      const inS = shape3(l.input);
      return {
        op: OP_CONV,
        src: l,
        inShape: inS,
        outShape: out,
        kernel: l.kernel,
        stride: l.stride,
        pads: l.pads,
        weights: l.weights,
        macs: out[0] * out[1] * out[2] * inS[0] * l.kernel[0] * l.kernel[1],
      };
    }
    if (l.kind === 'dense') {
      const m = l.input.reduce((a, b) => a * b, 1);
      // First layer on a 3-D input: the host writes it as the vector [M].
      const inS: [number, number, number] = i === 0 || l.input.length === 1 ? [m, 1, 1] : shape3(l.input);
      const n = out[0] * out[1] * out[2];
      return {
        op: OP_CONV,
        src: l,
        inShape: inS,
        outShape: [n, 1, 1],
        kernel: [inS[1], inS[2]],
        stride: [1, 1],
        pads: [0, 0, 0, 0],
        weights: l.weights,
        macs: n * m,
      };
    }
    if (l.kind === 'avgpool') {
      const p = l as QPool;
      const inS = shape3(l.input);
      const [c] = inS;
      const [kh, kw] = p.kernel;
      const weights = new Int8Array(c * c * kh * kw);
      for (let o = 0; o < c; o++) weights.fill(1, (o * c + o) * kh * kw, (o * c + o + 1) * kh * kw);
      const mult = p.mult ?? encodeMultiplier(1 / (kh * kw));
      return {
        op: OP_CONV,
        src: l,
        inShape: inS,
        outShape: out,
        kernel: p.kernel,
        stride: p.stride,
        pads: p.pads,
        weights,
        bias: new Int32Array(c),
        mults: Array.from({ length: c }, () => mult),
        macs: 0,
      };
    }
    if (l.kind === 'maxpool') {
      const p = l as QPool;
      return {
        op: OP_MAXPOOL,
        src: l,
        inShape: shape3(l.input),
        outShape: out,
        kernel: p.kernel,
        stride: p.stride,
        pads: p.pads,
        macs: 0,
      };
    }
    throw new UnsupportedOpError(
      `layer '${(l as QLayer).name}': kind ${(l as QLayer).kind} has no hardware mapping`,
    );
  });
}

function check(cond: boolean, msg: string): void {
  if (!cond) throw new UnsupportedOpError(msg);
}

/** Multiplier of output channel o of a hardware conv layer. */
function multOf(hw: HwLayer, o: number): Multiplier {
  return (hw.mults ?? (hw.src as QConv).mult)[o];
}

/**
 * Requantizer steps of a hardware conv layer: the fewest radix-4 digits (2..16) that
 * hold, as signed 2*Steps-bit numbers, every accumulator bias + sum(w * (x - x_zp)) the
 * layer can produce for int8 inputs x (the hardware's int32 sums equal it: the bias fold
 * is exact). The window shift S - 1 - 2*Steps must not be negative: a multiplier that
 * large (M >= 2^(2*Steps - 31)) with accumulators that wide is refused.
 */
function requantSteps(hw: HwLayer): number {
  const l = hw.src as QConv;
  const w = hw.weights!;
  const oc = hw.outShape[0];
  const kk = w.length / oc;
  const xzp = l.inQ.zeroPoint;
  const bias = hw.bias ?? l.bias;
  let steps = 2;
  for (let o = 0; o < oc; o++) {
    let hi = bias[o];
    let lo = bias[o];
    for (let k = 0; k < kk; k++) {
      const v = w[o * kk + k];
      // x - x_zp spans [-128 - x_zp, 127 - x_zp]
      hi += v > 0 ? v * (127 - xzp) : v * (-128 - xzp);
      lo += v > 0 ? v * (-128 - xzp) : v * (127 - xzp);
    }
    let need = 2;
    while (need < 16 && (hi > 2 ** (2 * need - 1) - 1 || lo < -(2 ** (2 * need - 1)))) need++;
    steps = Math.max(steps, need);
  }
  for (let o = 0; o < oc; o++) {
    const { m0, s } = multOf(hw, o);
    check(
      m0 === 0 || s - 1 >= 2 * steps,
      `layer '${l.name}': requantizer multiplier too large for its accumulator range ` +
        `(channel ${o}: S = ${s} < ${2 * steps + 1}, accumulators need ${2 * steps} bits); ` +
        `use a coarser output scale`,
    );
  }
  return steps;
}

/** Conv weight tiles + params for one hardware conv layer, in memory-word bytes. */
function convImage(hw: HwLayer, dim: number, steps: number): Int8Array {
  const l = hw.src as QConv; // conv or dense: same fields used
  const [ic] = hw.inShape;
  const oc = hw.outShape[0];
  const [kh, kw] = hw.kernel;
  const cgN = Math.ceil(ic / dim);
  const ogN = Math.ceil(oc / dim);
  const ogWords = 12 + kh * kw * cgN * dim; // params, then tiles
  const bytes = new Int8Array(ogN * ogWords * dim);
  const w = hw.weights!;
  // The array's column sums are sized for |w| <= 127 (SPEC section 3: weights in
  // [-127, 127]); a -128 could overflow them.
  check(!w.includes(-128), `layer '${l.name}': weight -128 (weights must be in [-127, 127])`);
  for (let og = 0; og < ogN; og++) {
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        for (let cg = 0; cg < cgN; cg++) {
          const tile = og * ogWords + 12 + ((ky * kw + kx) * cgN + cg) * dim;
          for (let r = 0; r < dim; r++) {
            const c = cg * dim + r;
            if (c >= ic) continue;
            for (let j = 0; j < dim; j++) {
              const o = og * dim + j;
              if (o >= oc) continue;
              bytes[(tile + r) * dim + j] = w[((o * ic + c) * kh + ky) * kw + kx];
            }
          }
        }
      }
    }
  }
  const params = new DataView(bytes.buffer);
  const xzp = l.inQ.zeroPoint;
  const kk = ic * kh * kw;
  for (let o = 0; o < ogN * dim; o++) {
    const og = Math.floor(o / dim);
    const j = o % dim;
    const base = og * ogWords * dim;
    let bias = 0;
    let m0 = 0;
    let s = 0; // window shift (0 for unused lanes: M0 = 0 gives 0 whatever it is)
    if (o < oc) {
      let sw = 0;
      for (let k = 0; k < kk; k++) sw += w[o * kk + k];
      bias = ((hw.bias ?? l.bias)[o] - xzp * sw) | 0;
      m0 = multOf(hw, o).m0;
      s = m0 === 0 ? 0 : Math.min(multOf(hw, o).s - 1 - 2 * steps, 31);
    }
    params.setInt32(base + 4 * j, bias, true);
    params.setUint32(base + 4 * dim + 4 * j, m0, true);
    params.setUint32(base + 8 * dim + 4 * j, s, true);
  }
  return bytes;
}

/** Compiles a QModel for a device configuration. */
export function compile(model: QModel, config: DeviceConfig, options: CompileOptions = {}): DeviceImage {
  const dim = config.dim;
  const sub = dim / 4;
  const hw = lower(model);
  if (hw.length === 0) throw new UnsupportedOpError('the model has no layers');
  if (hw.length > config.maxLayers || DESC_WORDS * hw.length > config.dmemWords) {
    const most = Math.min(config.maxLayers, Math.floor(config.dmemWords / DESC_WORDS));
    throw new ModelTooLargeError(`model has ${hw.length} layers, the device runs at most ${most}`);
  }
  for (const h of hw) {
    const name = h.src.name;
    check(
      h.inShape[1] < 65536 && h.inShape[2] < 65536 && h.inShape[0] < 65536 * dim,
      `layer '${name}': input too large for the descriptor fields`,
    );
    check(
      h.kernel[0] <= 255 && h.kernel[1] <= 255,
      `layer '${name}': kernel ${h.kernel.join('x')} exceeds 255`,
    );
    check(
      h.stride[0] >= 1 && h.stride[0] <= 255 && h.stride[1] >= 1 && h.stride[1] <= 255,
      `layer '${name}': stride out of range`,
    );
    check(h.pads[0] <= 255 && h.pads[1] <= 255, `layer '${name}': padding exceeds 255`);
    if (h.op !== OP_CONV || h.src.kind === 'avgpool')
      check(h.inShape[0] === h.outShape[0], `layer '${name}': pooling must keep the channel count`);
  }

  // ---- WMEM
  const wChunks: { layer: number; bytes: Int8Array; wBase: number; steps: number }[] = [];
  let wWords = 0; // memory words
  hw.forEach((h, i) => {
    if (h.op !== OP_CONV) return;
    const steps = requantSteps(h);
    const bytes = convImage(h, dim, steps);
    const words = bytes.length / dim;
    wChunks.push({ layer: i, bytes, wBase: wWords, steps });
    wWords += words;
  });
  const wmemMem = config.wmemWords / sub;
  if (wWords > wmemMem) {
    throw new ModelTooLargeError(
      `model needs ${fmt(wWords * dim)} WMEM bytes, device has ${fmt(wmemMem * dim)}`,
    );
  }
  const wBytes = new Int8Array(wWords * dim);
  for (const c of wChunks) wBytes.set(c.bytes, c.wBase * dim);
  const wmem = new Uint32Array(wBytes.buffer);

  // ---- AMEM: tensor t = 0 (input), t = i+1 (output of layer i)
  const tShapes: [number, number, number][] = [hw[0].inShape, ...hw.map((h) => h.outShape)];
  const tWords = tShapes.map((s) => tensorMemWords(s, dim));
  const amemMem = config.amemWords / sub;
  const distinctTotal = tWords.reduce((a, b) => a + b, 0);
  const ping = [0, 1].map((par) => Math.max(0, ...tWords.filter((_, t) => t % 2 === par)));
  const pingTotal = ping[0] + ping[1];
  const alloc = options.allocation ?? 'auto';
  let tBase: number[];
  let used: number;
  if (alloc === 'distinct' || (alloc === 'auto' && distinctTotal <= amemMem)) {
    if (distinctTotal > amemMem) {
      throw new ModelTooLargeError(
        `model needs ${fmt(distinctTotal * dim)} AMEM bytes with every tensor kept, device has ${fmt(amemMem * dim)}`,
      );
    }
    tBase = [];
    let a = 0;
    for (const w of tWords) {
      tBase.push(a);
      a += w;
    }
    used = distinctTotal;
  } else {
    if (pingTotal > amemMem) {
      throw new ModelTooLargeError(
        `model needs ${fmt(pingTotal * dim)} AMEM bytes, device has ${fmt(amemMem * dim)}`,
      );
    }
    tBase = tWords.map((_, t) => (t % 2 === 0 ? 0 : ping[0]));
    used = pingTotal;
  }

  // ---- DMEM
  const nDesc = Math.min(hw.length + 1, Math.floor(config.dmemWords / DESC_WORDS));
  const dmem = new Uint32Array(nDesc * DESC_WORDS); // trailing descriptor: op 0 END
  const layers: CompiledLayer[] = [];
  hw.forEach((h, i) => {
    const d = dmem.subarray(i * DESC_WORDS, (i + 1) * DESC_WORDS);
    const [ic, ih, iw] = h.inShape;
    const [oc, oh, ow] = h.outShape;
    const cgN = Math.ceil(ic / dim);
    const ogN = Math.ceil(oc / dim);
    const l = h.src;
    const u8 = (v: number) => v & 0xff;
    d[0] = h.op;
    d[1] = tBase[i];
    d[2] = tBase[i + 1];
    d[3] = (ih | (iw << 16)) >>> 0;
    d[4] = (cgN | (ogN << 16)) >>> 0;
    d[5] = (oh | (ow << 16)) >>> 0;
    d[6] = (h.kernel[0] | (h.kernel[1] << 8) | (h.stride[0] << 16) | (h.stride[1] << 24)) >>> 0;
    d[7] = h.pads[0] | (h.pads[1] << 8);
    if (h.op === OP_CONV) {
      const c = wChunks.find((w) => w.layer === i)!;
      d[8] = c.wBase;
      // requantizer Steps - 1, and its interval max(Steps, N) minus one (the controller
      // spaces the vectors it sends by that)
      d[9] = (c.steps - 1) | ((Math.max(c.steps, dim) - 1) << 8);
      const npix = oh * ow;
      const nt = Math.ceil(npix / config.accDepth);
      d[14] = Math.ceil(npix / nt);
    }
    d[10] = (u8(l.inQ.zeroPoint) | (u8(l.outQ.zeroPoint) << 8) | (u8(l.lo) << 16) | (u8(l.hi) << 24)) >>> 0;
    // Layer constants the controller would otherwise multiply (AMEM arithmetic is modulo
    // the memory size, so 16-bit residues are enough): W*CG, sw*CG, sh*W*CG, OH*OW,
    // P(0, 0) = in_base - (pt*W + pl)*CG, K = KH*KW*CG.
    const lo16 = (v: number) => ((v % 65536) + 65536) % 65536;
    const hw16 = (a: number, b: number) => (lo16(a) | (lo16(b) << 16)) >>> 0;
    d[11] = hw16(iw * cgN, h.stride[1] * cgN);
    d[12] = hw16(h.stride[0] * iw * cgN, oh * ow);
    d[13] = hw16(tBase[i] - (h.pads[0] * iw + h.pads[1]) * cgN, h.kernel[0] * h.kernel[1] * cgN);
    const out: TensorPlacement = {
      addr: tBase[i + 1] * sub,
      words: tWords[i + 1] * sub,
      shape: [...l.output],
    };
    layers.push({ name: l.name, kind: l.kind, output: out, macs: h.macs });
  });

  const inShape = model.layers[0].kind === 'dense' ? [hw[0].inShape[0]] : [...model.layers[0].input];
  return {
    config,
    dmem,
    wmem,
    amemWordsUsed: used * sub,
    input: { addr: tBase[0] * sub, words: tWords[0] * sub, shape: inShape },
    output: layers[layers.length - 1].output,
    layers,
  };
}
