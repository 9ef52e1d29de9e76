// Everything the HTML report shows, gathered from measurements: the model's layer
// arithmetic (host/info.ts), the fit check and estimates (host/board-info.ts), the run
// on the device with its counters and link traffic (host/profile.ts), the quantization
// error (host/quant/sqnr.ts), accuracy and the confusion matrix when labels are given,
// the last board build (build/BOARD/build.json) and the array trace (animate.ts). The
// page embeds this object as JSON and shows it; `report --json` prints the same object.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BOARDS } from '../board/boards.ts';
import type { BuildResult } from '../board/build.ts';
import { boardInfo, resolveTarget, type BoardInfo, type TargetConfig } from '../board-info.ts';
import { compile } from '../compiler/compile.ts';
import { readNpy, readSamples } from '../data/npy.ts';
import { InputError } from '../errors.ts';
import { floatModelInfo, qModelInfo } from '../info.ts';
import { buildProfile, profiling, type Profile } from '../profile.ts';
import { quantizeInput } from '../quant/intref.ts';
import { layerSqnr, type SqnrReport } from '../quant/sqnr.ts';
import { prepareModel, runModel, runSamples } from '../run.ts';
import { argmax } from '../ref/float.ts';
import { REPO_ROOT } from '../sim/verilator.ts';
import { openTarget, type TargetOptions } from '../target.ts';
import { pickLayer, traceLayer, type ArrayTrace } from './animate.ts';

export interface ReportOptions extends TargetOptions {
  input: string;
  labels?: string;
  calib?: string;
  animate?: string;
}

export interface EvalData {
  /** Who predicted: the device, or the integer reference without a target. */
  predicted_by: 'device' | 'int8';
  accuracy: { float: number | null; int8: number; device: number | null };
  per_class: (number | null)[];
  /** confusion[true][predicted] counts. */
  confusion: number[][];
}

export interface BuildFigures {
  board: string;
  device: string;
  fmax_mhz: number;
  target_mhz: number;
  timing_met: boolean;
  resources: BuildResult['resources'];
  file: string;
}

export interface ReportData {
  generator: string;
  model: string;
  input: string;
  inputs: number;
  /** Where it ran: 'simulated board 8x8', 'icebreaker top (simulated)', a port, or null. */
  device: string | null;
  calibration: string;
  /** The configuration's fit check and per-layer estimates (info --board). */
  info: BoardInfo;
  /** Device counters and wire split of one inference (null without a target). */
  profile: Profile | null;
  sqnr: SqnrReport | null;
  run: {
    mismatches: number | null;
    cycles_per_inference: number | null;
    int8_float_agreement: number | null;
  };
  eval: EvalData | null;
  builds: BuildFigures[];
  animation: ArrayTrace | null;
}

function readBuild(board: string): BuildFigures | null {
  const file = path.join(REPO_ROOT, 'build', board, 'build.json');
  if (!existsSync(file)) return null;
  try {
    const b = JSON.parse(readFileSync(file, 'utf8')) as BuildResult;
    return {
      board: b.board,
      device: b.device,
      fmax_mhz: b.fmax_mhz,
      target_mhz: b.target_mhz,
      timing_met: b.timing_met,
      resources: b.resources,
      file: path.relative(REPO_ROOT, file),
    };
  } catch {
    return null;
  }
}

function readLabels(file: string, count: number): number[] {
  const a = readNpy(file);
  const labels = Array.from(a.data as ArrayLike<number | bigint>, Number);
  if (a.shape.length !== 1 || labels.length !== count)
    throw new InputError(
      `${file}: labels must have shape [${count}] (one int per input), got [${a.shape.join(', ')}]`,
    );
  if (!labels.every((v) => Number.isInteger(v) && v >= 0))
    throw new InputError(`${file}: labels must be non-negative integers`);
  return labels;
}

/** confusion[true][pred] and per-class accuracy (null for a class with no input). */
export function confusionOf(
  labels: number[],
  predictions: number[],
  classes: number,
): Omit<EvalData, 'predicted_by' | 'accuracy'> {
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  labels.forEach((t, i) => {
    if (t < classes) confusion[t][predictions[i]]++;
  });
  const per_class = confusion.map((row, t) => {
    const all = row.reduce((a, b) => a + b, 0);
    return all === 0 ? null : row[t] / all;
  });
  return { per_class, confusion };
}

/** The configuration the report describes: the device's when one is given, else --board or sim8. */
function estimateTarget(opts: ReportOptions): TargetConfig {
  if (opts.port !== undefined) return resolveTarget(undefined, 'sim8'); // replaced by the device's after opening
  return resolveTarget(opts.board, opts.board === undefined ? 'sim8' : undefined);
}

