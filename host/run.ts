// The work behind `nnfpga run` and `nnfpga eval`: prepare the model (quantize an ONNX
// model on the fly, or load a quantized one), then for every sample compute the float
// reference, the integer reference and, when a device backend is given, the device's
// result, and compare them (SPEC section 1, point 4).
//
// The device is an InferenceBackend: the commands obtain one from a factory
// (host/target.ts openTarget), so the simulated board and a real board plug in here
// without changing this file, and tests can pass a mock.
import { InputError } from './errors.ts';
import type { Samples } from './data/npy.ts';
import { readSamples } from './data/npy.ts';
import type { FloatModel } from './ir.ts';
import { applyHostStep, numel } from './ir.ts';
import { loadModel } from './model.ts';
import { calibrate, quantizeModel } from './quant/quantize.ts';
import { dequantize, quantizeInput, runInt, type RoundingRule } from './quant/intref.ts';
import type { LinkStats } from './link/link.ts';
import type { QModel } from './quant/types.ts';
import { argmax, inferFloat } from './ref/float.ts';

/** A device (simulated or real) that runs one quantized input through the model. */
export interface InferenceBackend {
  /** xq: the quantized input (CHW-flat int8); yq: the model's int8 output. */
  infer(xq: Int8Array): Promise<{ yq: Int8Array; cycles: number }>;
  /**
   * Optional: many inputs streamed (the next input crosses the wire while the device
   * computes), results in input order. Without it, `infer` is called one at a time.
   */
  inferMany?(xs: Int8Array[]): Promise<{ yq: Int8Array; cycles: number }[]>;
  /** Optional: every layer's int8 output for one input, to find where a mismatch starts. */
  layerActivations?(xq: Int8Array): Promise<Int8Array[]>;
  /** Optional: link statistics (frames, bytes, retransmissions) since the device was opened. */
  readonly linkStats?: LinkStats;
  close(): Promise<void>;
}

export type BackendFactory = (model: QModel) => Promise<InferenceBackend | null>;

export interface PreparedModel {
  q: QModel;
  /** null when a quantized model's source ONNX file cannot be found. */
  float: FloatModel | null;
}

/**
 * Loads MODEL for run/eval. An ONNX model is quantized here: on `calibPath`, or else on
 * `fallback` (the inputs being run), with a warning since that flatters the int8 figures.
 */
export function prepareModel(
  modelPath: string,
  calibPath: string | undefined,
  fallback: (inputShape: number[]) => Samples,
  warn: (message: string) => void,
): PreparedModel {
  const m = loadModel(modelPath);
  if (m.kind === 'qmodel') {
    if (calibPath) warn(`warning: ${modelPath} is already quantized; --calib ${calibPath} is ignored`);
    if (!m.float) warn(`warning: float reference unavailable (${m.floatNote}); float fields will be null`);
    return { q: m.q, float: m.float };
  }
  let samples: Samples;
  let calibName: string;
  if (calibPath) {
    samples = readSamples(calibPath, m.float.input, 'calibration data');
    calibName = calibPath;
  } else {
    samples = fallback(m.float.input);
    calibName = '(the inputs being run)';
    warn(
      `warning: no --calib given: calibrating on the ${samples.count} inputs being run, which flatters the int8 results; pass --calib CALIB.npy`,
    );
  }
  const stats = calibrate(m.float, samples.data, samples.count);
  return { q: quantizeModel(m.float, stats, { model: modelPath, calibration: calibName }), float: m.float };
}

/** One sample through every reference and the device. */
export interface Inference {
  index: number;
  /** Device output, dequantized, the model's host step applied (null without a device). */
  output: number[] | null;
  deviceQ: Int8Array | null;
  cycles: number | null;
  /** Integer reference, int8 and dequantized (host step applied). */
  referenceQ: Int8Array;
  reference: number[];
  /** Float reference (null when unavailable). */
  float: number[] | null;
  /** Output elements where the device differs from the integer reference (null without a device). */
  mismatches: number | null;
}

/** Inputs handed to the device at once: streamed back to back, then compared. */
export const STREAM_CHUNK = 32;

/**
 * Runs every sample; calls `each` with the result as soon as it is known, so that eval
 * over 10,000 images keeps nothing but its counters. With a device, inputs go to it in
 * chunks of STREAM_CHUNK, streamed when the backend can (inferMany).
 */
