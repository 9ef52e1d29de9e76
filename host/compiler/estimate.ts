// The compiler's cycle estimate of every descriptor and layer, from the descriptor-level
// quantities of docs/ARCHITECTURE.md sections 1-4, and what bounds each layer. A layer
// may take several descriptors (the graph compiler's steps: the pieces of a residual add,
// concat copies, the two passes of an exclude-pad average pool): its estimate and bounds
// are the sums of its descriptors', as the device's counters add up. A program of several
// segments is several RUNs.
//
// Every descriptor is a convolution (max pooling is one whose accumulators take the
// maximum): N the array side, K = KH*KW*CG' weight tiles per output pixel (CG' the cg
// loop: CG, or 1 when grouped), P = OH*OW output pixels, OG output groups, W = min(K, N)
// pixels in the sliding window, Steps the requantizer's Booth digits and I its interval
// (word 9: max(ceil(Steps / U), N) for a core of U Booth units, the compiler's
// requantInterval). Per output group the controller loads 8 parameter words, then runs
// periods of N beats; the window slides by one pixel on the periods the Bresenham term
// says (x += W, slide and x -= K when x >= 0, from x = min(2W - K, W) - 1, window start
// 1 - W) until pixel P - 1 has left, and a period whose first beat finishes a pixel waits
// until the requantizer, which takes one vector per I cycles, is free; then the datapath
// drains. On a core of two requantizer pipelines (DeviceConfig.requantPipes) a window of
// W = min(2K, N) may slide twice a period (word 0 bit 5), its two leaving pixels going
// to the pipelines in turn at beats 0 and 1, each pipeline taking one per I cycles. A
// block descriptor (a core with the block schedule: DeviceConfig.blockSchedule) runs
// blocks of max(B, N) pixels through the K tiles in periods of as many beats, the last
// tile's beats going to the vector requantizer one a cycle. The estimate replays exactly
// that schedule (rtl/npu_ctrl.v's states), period by period,
// so it is exact as long as the RTL keeps the documented schedule and overheads
// (OVERHEAD below).
//
// Bounds (the largest of three lower bounds on a descriptor's cycles):
//   array:       every beat of every period carries a real pixel: OG * P * K * N / W
//                (a block: OG * P * K)
//   weights:     every weight row is read once, N bytes per cycle: OG * K * N
//                (beats a dense layer at batch 1: P = 1 < W, the window is mostly empty)
//   requantizer: one output vector per I cycles: OG * P * I (a block: one a cycle)
// and 'wire' for the inference as a whole (and its first or last layer) when moving the
// input or output over the UART takes longer than computing (see wireFigures).
import {
  DESC_WORDS,
  OP_CONV,
  bresenhamStart,
  decodeDescriptor,
  descriptorInterval,
  tilesPerPixel,
} from './program.ts';
import type { DeviceImage } from './types.ts';
import { inferPartSizes, outputFitsReply, PART_HEAD, PART_IN, PART_OUT, wireLayout } from '../link/packed.ts';

export type Bound = 'array' | 'weights' | 'requantizer' | 'wire';

/**
 * The array's latency (npu_array: cycles from an activation to its column sums) that the
 * simulations run, the generic array's 2N; the boards' own arrays (rtl/ice40/) take N + 2
 * (UP5K, SB_MAC16) and N + 1 (HX8K, fabric).
 */
export const simArrayLatency = (n: number) => 2 * n;

/**
 * Fixed costs of the controller (rtl/npu_ctrl.v), in cycles: per descriptor its fetch
 * (words 0-11, 13 cycles) and decode; per output group the 8 parameter words; after a
 * descriptor's last output went to the requantizer the drain until it is written (the
 * array's latency L, the accumulator stage and the requantizer's latency, requantLatency:
 * rqLatency + L + 4), or one cycle after the last period when that is later (a block's
 * bubbles). Output groups overlap: the next og's bias words (the second half of its
 * parameters) wait until the previous og's last sum has left the accumulator stage,
 * `front` cycles after it went, and its first output until the previous og's last output
 * has left the requantizer (a drain after that output went in). Per descriptor 2 cycles of
 * counter writes, and per RUN 1 cycle (done) plus, when the segment is shorter than
 * MaxLayers, 14 to fetch and decode its END descriptor, which the RUN's cycle count
 * includes but the counters do not.
 */