export async function collectReport(
  modelPath: string,
  opts: ReportOptions,
  say: (m: string) => void,
): Promise<ReportData> {
  const onDevice = !!opts.sim || opts.port !== undefined;
  let samplesRead: ReturnType<typeof readSamples> | undefined;
  const prep = prepareModel(
    modelPath,
    opts.calib,
    (shape) => (samplesRead = readSamples(opts.input, shape, 'inputs')),
    say,
  );
  const samples = samplesRead ?? readSamples(opts.input, prep.q.input, 'inputs');
  const labels = opts.labels ? readLabels(opts.labels, samples.count) : null;
  let target = estimateTarget(opts);
  // usage errors before any work: the layer to animate must exist and use the array
  let animateIndex: number | null = null;
  if (opts.animate !== undefined && opts.port === undefined)
    animateIndex = pickLayer(compile(prep.q, target.config), opts.animate);

  let profile: Profile | null = null;
  let run: ReportData['run'] = { mismatches: null, cycles_per_inference: null, int8_float_agreement: null };
  let predictions: number[] = [];
  let device: string | null = null;
  if (onDevice) {
    say(`running ${samples.count} inputs on the ${opts.sim ? 'simulated board' : `board at ${opts.port}`}`);
    const prof = profiling((q) => openTarget(opts, q));
    // the quantized model of this run (runModel prepares it again, the same way)
    const report = await runModel(modelPath, opts.input, opts.calib, prof.factory, () => {});
    const dev = prof.result();
    if (!dev) throw new Error('report: the device produced no profile');
    profile = buildProfile(dev, dev.model, prep.float, samples);
    const info = dev.backend.device.info;
    device = opts.sim
      ? `${opts.board ? `${opts.board} board top` : 'simulated board'} in Verilator, ${info.dim}x${info.dim}`
      : `board at ${opts.port}, ${info.dim}x${info.dim}`;
    target = {
      name: opts.board ?? (opts.sim ? 'sim8' : `device at ${opts.port}`),
      config: dev.backend.image.config,
      link: { maxPayload: info.maxPayload, clocksPerBit: info.clocksPerBit, clockHz: info.clockHz },
    };
    run = {
      mismatches: report.summary.mismatches,
      cycles_per_inference: report.summary.cycles_per_inference,
      int8_float_agreement: report.summary.int8_float_agreement,
    };
    predictions = report.results.map((r) => r.prediction);
    if (opts.animate !== undefined && animateIndex === null)
      animateIndex = pickLayer(dev.backend.image, opts.animate);
  }

  const info = prep.float ? floatModelInfo(prep.float) : qModelInfo(prep.q, modelPath);
  info.model = modelPath;
  const boardFit = boardInfo(prep.q, info, target, prep.q.source.calibration);
  const sqnr = prep.float ? layerSqnr(prep.q, prep.float, samples.data, samples.count) : null;

  let evalData: EvalData | null = null;
  if (labels) {
    const classes = Math.max(
      prep.q.output.reduce((a, b) => a * b, 1),
      ...labels.map((l) => l + 1),
    );
    const int8 = [] as number[];
    const flt = [] as number[];
    await runSamples(prep, samples, null, (r) => {
      int8.push(argmax(r.referenceQ));
      if (r.float) flt.push(argmax(r.float));
    });
    if (!onDevice) predictions = int8;
    const acc = (p: number[]) => p.filter((v, i) => v === labels[i]).length / labels.length;
    evalData = {
      predicted_by: onDevice ? 'device' : 'int8',
      accuracy: {
        float: flt.length ? acc(flt) : null,
        int8: acc(int8),
        device: onDevice ? acc(predictions) : null,
      },
      ...confusionOf(labels, predictions, classes),
    };
  }

  let animation: ArrayTrace | null = null;
  if (animateIndex !== null) {
    const image = compile(prep.q, target.config);
    say(`tracing layer ${image.layers[animateIndex].name} of the RTL in Verilator (VCD window)`);
    const x0 = quantizeInput(prep.q, samples.data.subarray(0, samples.data.length / samples.count));
    animation = await traceLayer(image, x0, prep.q.inQ.zeroPoint, animateIndex);
  }

  const boards = opts.board ? [opts.board] : Object.keys(BOARDS);
  return {
    generator: 'nnfpga report',
    model: modelPath,
    input: opts.input,
    inputs: samples.count,
    device,
    calibration: prep.q.source.calibration,
    info: boardFit,
    profile,
    sqnr,
    run,
    eval: evalData,
    builds: boards.map(readBuild).filter((b): b is BuildFigures => b !== null),
    animation,
  };
}