export async function runSamples(
  prep: PreparedModel,
  samples: Samples,
  backend: InferenceBackend | null,
  each: (r: Inference) => void,
): Promise<void> {
  const size = numel(prep.q.input);
  if (samples.data.length < samples.count * size) {
    throw new InputError(`inputs hold ${samples.data.length} values for ${samples.count} samples of ${size}`);
  }
  for (let start = 0; start < samples.count; start += STREAM_CHUNK) {
    const end = Math.min(samples.count, start + STREAM_CHUNK);
    const chunk: { r: Inference; xq: Int8Array }[] = [];
    for (let i = start; i < end; i++) {
      const x = samples.data.subarray(i * size, (i + 1) * size);
      const xq = quantizeInput(prep.q, x);
      const outs = runInt(prep.q, xq);
      const refQ = outs[outs.length - 1];
      chunk.push({
        xq,
        r: {
          index: i,
          output: null,
          deviceQ: null,
          cycles: null,
          referenceQ: refQ,
          reference: Array.from(applyHostStep(prep.q.hostStep, dequantize(refQ, prep.q.outQ), prep.q.output)),
          float: prep.float ? Array.from(inferFloat(prep.float, x)) : null,
          mismatches: null,
        },
      });
    }
    if (backend) {
      const xs = chunk.map((c) => c.xq);
      const ys = backend.inferMany ? await backend.inferMany(xs) : [];
      if (!backend.inferMany) for (const xq of xs) ys.push(await backend.infer(xq));
      chunk.forEach(({ r }, k) => {
        const { yq, cycles } = ys[k];
        r.deviceQ = yq;
        r.cycles = cycles;
        r.output = Array.from(applyHostStep(prep.q.hostStep, dequantize(yq, prep.q.outQ), prep.q.output));
        let mm = 0;
        for (let e = 0; e < r.referenceQ.length; e++) if (yq[e] !== r.referenceQ[e]) mm++;
        r.mismatches = mm;
      });
    }
    for (const { r } of chunk) each(r);
  }
}

/** Where the device first parts from the integer reference, for one input. */
export interface Divergence {
  /** The input (sample index). */
  input: number;
  /** The first layer whose int8 output differs (index into the program and its name). */
  layer: number;
  layer_name: string;
  /** Flat CHW index of the first differing element of that layer's output, and its values. */
  element: number;
  device: number;
  reference: number;
  /** device - reference, in LSBs of the layer's output scale. */
  error_lsb: number;
  /** Output elements of that layer that differ. */
  differing: number;
}

/**
 * Reads back every layer's activations for input `index` and finds the first layer
 * where the device differs from the integer reference. Null when the backend cannot read
 * layers back, or when every layer agrees on a re-run (an intermittent fault).
 */
export async function findDivergence(
  q: QModel,
  backend: InferenceBackend,
  index: number,
  xq: Int8Array,
): Promise<Divergence | null> {
  if (!backend.layerActivations) return null;
  const dev = await backend.layerActivations(xq);
  const ref = runInt(q, xq);
  for (let l = 0; l < ref.length; l++) {
    const d = dev[l];
    const r = ref[l];
    let first = -1;
    let differing = 0;
    for (let e = 0; e < r.length; e++)
      if (d[e] !== r[e]) {
        if (first < 0) first = e;
        differing++;
      }
    if (first >= 0)
      return {
        input: index,
        layer: l,
        layer_name: q.layers[l].name,
        element: first,
        device: d[first],
        reference: r[first],
        error_lsb: d[first] - r[first],
        differing,
      };
  }
  return null;
}

/** The link's counters for a report (null without a device or link). */
export interface LinkSummary {
  frames: number;
  bytes_out: number;
  bytes_in: number;
  retransmissions: number;
  timeouts: number;
  corrupt_replies: number;
}

function linkSummary(backend: InferenceBackend | null): LinkSummary | null {
  const s = backend?.linkStats;
  if (!s) return null;
  return {
    frames: s.requests,
    bytes_out: s.bytesOut,
    bytes_in: s.bytesIn,
    retransmissions: s.retransmissions,
    timeouts: s.timeouts,
    corrupt_replies: s.corruptReplies,
  };
}

async function diagnose(
  q: QModel,
  backend: InferenceBackend,
  samples: Samples,
  index: number,
): Promise<Divergence | null> {
  const size = numel(q.input);
  return findDivergence(
    q,
    backend,
    index,
    quantizeInput(q, samples.data.subarray(index * size, (index + 1) * size)),
  );
}

// ---- run ----

export interface RunResult {
  index: number;
  output: number[] | null;
  /** The device's class when there is a device, else the integer reference's. */
  prediction: number;
  reference_output: number[];
  float_output: number[] | null;
  reference_prediction: number;
  float_prediction: number | null;
  output_q: number[] | null;
  reference_output_q: number[];
  cycles: number | null;
}