export const OVERHEAD = {
  fetch: 14,
  params: 8,
  /** From a vector's issue until it has been written and the datapath is empty. */
  drain: (rqLatency: number, latency: number) => rqLatency + latency + 4,
  front: (latency: number) => latency + 3,
  perLayer: 2,
  perRun: 1,
  end: 14,
};

/** The fields of one descriptor the estimate uses (ARCHITECTURE section 4). */
export interface DescriptorShape {
  op: 'conv' | 'maxpool';
  /** Output group og reads input group og only (the cg loop is one). */
  grouped: boolean;
  /** K = KH*KW*CG' weight tiles per output pixel. */
  k: number;
  kh: number;
  kw: number;
  /** The cg loop's channel groups (1 when grouped). */
  cg: number;
  og: number;
  /** P = OH*OW output pixels. */
  p: number;
  /** Requantizer Booth digits. */
  steps: number;
  /** Cycles from one output vector to the next at a requantizer pipeline (word 9). */
  interval: number;
  /** W: pixels in the sliding window (word 11). */
  win: number;
  /** The window slides up to twice a period (word 0 bit 5). */
  two: boolean;
  /** The block schedule's B pixels per block (word 0 bits 15:12 = 1); 0: the sliding window. */
  block: number;
}

/** Reads the program's descriptors (DMEM words) up to END. */
export function decodeProgram(dmem: Uint32Array): DescriptorShape[] {
  const out: DescriptorShape[] = [];
  for (let i = 0; (i + 1) * DESC_WORDS <= dmem.length; i++) {
    const d = dmem.subarray(i * DESC_WORDS, (i + 1) * DESC_WORDS);
    const f = decodeDescriptor(d);
    if (!f) break;
    out.push({
      op: f.op === OP_CONV ? 'conv' : 'maxpool',
      grouped: f.grouped,
      k: tilesPerPixel(f),
      kh: f.kh,
      kw: f.kw,
      cg: f.cg,
      og: f.og,
      p: f.oh * f.ow,
      steps: f.steps,
      interval: descriptorInterval(d),
      win: f.block ? 1 : (d[11] >>> 16) + 1,
      two: ((d[0] >>> 5) & 1) === 1,
      block: f.block ?? 0,
    });
  }
  return out;
}

/**
 * Cycles from a vector entering the requantizer to its output word: npu_requant's
 * Steps + N + 5, npu_requant_vec's 4 (a core with the block schedule).
 */
export function requantLatency(steps: number, n: number, vector = false): number {
  return vector ? 4 : steps + n + 5;
}

/**
 * The requantizer's pipelines as the controller sees them: when each last took a vector,
 * which one takes the next, and the first cycle an output may go (the og's m | s in place).
 */
interface RqState {
  last: [number, number];
  sel: number;
  ready: number;
}

const rqIdle = (): RqState => ({ last: [-Infinity, -Infinity], sel: 0, ready: -Infinity });

/**
 * One output group's periods (from the first beat to pixel P-1 leaving): the cycle after
 * them, and the cycle its last pixel went to the requantizer (the period's first beat,
 * or its second when two left).
 */
