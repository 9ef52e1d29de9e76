// "Watch it compute": a Verilator trace of the real RTL running one layer, cut down to
// what the report's animation shows. The core bench (sim/core_tb.cpp, built with VCD
// tracing) runs the compiled model on one input and dumps a window of a few hundred
// cycles around the chosen layer's first outputs, only the array, the accumulator, the
// requantizer and the controller; parseVcd reads it and frames() samples every clock
// cycle (the values just after its rising edge):
//   PE(i, j): the active weight, the activation it multiplied (x_q), its partial sum
//             (psum_q), the shadow weight, and whether that activation was a real one
//             (the array's valid delay line, bit i + j)
//   west:     the activation word presented to the array (its input register, then the
//             skew registers), its valid and swap token
//   weights:  the weight row being written into the shadow registers (row r of a tile
//             in the cycle t + r after its first activation, the driver rule)
//   south:    the column sums leaving the deskew registers (valid, last tile)
//   acc:      the finished pixel's int32 sums going to the requantizer
//   out:      the requantizer's int8 output vector
// Nothing is recomputed: every number comes from the trace.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { coreParams } from '../compiler/configs.ts';
import { convSchedule, estimateImage, OVERHEAD } from '../compiler/estimate.ts';
import { DESC_WORDS, imageRuns, OP_MAXPOOL } from '../compiler/compile.ts';
import { packInput } from '../compiler/layout.ts';
import type { DeviceImage } from '../compiler/types.ts';
import { InputError } from '../errors.ts';
import { CORE_SOURCES, CoreScript, runScript, SPACE } from '../sim/core.ts';
import { buildDir } from '../paths.ts';
import { buildVerilator } from '../sim/verilator.ts';
import { bitsAt, field, parseVcd, type Vcd } from './vcd.ts';

/** Controller states (rtl/npu_ctrl.v), for the frame's caption. */
const STATES: Record<number, string> = {
  0: 'idle',
  1: 'descriptor fetch',
  2: 'decode',
  3: 'parameters',
  4: 'periods',
  5: 'drain',
  6: 'counters',
  7: 'counters',
  8: 'finish',
  9: 'abort',
};

export interface Frame {
  /** Clock cycle from the run's start pulse, and from the layer's descriptor fetch. */
  cycle: number;
  layer_cycle: number;
  state: string;
  /** [i][j]: PE(i, j) in row i (input lane), column j (output lane). */
  w: number[][];
  x: number[][];
  p: number[][];
  shadow: number[][];
  valid: number[][];
  west: { x: number[]; valid: boolean; swap: boolean };
  wload: { row: number; data: number[] } | null;
  south: { psum: number[]; valid: boolean; last: boolean; entry: number };
  acc: number[] | null;
  out: number[] | null;
}

export interface ArrayTrace {
  layer: string;
  layer_index: number;
  kind: string;
  /** Output group g reads input group g only (pools, depthwise): diagonal weight tiles. */
  grouped: boolean;
  /** MAXPOOL: the accumulator keeps the maximum of the taps instead of their sum. */
  max: boolean;
  n: number;
  /** Cycle of the layer's first descriptor fetch and of the first frame, from the start of its RUN. */
  layer_start: number;
  first_cycle: number;
  /** The VCD the frames come from. */
  vcd: string;
  frames: Frame[];
}

const SCOPES = [
  'TOP.npu_core.u_array:99',
  'TOP.npu_core.u_acc:1',
  'TOP.npu_core:1', // the requantizers' merged output (rq_valid, rq_y)
  'TOP.npu_core.u_ctrl:1',
];

/** Picks a layer by name or index (every layer runs on the array). */
export function pickLayer(image: DeviceImage, which: string): number {
  const byIndex = /^\d+$/.test(which) ? Number(which) : -1;
  const i = byIndex >= 0 ? byIndex : image.layers.findIndex((l) => l.name === which);
  if (i < 0 || i >= image.layers.length) {
    const choices = image.layers.map((l, k) => `${k} (${l.name})`).join(', ');
    throw new InputError(`--animate ${which}: no such layer; choose one of ${choices}`);
  }
  return i;
}

