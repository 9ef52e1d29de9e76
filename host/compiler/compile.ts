// The compiler: QModel → DeviceImage (docs/ARCHITECTURE.md sections 1, 3, 4).
//
// - Every layer becomes a convolution (program.ts encodes the descriptors). Dense layers:
//   dense over an input [C,H,W] is an HxW conv over C channels giving [Nout,1,1]; its
//   [Nout][C*H*W] weights are exactly OIHW [Nout][C][H][W] (CHW flattening), so they go
//   through the same tile packing as conv weights. Dense over a vector [M] is a 1x1 conv
//   over [M,1,1]. When the first layer is dense, the host-written input is laid out as
//   the vector [M] instead of [C,H,W] (same CHW-flat data, all N lanes busy even when
//   C < N).
// - Pooling is a grouped convolution (output group og reads input group og only, with
//   the diagonal weight tiles of a depthwise layer): average pooling with weight 1 on
//   every tap, bias 0 (folded to −kh·kw·x_zp, padding reads x_zp, so acc = Σ (x_q − x_zp)
//   exactly as the pool defines it, count_include_pad) and the pool's multiplier; max
//   pooling with weight 1 on every tap in OP_MAXPOOL, whose accumulators take the
//   maximum, padding reading −128, bias −128 and M = 1 (M0 = 2^30, S = 30).
// - Zero points fold into the bias: bias_folded = bias − x_zp·Σw (int32, wrapping);
//   padding reads as x_zp, so the fold is exact at the borders too.
// - WMEM: per layer, per og: 8 parameter words (bias_folded[N], then m | s << 16 as
//   little-endian int32, m = M0 / 2^15 and s the window shift below), then its tiles for
//   ky, kx, cg (N words each, word r byte j = W[og·N+j][cg·N+r][ky][kx]); the controller
//   reads it all with one pointer.
// - AMEM: every tensor in its own region when that fits ('auto', so every layer's
//   output stays readable), otherwise ping-pong between two regions.
// - The requantizer (16-bit M0, ARCHITECTURE section 2) runs Steps radix-4 Booth digits
//   of the accumulator (word 9): the fewest that hold every accumulator the layer can
//   produce, bounded from its weights, folded bias and the int8 input range, unless a
//   channel's shift S - 16 leaves fewer bits; then a lane whose accumulator is wider
//   saturates, which is exact when its window shift S - 16 - 2*Steps is at most 5
//   (requantSteps).

import { ModelTooLargeError, UnsupportedOpError } from '../errors.ts';
import { DEVICE_M0_BITS, encodeMultiplier } from '../quant/requant.ts';
import type { Multiplier, QConv, QLayer, QModel, QPool } from '../quant/types.ts';
import { shape3, tensorMemWords } from './layout.ts';
import {
  DESC_WORDS,
  EXTENT_MAX,
  OP_CONV,
  OP_MAXPOOL,
  PARAM_WORDS,
  checkProgram,
  encodeDescriptor,
  type LayerFields,
} from './program.ts';
import type { CompiledLayer, DeviceConfig, DeviceImage, TensorPlacement } from './types.ts';

export { DESC_WORDS, OP_CONV, OP_END, OP_MAXPOOL } from './program.ts';

export interface CompileOptions {
  /** 'auto' (default): distinct regions if they fit, else ping-pong. */
  allocation?: 'auto' | 'distinct' | 'pingpong';
}

/** A layer as the hardware runs it. */
interface HwLayer {
  op: typeof OP_CONV | typeof OP_MAXPOOL;
  /** Output group og reads input group og only: weights are [OC][1][KH][KW]. */
  grouped: boolean;
  src: QLayer;
  inShape: [number, number, number];
  outShape: [number, number, number];
  kernel: [number, number];
  stride: [number, number];
  pads: [number, number, number, number];
  /** OIHW weights over inShape's channels, or [OC][1][KH][KW] when grouped. */
  weights: Int8Array;
  /** Per-channel bias and multipliers when they are not the source's (pools). */
  bias?: ArrayLike<number>;
  mults?: Multiplier[];
  padValue: number;
  yZp: number;
  macs: number;
}