function groupPeriods(
  n: number,
  d: DescriptorShape,
  pipes: number,
  t0: number,
  rq: RqState,
  issues?: number[],
): { t: number; lastIssue: number } {
  if (d.block) return groupBlocks(n, d, t0, rq, issues);
  const { k, p, win: w, interval } = d;
  let t = t0;
  let x = bresenhamStart(w, k); // Bresenham term: the window slides after a period when x >= 0
  let s = 1 - w; // window start (first pixel in the window)
  const issue = (at: number) => {
    rq.last[rq.sel] = at;
    if (pipes > 1) rq.sel ^= 1;
    issues?.push(at);
  };
  for (;;) {
    const slide = x >= 0;
    const slide2 = d.two && slide && x - k >= 0; // pixel s + 1 leaves too
    // pixel s leaves at this period's first beat, s + 1 at its second: their sums go to
    // the requantizer pipelines in turn, the period waiting until both may
    const want0 = slide && s >= 0;
    const want1 = slide2 && s + 1 >= 0 && s + 1 <= p - 1;
    if (want0 || want1) {
      const other = want0 ? rq.sel ^ (pipes > 1 ? 1 : 0) : rq.sel;
      t = Math.max(
        t,
        rq.ready,
        want0 ? rq.last[rq.sel] + interval : -Infinity,
        want1 ? rq.last[other] + interval - 1 : -Infinity,
      );
      if (want0) issue(t);
      if (want1) issue(t + 1);
    }
    t += n;
    if (!slide) x += w;
    else {
      if (s === p - 1) return { t, lastIssue: t - n };
      if (slide2 && s + 1 === p - 1) return { t, lastIssue: t - n + 1 };
      s += slide2 ? 2 : 1;
      x += w - (slide2 ? 2 * k : k);
    }
  }
}

/**
 * The block schedule's periods of one output group: blocks of max(B, N) pixels, each
 * through the K tiles in periods of as many beats; the last tile's beats send their
 * pixels to the (vector) requantizer one a cycle, the og's first such period waiting
 * until the requantizer holds its m | s.
 */
function groupBlocks(
  n: number,
  d: DescriptorShape,
  t0: number,
  rq: RqState,
  issues?: number[],
): { t: number; lastIssue: number } {
  const { k, p } = d;
  const beats = Math.max(d.block, n);
  let t = t0;
  let lastIssue = t0;
  for (let s = 0; s < p; s += beats) {
    t += (k - 1) * beats;
    if (s === 0) t = Math.max(t, rq.ready);
    const real = Math.min(beats, p - s);
    for (let b = 0; b < real; b++) issues?.push(t + b);
    lastIssue = t + real - 1;
    t += beats;
  }
  rq.last = [lastIssue, lastIssue];
  return { t, lastIssue };
}

/**
 * Estimated cycles of one descriptor, as the device's CNT word 2d counts them, on an
 * array of the given latency (default: the simulations') and a core of `pipes`
 * requantizer pipelines (`vector`: the block schedule's vector requantizer instead).
 */
export function layerCycles(
  d: DescriptorShape,
  n: number,
  latency = simArrayLatency(n),
  pipes = 1,
  vector = false,
): number {
  const drain = OVERHEAD.drain(requantLatency(d.steps, n, vector), latency);
  let t = OVERHEAD.fetch + OVERHEAD.params;
  let lastIssue = t;
  const rq = rqIdle();
  for (let og = 0; og < d.og; og++) {
    if (og > 0) {
      // the next og's parameters follow its last period at once; the bias words wait
      // for the previous og's last sum to leave the accumulators, and its first output
      // for the previous og's last to leave the requantizer
      t = Math.max(t + OVERHEAD.params / 2, lastIssue + OVERHEAD.front(latency)) + OVERHEAD.params / 2;
      rq.ready = Math.max(...rq.last) + drain;
    }
    ({ t, lastIssue } = groupPeriods(n, d, pipes, t, rq));
  }
  // the drain, or the last period's bubbles (a block longer than the pixels left)
  return Math.max(lastIssue + drain, t + 1);
}

/**
 * Cycles (from the layer's descriptor fetch) at which the first output group's pixels
 * leave for the requantizer (their sums finish one pipeline later), and when its
 * periods begin.
 */
export function convSchedule(d: DescriptorShape, n: number, pipes = 1): { start: number; issues: number[] } {
  const start = OVERHEAD.fetch + OVERHEAD.params;
  const issues: number[] = [];
  groupPeriods(n, d, pipes, start, rqIdle(), issues);
  return { start, issues };
}

