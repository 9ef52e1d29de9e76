// nnfpga eval MODEL (--dataset fashion-mnist | --inputs X.npy --labels Y.npy) [--limit N]
//   [--calib C.npy] [--data-dir D] [--reference-only] [--compare-rounding] [TARGET]
//   [--json | --jsonl]: accuracy of the float reference, the integer reference and the
// device on labelled data, per class, and the confusion matrix (host/run.ts).
import { Option } from '@commander-js/extra-typings';
import { UsageError } from '../errors.ts';
import { DEFAULT_FASHION_MNIST_DIR, loadFashionMnistTest } from '../data/fashion-mnist.ts';
import { readLabelledNpy } from '../data/npy.ts';
import { evalModel, type EvalReport, type LabelledSamples } from '../run.ts';
import { onnxruntimeRule, tfliteRule } from '../quant/rounding.ts';
import { openTarget } from '../target.ts';
import { plain, type Colors } from './color.ts';
import { emit, requireTogether, type Register } from './common.ts';
import { jsonLine } from './json.ts';
import { integer } from './parse.ts';
import { createProgress } from './progress.ts';
import { verdictLines } from './report.ts';
import { addTargetOptions } from './target-options.ts';

const DATASETS = ['fashion-mnist'] as const;

const pct = (v: number | null): string => (v === null ? '-' : `${(100 * v).toFixed(2)} %`);

/**
 * The confusion matrix as text: rows the true label, columns the prediction, the
 * diagonal in colour; the last column is the class's accuracy.
 */
export function formatConfusion(
  confusion: number[][],
  perClass: (number | null)[],
  c: Colors = plain,
): string[] {
  const w = Math.max(4, ...confusion.flat().map((v) => String(v).length)) + 1;
  const acc = (v: number | null) => (v === null ? '-' : `${(100 * v).toFixed(1)} %`).padStart(10);
  const head = `${'true\\pred'.padEnd(10)}${confusion.map((_, j) => String(j).padStart(w)).join('')}${'accuracy'.padStart(10)}`;
  const rows = confusion.map(
    (row, i) =>
      `${String(i).padEnd(10)}${row
        .map((v, j) => {
          const cell = String(v).padStart(w);
          return i === j ? c.green(cell) : v > 0 ? c.yellow(cell) : c.dim(cell);
        })
        .join('')}${acc(perClass[i])}`,
  );
  return [head, ...rows];
}

export function formatEval(r: EvalReport, c: Colors = plain): string {
  const s = r.summary;
  const of = s.predictions_of === 'device' ? 'the device' : 'the integer reference (no device)';
  return [
    `${s.dataset}: ${s.inputs} inputs (calibration: ${s.calibration})`,
    `accuracy  float ${pct(s.accuracy.float)}  int8 ${pct(s.accuracy.int8)}  device ${pct(s.accuracy.device)}`,
    `int8 and float pick the same class on ${pct(s.int8_float_agreement)} of the inputs; cycles/inference: ${s.cycles_per_inference ?? '-'}`,
    ...verdictLines(s, c),
    `confusion matrix and accuracy per class (${of}; rows: true label, columns: prediction):`,
    ...formatConfusion(s.confusion, s.per_class, c),
    ...Object.entries(r.rounding ?? {}).map(
      ([name, v]) =>
        `${name} rounding: int8 ${pct(v.accuracy)}, ${v.differing_outputs} output values differ from nnfpga's rule on ${v.differing_inputs} inputs`,
    ),
  ].join('\n');
}

export const registerEval: Register = (program) => {
  addTargetOptions(
    program
      .command('eval')
      .description(
        'accuracy of the float reference, the integer reference and the device on labelled data: overall, per class, confusion matrix',
      )
      .argument('<MODEL>', 'an .onnx model or a quantized model from `nnfpga quantize`')
      .addOption(
        new Option('--dataset <NAME>', 'a data set nnfpga reads itself (its test set)')
          .choices(DATASETS)
          .conflicts(['inputs', 'labels']),
      )
      .option('--inputs <X.npy>', 'labelled inputs of your own: float32 [N, ...input shape] (with --labels)')
      .option('--labels <Y.npy>', 'their labels: integers, shape [N] (with --inputs)')
      .addOption(new Option('--limit <N>', 'only the first N inputs').argParser(integer(1)))
      .option(
        '--calib <CALIB.npy>',
        'calibration samples for an ONNX model (default: the evaluated inputs, with a warning)',
      )
      .option('--data-dir <DIR>', 'with --dataset: folder of the IDX files', DEFAULT_FASHION_MNIST_DIR)
      .option('--reference-only', 'compute the references only, even if a TARGET is given')
      .option(
        '--compare-rounding',
        "also run the integer reference with TFLite's and ONNX Runtime's rounding",
      )
      .option('--jsonl', 'one JSON object per line per input, then one summary line'),
  ).action(async (model, opts, cmd) => {
    const g = cmd.optsWithGlobals();
    if (g.json && opts.jsonl) throw new UsageError('give either --json or --jsonl, not both');
    requireTogether(opts, [
      ['inputs', 'labels', '--inputs', '--labels Y.npy'],
      ['labels', 'inputs', '--labels', '--inputs X.npy'],
    ]);
    if (cmd.getOptionValueSource('dataDir') === 'cli' && !opts.dataset)
      throw new UsageError('--data-dir needs --dataset fashion-mnist');
    if (!opts.dataset && !opts.inputs)
      throw new UsageError(
        'give the labelled data: --dataset fashion-mnist, or --inputs X.npy --labels Y.npy',
      );

    let data: LabelledSamples;
    if (opts.inputs && opts.labels) {
      const d = readLabelledNpy(opts.inputs, opts.labels, opts.limit);
      data = { ...d, name: opts.inputs };
    } else {
      const set = loadFashionMnistTest(opts.dataDir, opts.limit);
      data = { data: set.images, count: set.count, labels: set.labels, name: 'fashion-mnist test set' };
    }
    const progress = createProgress();
    try {
      const report = await evalModel(
        model,
        data,
        opts.calib,
        (q) =>
          opts.referenceOnly
            ? Promise.resolve(null)
            : openTarget({ ...opts, onProgress: progress.onProgress }, q),
        progress.log,
        (done) => progress.onProgress({ task: 'eval', done, total: data.count, unit: 'inputs' }),
        opts.compareRounding ? { tflite: tfliteRule, onnxruntime: onnxruntimeRule } : undefined,
        opts.jsonl ? { onResult: (r) => process.stdout.write(`${jsonLine(r)}\n`) } : undefined,
      );
      progress.stop();
      if (opts.jsonl)
        process.stdout.write(`${jsonLine({ summary: report.summary, rounding: report.rounding })}\n`);
      else emit(g, report, (c) => formatEval(report, c));
      // A device that differs from the integer reference is a device failure (SPEC: exit 2).
      if (report.summary.mismatches) process.exitCode = 2;
    } finally {
      progress.stop();
    }
  });
};