export interface RunReport {
  results: RunResult[];
  summary: {
    inputs: number;
    mismatches: number | null;
    /** Inputs with at least one output element where the device differs (null without a device). */
    mismatched_inputs: number | null;
    /** The first mismatching input, traced to the first layer that differs. */
    first_divergence: Divergence | null;
    cycles_per_inference: number | null;
    /** Link counters over the whole command (upload included). */
    link: LinkSummary | null;
    /** Fraction of the inputs whose integer-reference class equals the float reference's. */
    int8_float_agreement: number | null;
    /** Largest |integer reference - float reference| over all outputs. */
    int8_float_max_abs_error: number | null;
    calibration: string;
  };
}

/** Per-input results as they come, for a stream (--jsonl) that need not hold them all. */
export interface ResultStream<R> {
  /** Called with each input's result, in input order, as soon as it is known. */
  onResult?: (result: R) => void;
  /** Keep the results in the report (default true; a stream may set false). */
  keepResults?: boolean;
}

export async function runModel(
  modelPath: string,
  inputPath: string,
  calibPath: string | undefined,
  openBackend: BackendFactory,
  warn: (message: string) => void,
  progress?: (done: number, total: number) => void,
  stream: ResultStream<RunResult> = {},
): Promise<RunReport> {
  // The input shape is known only after loading the model; read the inputs once.
  let samples: Samples | undefined;
  const prep = prepareModel(
    modelPath,
    calibPath,
    (shape) => (samples = readSamples(inputPath, shape, 'inputs')),
    warn,
  );
  samples ??= readSamples(inputPath, prep.q.input, 'inputs');
  const backend = await openBackend(prep.q);
  const results: RunResult[] = [];
  let mismatches = 0;
  let mismatchedInputs = 0;
  let firstBad = -1;
  let divergence: Divergence | null = null;
  let link: LinkSummary | null = null;
  let cycles = 0;
  let agree = 0;
  let maxErr = 0;
  const all = samples;
  try {
    await runSamples(prep, all, backend, (r) => {
      const refPred = argmax(r.reference);
      const floatPred = r.float ? argmax(r.float) : null;
      if (floatPred === refPred) agree++;
      if (r.float)
        for (let k = 0; k < r.reference.length; k++)
          maxErr = Math.max(maxErr, Math.abs(r.reference[k] - r.float[k]));
      mismatches += r.mismatches ?? 0;
      if (r.mismatches) {
        mismatchedInputs++;
        if (firstBad < 0) firstBad = r.index;
      }
      cycles += r.cycles ?? 0;
      progress?.(r.index + 1, all.count);
      const result: RunResult = {
        index: r.index,
        output: r.output,
        prediction: r.output ? argmax(r.output) : refPred,
        reference_output: r.reference,
        float_output: r.float,
        reference_prediction: refPred,
        float_prediction: floatPred,
        output_q: r.deviceQ ? Array.from(r.deviceQ) : null,
        reference_output_q: Array.from(r.referenceQ),
        cycles: r.cycles,
      };
      stream.onResult?.(result);
      if (stream.keepResults !== false) results.push(result);
    });
    if (backend && firstBad >= 0) divergence = await diagnose(prep.q, backend, all, firstBad);
    link = linkSummary(backend);
  } finally {
    await backend?.close();
  }
  return {
    results,
    summary: {
      inputs: samples.count,
      mismatches: backend ? mismatches : null,
      mismatched_inputs: backend ? mismatchedInputs : null,
      first_divergence: divergence,
      cycles_per_inference: backend ? cycles / samples.count : null,
      link,
      int8_float_agreement: prep.float ? agree / samples.count : null,
      int8_float_max_abs_error: prep.float ? maxErr : null,
      calibration: prep.q.source.calibration,
    },
  };
}

// ---- eval ----

export interface EvalReport {
  summary: {
    inputs: number;
    accuracy: { float: number | null; int8: number; device: number | null };
    mismatches: number | null;
    mismatched_inputs: number | null;
    first_divergence: Divergence | null;
    link: LinkSummary | null;
    /** Fraction of the inputs where the integer and the float reference pick the same class. */
    int8_float_agreement: number | null;
    cycles_per_inference: number | null;
    /**
     * Accuracy per class (null for a class with no inputs), and the confusion matrix:
     * rows the true label, columns the device's prediction (the integer reference's
     * without a device).
     */
    per_class: (number | null)[];
    confusion: number[][];
    /** Whose predictions per_class and confusion count. */
    predictions_of: 'device' | 'int8';
    dataset: string;
    calibration: string;
  };
  /**
   * With compareRules: the integer reference under other rounding rules (SPEC section 3):
   * accuracy, and output elements that differ from the project's rule.
   */
  rounding?: Record<string, { accuracy: number; differing_outputs: number; differing_inputs: number }>;
}

export interface LabelledSamples extends Samples {
  labels: ArrayLike<number>;
  name: string;
}