export interface LayerBoundFigures {
  array: number;
  weights: number;
  requantizer: number;
}

/** The three lower bounds of a descriptor (header) in cycles. */
export function layerBounds(d: DescriptorShape, n: number, pipes = 1): LayerBoundFigures {
  // a block: every pixel meets every tile in a beat of its own, the vector requantizer
  // takes one output a cycle
  if (d.block) return { array: d.og * d.p * d.k, weights: d.og * d.k * n, requantizer: d.og * d.p };
  return {
    array: (d.og * d.p * d.k * n) / d.win,
    weights: d.og * d.k * n,
    requantizer: (d.og * d.p * d.interval) / pipes,
  };
}

/** The largest bound (ties go to the first of array, weights, requantizer). */
export function computeBound(b: LayerBoundFigures): Exclude<Bound, 'wire'> {
  if (b.array >= b.weights && b.array >= b.requantizer) return 'array';
  return b.weights >= b.requantizer ? 'weights' : 'requantizer';
}

/** One descriptor of the program: its fields, estimated cycles and bounds. */
export interface StepEstimate {
  /** The QModel layer it belongs to (index into image.layers). */
  layer: number;
  descriptor: DescriptorShape;
  estimated_cycles: number;
  bounds: LayerBoundFigures;
}

export interface LayerEstimate {
  name: string;
  kind: string;
  macs: number;
  /** MACs / N^2: every PE busy every cycle. */
  ideal_cycles: number;
  /** The sum over its descriptors, as the device's counters of its descriptors add up. */
  estimated_cycles: number;
  bounds: LayerBoundFigures;
  compute_bound: Exclude<Bound, 'wire'>;
  /** Its descriptors, first .. first + count - 1 of the program. */
  first_step: number;
  descriptors: DescriptorShape[];
}

/**
 * Per-descriptor and per-layer estimates of a compiled image, and the whole run's cycles
 * (every segment of the program, each one RUN).
 */
export function estimateImage(
  image: DeviceImage,
  opts: { arrayLatency?: number } = {},
): {
  layers: LayerEstimate[];
  steps: StepEstimate[];
  run_cycles: number;
} {
  const n = image.config.dim;
  const latency = opts.arrayLatency ?? simArrayLatency(n);
  const pipes = image.config.requantPipes ?? 1;
  const steps = decodeProgram(image.descriptors).map((d, i): StepEstimate => ({
    layer: image.stepLayers[i],
    descriptor: d,
    estimated_cycles: layerCycles(d, n, latency, pipes, image.config.blockSchedule ?? false),
    bounds: layerBounds(d, n, pipes),
  }));
  const layers = image.layers.map((l): LayerEstimate => {
    const own = steps.slice(l.steps.first, l.steps.first + l.steps.count);
    const bounds = { array: 0, weights: 0, requantizer: 0 };
    for (const s of own) {
      bounds.array += s.bounds.array;
      bounds.weights += s.bounds.weights;
      bounds.requantizer += s.bounds.requantizer;
    }
    return {
      name: l.name,
      kind: l.kind,
      macs: l.macs,
      ideal_cycles: l.macs / (n * n),
      estimated_cycles: own.reduce((a, s) => a + s.estimated_cycles, 0),
      bounds,
      compute_bound: computeBound(bounds),
      first_step: l.steps.first,
      descriptors: own.map((s) => s.descriptor),
    };
  });
  // a full segment (as many descriptors as one RUN executes) has no END (programRuns)
  const withEnd = image.segments.filter((seg) => decodeProgram(seg).length < seg.length / DESC_WORDS).length;
  const run =
    steps.reduce((a, s) => a + s.estimated_cycles + OVERHEAD.perLayer, 0) +
    OVERHEAD.perRun * image.segments.length +
    OVERHEAD.end * withEnd;
  return { layers, steps, run_cycles: run };
}