/**
 * Runs the image on the core bench with a VCD window around the first outputs of layer
 * `li`'s first descriptor that writes the start of its output (earlier ones may write a
 * tensor of their own: a packed conv's pack step, a concat's copies). The program runs
 * in its segments; when that descriptor is in a later segment, the earlier ones run
 * first in a bench of their own, and the traced bench starts from the AMEM they leave
 * (so the window's cycles count from the start of the descriptor's own segment).
 */
export async function traceLayer(
  image: DeviceImage,
  xq: Int8Array,
  inputZeroPoint: number,
  li: number,
  opts: { maxCycles?: number; outputs?: number } = {},
): Promise<ArrayTrace> {
  const cfg = image.config;
  const n = cfg.dim;
  const est = estimateImage(image);
  const { first, count } = image.layers[li].steps;
  const writesOutput = (i: number) =>
    image.descriptors[i * DESC_WORDS + 2] * (n / 4) === image.layers[li].output.addr;
  const d0 = Array.from({ length: count }, (_, i) => first + i).find(writesOutput) ?? first;
  const runs = imageRuns(image);
  const k = runs.findIndex((r) => r.first <= d0 && d0 < r.first + r.count);
  const layerStart = est.steps
    .slice(runs[k].first, d0)
    .reduce((a, st) => a + st.estimated_cycles + OVERHEAD.perLayer, 0);
  const d = est.steps[d0].descriptor;
  const sched = convSchedule(d, n, image.config.requantPipes ?? 1);
  // the window ends once `outputs` vectors have left the requantizer (their issue, the
  // array and accumulator pipeline, the requantizer's Steps + N + 5)
  const q = Math.min(opts.outputs ?? 4, sched.issues.length) - 1;
  // (and before the descriptor's counters, where the controller moves on)
  const end = layerStart + Math.min(sched.issues[q] + 3 * n + d.steps + 12, est.steps[d0].estimated_cycles);
  const from = Math.max(layerStart + sched.start - 2, end - (opts.maxCycles ?? 200));
  const exe = await buildVerilator({
    name: `core_tb_vcd_n${n}_a${cfg.amemWords}_w${cfg.wmemWords}_acc${cfg.accDepth}`,
    top: 'npu_core',
    sources: CORE_SOURCES,
    cppSources: ['sim/core_tb.cpp'],
    params: coreParams(cfg),
    trace: true,
    traceVcd: true,
  });
  const input = packInput(xq, image.input, n, inputZeroPoint);
  // the segments before the traced one, untraced: the AMEM they leave
  let amem: Uint32Array | null = null;
  if (k > 0) {
    const pre = new CoreScript();
    pre.write(SPACE.WMEM, 0, image.wmem);
    pre.write(SPACE.AMEM, image.input.addr, input);
    for (const r of runs.slice(0, k)) pre.write(SPACE.DMEM, 0, r.dmem).run();
    pre.read(SPACE.AMEM, 0, image.amemWordsUsed);
    const res = await runScript(exe, pre);
    amem = res.results.at(-1)!;
  }
  const s = new CoreScript();
  s.write(SPACE.WMEM, 0, image.wmem);
  s.write(SPACE.DMEM, 0, runs[k].dmem);
  if (amem) s.write(SPACE.AMEM, 0, amem);
  else s.write(SPACE.AMEM, image.input.addr, input);
  s.run();
  const dir = buildDir('trace');
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  const vcdPath = path.join(dir, `array-layer${li}-n${n}-${process.pid}.vcd`);
  await runScript(exe, s, {
    trace: vcdPath,
    extraArgs: [`+trace_from=${from}`, `+trace_cycles=${end - from}`, `+trace_scopes=${SCOPES.join(',')}`],
  });
  const vcd = parseVcd(readFileSync(vcdPath, 'utf8'));
  const frames = framesOf(vcd, n, from, layerStart);
  const wrong = frames.find((f) => f.state === 'descriptor fetch' || f.state === 'idle');
  const layerQ = vcd.vars.get('TOP.npu_core.u_ctrl.layer_q');
  const seen = layerQ ? field(bitsAt(layerQ, vcd.times.at(-1)!) ?? '', 0, 8, false) : -1;
  if (seen !== d0 - runs[k].first || wrong)
    throw new Error(
      `array trace: the window at cycles ${from}..${end} is not inside descriptor ${d0 - runs[k].first} of its RUN (the controller is in ${seen}); the cycle estimate no longer matches the RTL`,
    );
  const word0 = image.descriptors[d0 * DESC_WORDS];
  return {
    layer: image.layers[li].name,
    layer_index: li,
    kind: image.layers[li].kind,
    grouped: d.grouped,
    max: (word0 & 0xf) === OP_MAXPOOL,
    n,
    layer_start: layerStart,
    first_cycle: from,
    vcd: vcdPath,
    frames,
  };
}