/** One input of an evaluation (a line of eval --jsonl). */
export interface EvalResult {
  index: number;
  label: number;
  /** The device's class, or the integer reference's without a device. */
  prediction: number;
  int8_prediction: number;
  float_prediction: number | null;
  /** Output elements where the device differs from the integer reference (null without a device). */
  mismatches: number | null;
}

export async function evalModel(
  modelPath: string,
  data: LabelledSamples,
  calibPath: string | undefined,
  openBackend: BackendFactory,
  warn: (message: string) => void,
  progress?: (done: number) => void,
  compareRules?: Record<string, RoundingRule>,
  stream: Pick<ResultStream<EvalResult>, 'onResult'> = {},
): Promise<EvalReport> {
  const prep = prepareModel(modelPath, calibPath, () => data, warn);
  if (numel(prep.q.input) !== data.data.length / data.count) {
    throw new InputError(
      `${modelPath}: the model input [${prep.q.input.join(', ')}] does not take ${data.name} samples of ${data.data.length / data.count} values`,
    );
  }
  const classes = numel(prep.q.output);
  for (let i = 0; i < data.count; i++) {
    const label = data.labels[i];
    if (!Number.isInteger(label) || label < 0 || label >= classes)
      throw new InputError(
        `${data.name}: label ${label} at index ${i} is not a class of the model (its output has ${classes} classes: 0 to ${classes - 1})`,
      );
  }
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  const backend = await openBackend(prep.q);
  let okFloat = 0;
  let okInt = 0;
  let okDev = 0;
  let agree = 0;
  let mismatches = 0;
  let mismatchedInputs = 0;
  let firstBad = -1;
  let divergence: Divergence | null = null;
  let link: LinkSummary | null = null;
  let cycles = 0;
  const size = numel(prep.q.input);
  const rules = Object.entries(compareRules ?? {});
  const rounding = Object.fromEntries(
    rules.map(([name]) => [name, { accuracy: 0, differing_outputs: 0, differing_inputs: 0 }]),
  );
  try {
    await runSamples(prep, data, backend, (r) => {
      const label = data.labels[r.index];
      if (rules.length > 0) {
        const xq = quantizeInput(prep.q, data.data.subarray(r.index * size, (r.index + 1) * size));
        for (const [name, rule] of rules) {
          const outs = runInt(prep.q, xq, rule);
          const y = outs[outs.length - 1];
          let d = 0;
          for (let k = 0; k < y.length; k++) if (y[k] !== r.referenceQ[k]) d++;
          const acc = rounding[name];
          acc.differing_outputs += d;
          if (d > 0) acc.differing_inputs++;
          if (argmax(y) === label) acc.accuracy++;
        }
      }
      const pi = argmax(r.referenceQ); // dequantization is monotonic: same argmax as int8
      if (pi === label) okInt++;
      const pf = r.float ? argmax(r.float) : null;
      if (pf === label) okFloat++;
      if (pf === pi) agree++;
      const pd = r.deviceQ ? argmax(r.deviceQ) : null;
      if (pd === label) okDev++;
      confusion[label][pd ?? pi]++;
      stream.onResult?.({
        index: r.index,
        label,
        prediction: pd ?? pi,
        int8_prediction: pi,
        float_prediction: pf,
        mismatches: r.mismatches,
      });
      mismatches += r.mismatches ?? 0;
      if (r.mismatches) {
        mismatchedInputs++;
        if (firstBad < 0) firstBad = r.index;
      }
      cycles += r.cycles ?? 0;
      progress?.(r.index + 1);
    });
    if (backend && firstBad >= 0) divergence = await diagnose(prep.q, backend, data, firstBad);
    link = linkSummary(backend);
  } finally {
    await backend?.close();
  }
  const n = data.count;
  return {
    summary: {
      inputs: n,
      accuracy: {
        float: prep.float ? okFloat / n : null,
        int8: okInt / n,
        device: backend ? okDev / n : null,
      },
      mismatches: backend ? mismatches : null,
      mismatched_inputs: backend ? mismatchedInputs : null,
      first_divergence: divergence,
      link,
      int8_float_agreement: prep.float ? agree / n : null,
      cycles_per_inference: backend ? cycles / n : null,
      per_class: confusion.map((row, c) => {
        const total = row.reduce((a, b) => a + b, 0);
        return total === 0 ? null : row[c] / total;
      }),
      confusion,
      predictions_of: backend ? 'device' : 'int8',
      dataset: data.name,
      calibration: prep.q.source.calibration,
    },
    ...(rules.length > 0
      ? {
          rounding: Object.fromEntries(
            Object.entries(rounding).map(([k, v]) => [k, { ...v, accuracy: v.accuracy / n }]),
          ),
        }
      : {}),
  };
}