/** The serial link of a configuration: frame size and bit time (ARCHITECTURE section 6). */
export interface LinkSpec {
  maxPayload: number;
  clocksPerBit: number;
  clockHz: number;
}

/**
 * Bytes on the wire for one inference, as host/target.ts sends it (docs/README-link.md):
 * the input packed (only its real channels) in the INFER parts host/link/packed.ts splits
 * it into, each acknowledged, the last one answered with the packed outputs and the cycle
 * count. A program of several segments, or outputs too large for one reply, goes as
 * WRITE the input words, per segment WRITE it to DMEM and RUN, READ the output words.
 * Frames are 7 bytes of header and CRC around their payload; a reply's payload starts
 * with its status byte.
 */
export function wireBytes(
  image: Pick<DeviceImage, 'input' | 'output' | 'segments' | 'config'>,
  link: LinkSpec,
): { out: number; in: number } {
  const frame = 7;
  const max = link.maxPayload;
  const inL = wireLayout(image.input.shape, image.config.dim);
  const outL = wireLayout(image.output.shape, image.config.dim);
  if (image.segments.length === 1 && outputFitsReply(outL.bytes, max)) {
    const parts = inferPartSizes(inL.bytes, inL.lanes, max);
    return {
      out: parts.length * (frame + PART_HEAD) + PART_IN + PART_OUT + inL.bytes,
      in: parts.length * (frame + 1) + outL.bytes + 4,
    };
  }
  const perWrite = Math.floor((max - 5) / 4);
  const writes = (words: number) => {
    const frames = Math.ceil(words / perWrite);
    return { out: frames * (frame + 5) + 4 * words, in: frames * (frame + 1) };
  };
  const w = writes(image.input.words);
  for (const seg of image.segments) {
    const d = writes(seg.length);
    w.out += d.out + frame + 1; // WRITE DMEM, RUN (its cycle limit)
    w.in += d.in + frame + 5; // status, cycles
  }
  const perRead = Math.floor((max - 1) / 4);
  const reads = Math.ceil(image.output.words / perRead);
  return {
    out: w.out + reads * (frame + 7),
    in: w.in + reads * (frame + 1) + 4 * image.output.words,
  };
}

/** One inference split into wire out, compute and wire in, in cycles of the device clock. */
export interface WireFigures {
  wire_bytes_out: number;
  wire_bytes_in: number;
  /** Bytes on the wire x 10 bits x clocks per bit. */
  wire_out_cycles: number;
  compute_cycles: number;
  wire_in_cycles: number;
  bound: 'wire' | 'compute';
}

export function wireFigures(bytesOut: number, bytesIn: number, compute: number, link: LinkSpec): WireFigures {
  const out = bytesOut * 10 * link.clocksPerBit;
  const inn = bytesIn * 10 * link.clocksPerBit;
  return {
    wire_bytes_out: bytesOut,
    wire_bytes_in: bytesIn,
    wire_out_cycles: out,
    compute_cycles: compute,
    wire_in_cycles: inn,
    bound: out + inn > compute ? 'wire' : 'compute',
  };
}

/**
 * The schedule the compiler gives a descriptor on a core with the block schedule: the
 * block of B pixels (B = ceil(P / blocks), at most `maxBlock`, the fewest blocks and a
 * few more) whose estimate is lowest, or 0 when the sliding window's is no higher.
 */
export function chooseBlock(d: DescriptorShape, n: number, pipes: number, maxBlock: number): number {
  const latency = simArrayLatency(n);
  let best = layerCycles({ ...d, block: 0 }, n, latency, pipes, true);
  let block = 0;
  const fewest = Math.ceil(d.p / maxBlock);
  for (let blocks = fewest; blocks <= Math.min(fewest + 3, d.p); blocks++) {
    const b = Math.ceil(d.p / blocks);
    const c = layerCycles({ ...d, block: b }, n, latency, pipes, true);
    if (c < best) {
      best = c;
      block = b;
    }
  }
  return block;
}