/** One frame per clock cycle of the window (values after the cycle's rising edge). */
export function framesOf(vcd: Vcd, n: number, firstCycle: number, layerStart: number): Frame[] {
  const get = (name: string) => {
    const v = vcd.vars.get(`TOP.npu_core.${name}`);
    if (!v) throw new Error(`array trace: signal ${name} is not in the VCD`);
    return v;
  };
  const pe = (i: number, j: number, sig: string) => get(`u_array.g_row[${i}].g_col[${j}].u_pe.${sig}`);
  const psumW = get('u_array.g_row[0].g_col[0].u_pe.psum_q').width;
  const arr = {
    inX: get('u_array.in_x_i'),
    inValid: get('u_array.in_valid_i'),
    inSwap: get('u_array.in_swap_i'),
    validQ: get('u_array.valid_q'),
    wLoad: get('u_array.w_load_i'),
    wRow: get('u_array.w_row_i'),
    wData: get('u_array.w_data_i'),
    outPsum: get('u_array.out_psum_o'),
    outValid: get('u_array.out_valid_o'),
    outTag: get('u_array.out_tag_o'),
  };
  const tagW = arr.outTag.width;
  const acc = { valid: get('u_acc.out_valid_o'), sum: get('u_acc.out_sum_o') };
  const rq = { valid: get('rq_valid'), y: get('rq_y') };
  const state = get('u_ctrl.state_q');
  const pes = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => ({
      w: pe(i, j, 'active_q'),
      x: pe(i, j, 'x_q'),
      p: pe(i, j, 'psum_q'),
      sh: pe(i, j, 'shadow_q'),
    })),
  );
  // posedge dumps are at odd times; cycle c of the window is the c-th one
  const base = vcd.times[0];
  const ticks = vcd.times.filter((t) => (t - base) % 2 === 1);
  const bits = (v: (typeof arr)['inX'], t: number) => bitsAt(v, t) ?? '0';
  const lanes = (v: (typeof arr)['inX'], t: number, w: number, signed: boolean) =>
    Array.from({ length: n }, (_, l) => field(bits(v, t), l * w, w, signed));
  return ticks.map((t, c): Frame => {
    const vq = bits(arr.validQ, t);
    const tag = bits(arr.outTag, t);
    const accValid = bits(acc.valid, t) === '1';
    const rqValid = bits(rq.valid, t) === '1';
    return {
      cycle: firstCycle + c,
      layer_cycle: firstCycle + c - layerStart,
      state: STATES[field(bits(state, t), 0, 4, false)] ?? 'other',
      w: pes.map((r) => r.map((e) => field(bits(e.w, t), 0, 8, true))),
      x: pes.map((r) => r.map((e) => field(bits(e.x, t), 0, 8, true))),
      p: pes.map((r) => r.map((e) => field(bits(e.p, t), 0, psumW, true))),
      shadow: pes.map((r) => r.map((e) => field(bits(e.sh, t), 0, 8, true))),
      valid: pes.map((_, i) => pes.map((__, j) => field(vq, i + j, 1, false))),
      west: {
        x: lanes(arr.inX, t, 8, true),
        valid: bits(arr.inValid, t) === '1',
        swap: bits(arr.inSwap, t) === '1',
      },
      wload:
        bits(arr.wLoad, t) === '1'
          ? { row: field(bits(arr.wRow, t), 0, 8, false), data: lanes(arr.wData, t, 8, true) }
          : null,
      south: {
        psum: lanes(arr.outPsum, t, psumW, true),
        valid: bits(arr.outValid, t) === '1',
        // tag: first, last, accumulator entry (MSB first)
        last: field(tag, tagW - 2, 1, false) === 1,
        entry: field(tag, 0, tagW - 2, false),
      },
      acc: accValid ? lanes(acc.sum, t, 32, true) : null,
      out: rqValid ? lanes(rq.y, t, 8, true) : null,
    };
  });
}