/** M = 1 (M0 = 2^30, S = 30): max pooling's requantization, r = x. */
const UNIT_MULT: Multiplier = { m0: 2 ** 30, s: 30 };

const fmt = (n: number) => n.toLocaleString('en-US');

function lower(model: QModel): HwLayer[] {
  return model.layers.map((l, i): HwLayer => {
    const out = shape3(l.output);
    const zps = { padValue: l.inQ.zeroPoint, yZp: l.outQ.zeroPoint };
    if (l.kind === 'conv') {
      const inS = shape3(l.input);
      return {
        op: OP_CONV,
        grouped: false,
        src: l,
        inShape: inS,
        outShape: out,
        kernel: l.kernel,
        stride: l.stride,
        pads: l.pads,
        weights: l.weights,
        ...zps,
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
        grouped: false,
        src: l,
        inShape: inS,
        outShape: [n, 1, 1],
        kernel: [inS[1], inS[2]],
        stride: [1, 1],
        pads: [0, 0, 0, 0],
        weights: l.weights,
        ...zps,
        macs: n * m,
      };
    }
    if (l.kind === 'avgpool' || l.kind === 'maxpool') {
      const p = l as QPool;
      const inS = shape3(l.input);
      const [c] = inS;
      const [kh, kw] = p.kernel;
      const isMax = l.kind === 'maxpool';
      const mult = isMax ? UNIT_MULT : (p.mult ?? encodeMultiplier(1 / (kh * kw), DEVICE_M0_BITS));
      return {
        op: isMax ? OP_MAXPOOL : OP_CONV,
        grouped: true,
        src: l,
        inShape: inS,
        outShape: out,
        kernel: p.kernel,
        stride: p.stride,
        pads: p.pads,
        weights: new Int8Array(c * kh * kw).fill(1),
        bias: new Int32Array(c).fill(isMax ? -128 : 0),
        mults: Array.from({ length: c }, () => mult),
        padValue: isMax ? -128 : l.inQ.zeroPoint,
        yZp: isMax ? 0 : l.outQ.zeroPoint,
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

/** Multiplier of output channel o of a hardware layer. */
function multOf(hw: HwLayer, o: number): Multiplier {
  return (hw.mults ?? (hw.src as QConv).mult)[o];
}

/** Bias of output channel o (not folded). */
function biasOf(hw: HwLayer, o: number): number {
  return (hw.bias ?? (hw.src as QConv).bias)[o];
}

/** The requantizer's setting of a layer: Steps, and each channel's window shift. */
interface RequantPlan {
  steps: number;
  shifts: number[];
}

/**
 * Requantizer steps of a hardware layer (ARCHITECTURE section 2). A channel o needs
 * need_o radix-4 digits: the fewest (>= 2) that hold, as signed 2*need_o-bit numbers,
 * every accumulator bias + sum(w * (x - x_zp)) it can produce for int8 inputs x (the
 * hardware's int32 sums equal it: the bias fold is exact; a max pool's are int8 values:
 * 4). Its window shift s_o = S_o - 16 - 2*Steps must not be negative, so Steps is at most
 * floor((S_o - 16) / 2) for every channel with M0 != 0. Steps = the largest need_o within
 * that; a channel whose accumulators may then be wider than 2*Steps bits saturates, which
 * is its exact result when s_o <= 5 (|acc * M| >= 512); otherwise the layer is refused.
 */
function requantPlan(hw: HwLayer): RequantPlan {
  const l = hw.src;
  const w = hw.weights;
  const oc = hw.outShape[0];
  const kk = w.length / oc;
  const xzp = l.inQ.zeroPoint;
  const need: number[] = [];
  for (let o = 0; o < oc; o++) {
    if (hw.op === OP_MAXPOOL) {
      need.push(4);
      continue;
    }
    let hi = biasOf(hw, o);
    let lo = hi;
    for (let k = 0; k < kk; k++) {
      const v = w[o * kk + k];
      // x - x_zp spans [-128 - x_zp, 127 - x_zp]
      hi += v > 0 ? v * (127 - xzp) : v * (-128 - xzp);
      lo += v > 0 ? v * (-128 - xzp) : v * (127 - xzp);
    }
    let n = 2;
    while (n < 16 && (hi > 2 ** (2 * n - 1) - 1 || lo < -(2 ** (2 * n - 1)))) n++;
    need.push(n);
  }
  let steps = Math.max(...need);
  for (let o = 0; o < oc; o++) {
    const { m0, s } = multOf(hw, o);
    if (m0 === 0) continue;
    check(
      s >= 18,
      `layer '${l.name}': requantizer multiplier too large (channel ${o}: M0·2^-${s} >= 2^${30 - s + 1}; ` +
        `the device needs S >= 18); use a coarser output scale`,
    );
    steps = Math.min(steps, Math.floor((s - 16) / 2));
  }
  const shifts = need.map((n, o) => {
    const { m0, s } = multOf(hw, o);
    if (m0 === 0) return 15;
    const shift = s - 16 - 2 * steps;
    check(
      n <= steps || shift <= 5,
      `layer '${l.name}': requantizer: channel ${o} needs ${2 * n}-bit accumulators but its ` +
        `multiplier (S = ${s}) leaves ${2 * steps} bits to the layer; re-quantize with a coarser output scale`,
    );
    return Math.min(shift, 15);
  });
  return { steps, shifts };
}

/** Weight tiles + parameters of one hardware layer, in memory-word bytes. */
function layerImage(hw: HwLayer, dim: number, plan: RequantPlan): Int8Array {
  const l = hw.src;
  const [ic] = hw.inShape;
  const oc = hw.outShape[0];
  const [kh, kw] = hw.kernel;
  const cgN = hw.grouped ? 1 : Math.ceil(ic / dim);
  const ogN = Math.ceil(oc / dim);
  const ogLen = PARAM_WORDS + kh * kw * cgN * dim; // params, then tiles
  const bytes = new Int8Array(ogN * ogLen * dim);
  const w = hw.weights;
  // The array's column sums are sized for |w| <= 127 (SPEC section 3: weights in
  // [-127, 127]); a -128 could overflow them.
  check(!w.includes(-128), `layer '${l.name}': weight -128 (weights must be in [-127, 127])`);
  const kk = w.length / oc; // weights per output channel
  for (let og = 0; og < ogN; og++) {
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        for (let cg = 0; cg < cgN; cg++) {
          const tile = og * ogLen + PARAM_WORDS + ((ky * kw + kx) * cgN + cg) * dim;
          for (let r = 0; r < dim; r++) {
            for (let j = 0; j < dim; j++) {
              const o = og * dim + j;
              if (o >= oc) continue;
              if (hw.grouped) {
                // diagonal: channel o reads only its own input channel
                if (r === j) bytes[(tile + r) * dim + j] = w[(o * kh + ky) * kw + kx];
              } else {
                const c = cg * dim + r;
                if (c < ic) bytes[(tile + r) * dim + j] = w[((o * ic + c) * kh + ky) * kw + kx];
              }
            }
          }
        }
      }
    }
  }
  const params = new DataView(bytes.buffer);
  const xzp = hw.op === OP_MAXPOOL ? 0 : l.inQ.zeroPoint;
  for (let o = 0; o < ogN * dim; o++) {
    const og = Math.floor(o / dim);
    const j = o % dim;
    const base = og * ogLen * dim;
    let bias = 0;
    let m = 0;
    let s = 15; // unused lanes: m = 0 gives the zero point whatever s is
    if (o < oc) {
      let sw = 0;
      for (let k = 0; k < kk; k++) sw += w[o * kk + k];
      bias = (biasOf(hw, o) - xzp * sw) | 0;
      m = multOf(hw, o).m0 / 2 ** 15;
      check(Number.isInteger(m), `layer '${l.name}': channel ${o}: M0 has more than 16 significant bits`);
      s = plan.shifts[o];
    }
    params.setInt32(base + 4 * j, bias, true);
    params.setUint32(base + 4 * dim + 4 * j, m | (s << 16), true);
  }
  return bytes;
}

/** Compiles a QModel for a device configuration. */
export function compile(model: QModel, config: DeviceConfig, options: CompileOptions = {}): DeviceImage {
  const dim = config.dim;
  const sub = dim / 4;
  if ((model.m0Bits ?? 31) !== DEVICE_M0_BITS) {
    throw new UnsupportedOpError(
      `the model's multipliers have ${model.m0Bits ?? 31}-bit M0, the device runs ${DEVICE_M0_BITS}-bit ones: re-quantize it with 'nnfpga quantize'`,
    );
  }
  const hw = lower(model);
  if (hw.length === 0) throw new UnsupportedOpError('the model has no layers');
  if (hw.length > config.maxLayers || DESC_WORDS * hw.length > config.dmemWords) {
    const most = Math.min(config.maxLayers, Math.floor(config.dmemWords / DESC_WORDS));
    throw new ModelTooLargeError(`model has ${hw.length} layers, the device runs at most ${most}`);
  }
  for (const h of hw) {
    const name = h.src.name;
    const ext = (what: string, v: number) =>
      check(
        v <= EXTENT_MAX,
        `layer '${name}': ${what} ${v} exceeds ${EXTENT_MAX}, the largest the device runs`,
      );
    ext('input height', h.inShape[1]);
    ext('input width', h.inShape[2]);
    ext('output height', h.outShape[1]);
    ext('output width', h.outShape[2]);
    ext('kernel height', h.kernel[0]);
    ext('kernel width', h.kernel[1]);
    ext('padding', Math.max(...h.pads));
    check(h.stride[0] >= 1 && h.stride[1] >= 1, `layer '${name}': stride out of range`);
    ext('stride', Math.max(...h.stride));
    if (h.grouped)
      check(h.inShape[0] === h.outShape[0], `layer '${name}': pooling must keep the channel count`);
  }

  // ---- WMEM
  const wChunks: { layer: number; bytes: Int8Array; wBase: number; steps: number }[] = [];
  let wWords = 0; // memory words
  hw.forEach((h, i) => {
    const plan = requantPlan(h);
    const bytes = layerImage(h, dim, plan);
    wChunks.push({ layer: i, bytes, wBase: wWords, steps: plan.steps });
    wWords += bytes.length / dim;
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
    const [ic, ih, iw] = h.inShape;
    const [oc, oh, ow] = h.outShape;
    const l = h.src;
    const fields: LayerFields = {
      op: h.op,
      grouped: h.grouped,
      inBase: tBase[i],
      outBase: tBase[i + 1],
      cg: Math.ceil(ic / dim),
      h: ih,
      w: iw,
      og: Math.ceil(oc / dim),
      oh,
      ow,
      kh: h.kernel[0],
      kw: h.kernel[1],
      sh: h.stride[0],
      sw: h.stride[1],
      pt: h.pads[0],
      pl: h.pads[1],
      wBase: wChunks[i].wBase,
      steps: wChunks[i].steps,
      padValue: h.padValue,
      yZp: h.yZp,
      lo: l.lo,
      hi: l.hi,
    };
    dmem.set(encodeDescriptor(fields, dim), i * DESC_WORDS);
    const out: TensorPlacement = {
      addr: tBase[i + 1] * sub,
      words: tWords[i + 1] * sub,
      shape: [...l.output],
    };
    layers.push({ name: l.name, kind: l.kind, output: out, macs: h.macs });
  });
  checkProgram(dmem, config);

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
