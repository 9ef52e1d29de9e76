// The array trace behind the report's animation (host/report/animate.ts): the RTL's own
// registers, read from a VCD window of the core bench. They must obey the array's
// arithmetic cycle by cycle, end in the integer reference's outputs, and show why a
// convolution keeps the PEs busy while a batch-1 dense layer leaves most of them idle.
import { describe, expect, it } from 'vitest';
import { fixtureModel } from '../../host/bench/core.ts';
import { compile } from '../../host/compiler/compile.ts';
import { BOARD_CONFIG, SIM_CONFIG } from '../../host/compiler/configs.ts';
import { runInt } from '../../host/quant/intref.ts';
import { pickLayer, traceLayer, type ArrayTrace } from '../../host/report/animate.ts';
import { fixtures } from '../host/helpers.ts';
import { mlperfInputs, mlperfQModel } from '../../host/bench/mlperf.ts';

/** psum(i, j) this cycle = psum(i-1, j) last cycle + x(i, j) * w(i, j), wrapped to the psum width. */
function checkRecurrence(t: ArrayTrace, width: number): number {
  let checked = 0;
  const wrap = (v: number) => {
    const m = 2 ** width;
    const r = ((v % m) + m) % m;
    return r >= m / 2 ? r - m : r;
  };
  for (let k = 1; k < t.frames.length; k++) {
    const f = t.frames[k];
    const prev = t.frames[k - 1];
    for (let i = 0; i < t.n; i++)
      for (let j = 0; j < t.n; j++) {
        const north = i === 0 ? 0 : prev.p[i - 1][j];
        expect(f.p[i][j], `cycle ${f.cycle} PE(${i}, ${j})`).toBe(wrap(north + f.x[i][j] * f.w[i][j]));
        checked++;
      }
  }
  return checked;
}

function firstOutputs(t: ArrayTrace): number[][] {
  return t.frames.filter((f) => f.out).map((f) => f.out!);
}

describe('array trace of the real RTL', () => {
  it('cnn_a conv 8->16 on sim8: every PE obeys psum = north + x*w, the outputs are the integer reference, most PEs busy', async () => {
    const { model, input } = fixtureModel('cnn_a', fixtures);
    const image = compile(model, SIM_CONFIG);
    const t = await traceLayer(image, input, model.inQ.zeroPoint, 2);
    expect(t.frames.length).toBeGreaterThan(50);
    expect(t.frames.length).toBeLessThanOrEqual(300);
    expect(checkRecurrence(t, 15 + 3)).toBeGreaterThan(1000);
    const ref = runInt(model, input)[2];
    const p = ref.length / model.layers[2].output[0];
    const outs = firstOutputs(t);
    expect(outs.length).toBeGreaterThanOrEqual(2);
    // og 0's pixels leave in order: pixel q, channels 0..N-1
    outs.forEach((o, q) => expect(o).toEqual(Array.from({ length: 8 }, (_, j) => ref[j * p + q])));
    const busy = t.frames.map((f) => f.valid.flat().reduce((a, b) => a + b, 0));
    expect(Math.max(...busy)).toBe(64);
  });

  it('mlp dense 784->128 on the board config: one beat in N carries data (at most N of N^2 PEs busy), its output is the reference', async () => {
    const { model, input } = fixtureModel('mlp', fixtures);
    const image = compile(model, BOARD_CONFIG);
    const t = await traceLayer(image, input, model.inQ.zeroPoint, 0);
    expect(checkRecurrence(t, 15 + 2)).toBeGreaterThan(1000);
    const busy = t.frames.map((f) => f.valid.flat().reduce((a, b) => a + b, 0));
    expect(Math.max(...busy)).toBe(4);
    const outs = firstOutputs(t);
    expect(outs).toHaveLength(1);
    const ref = runInt(model, input)[0];
    expect(outs[0]).toEqual(Array.from(ref.subarray(0, 4)));
  });

  it("a layer in the second segment of a program (VWW's fc on sim8): the window is inside it, its output is the reference", async () => {
    const model = mlperfQModel('mlperf_vww');
    const image = compile(model, SIM_CONFIG);
    const li = image.layers.length - 1;
    expect(image.segments.length).toBeGreaterThan(1);
    expect(image.layers[li].steps.first).toBeGreaterThanOrEqual(SIM_CONFIG.maxLayers);
    const [input] = mlperfInputs(model, 1, 22);
    const t = await traceLayer(image, input, model.inQ.zeroPoint, li);
    expect(checkRecurrence(t, 15 + 3)).toBeGreaterThan(100);
    const ref = runInt(model, input)[li];
    expect(firstOutputs(t)[0].slice(0, 2)).toEqual(Array.from(ref)); // 2 classes in lanes 0, 1
  });

  it('a max pool runs on the array: identity weight tiles, the accumulator keeps the maximum, its outputs are the reference', async () => {
    const { model, input } = fixtureModel('cnn_a', fixtures);
    const image = compile(model, BOARD_CONFIG);
    const li = pickLayer(image, '1');
    expect(model.layers[li].kind).toBe('maxpool');
    const t = await traceLayer(image, input, model.inQ.zeroPoint, li);
    expect(t).toMatchObject({ max: true, grouped: true });
    expect(checkRecurrence(t, 15 + 2)).toBeGreaterThan(500);
    // once a tile is in, PE(i, j) holds 1 on the diagonal and 0 elsewhere
    const last = t.frames.at(-1)!;
    last.w.forEach((row, i) => row.forEach((w, j) => expect(w, `PE(${i}, ${j})`).toBe(i === j ? 1 : 0)));
    const ref = runInt(model, input)[li];
    const p = ref.length / model.layers[li].output[0];
    const outs = firstOutputs(t);
    expect(outs.length).toBeGreaterThanOrEqual(2);
    outs.forEach((o, q) => expect(o).toEqual(Array.from({ length: 4 }, (_, j) => ref[j * p + q])));
  });

  it("a packed conv (KWS conv1 on the board config): the window is in conv' over the packed taps, not the pack step; its outputs are the reference", async () => {
    const model = mlperfQModel('mlperf_kws');
    const image = compile(model, BOARD_CONFIG);
    expect(image.layers[0].steps.count).toBe(2);
    const [input] = mlperfInputs(model, 1, 22);
    const t = await traceLayer(image, input, model.inQ.zeroPoint, 0);
    expect(t.layer_start).toBeGreaterThan(0); // after the pack step
    expect(checkRecurrence(t, 15 + 2)).toBeGreaterThan(500);
    const ref = runInt(model, input)[0];
    const p = ref.length / model.layers[0].output[0];
    const outs = firstOutputs(t);
    expect(outs.length).toBeGreaterThanOrEqual(2);
    outs.forEach((o, q) => expect(o).toEqual(Array.from({ length: 4 }, (_, j) => ref[j * p + q])));
  });

  it('--animate names the layers it can show when the layer is unknown', () => {
    const { model } = fixtureModel('cnn_a', fixtures);
    const image = compile(model, BOARD_CONFIG);
    expect(() => pickLayer(image, 'nosuch')).toThrow(
      /--animate nosuch: no such layer; choose one of 0 \(\/net\/net.0\/Conv\), 1 \(\/net\/net.2\/MaxPool\)/,
    );
    expect(() => pickLayer(image, '5')).toThrow(/no such layer/);
    expect(pickLayer(image, '/net/net.7/Gemm')).toBe(4);
  });
});
