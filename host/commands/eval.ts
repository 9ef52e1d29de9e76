// nnfpga eval MODEL --dataset fashion-mnist [--limit N] [--calib C.npy] [--data-dir D]
//   [--reference-only] [TARGET] [--json]: accuracy of the float reference, the integer
// reference and the device on a labelled data set (host/run.ts).
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { InputError } from '../errors.ts';
import { DEFAULT_FASHION_MNIST_DIR, loadFashionMnistTest } from '../data/fashion-mnist.ts';
import { evalModel, type EvalReport } from '../run.ts';
import { onnxruntimeRule, tfliteRule } from '../quant/rounding.ts';
import { openTarget, withTarget, type TargetOptions } from '../target.ts';
import { verdictLines } from './report.ts';
import { emit, log, withCommon, type CommonOptions, type Register } from './common.ts';

interface EvalOptions extends CommonOptions, TargetOptions {
  dataset: string;
  limit?: string;
  calib?: string;
  dataDir: string;
  referenceOnly?: boolean;
  compareRounding?: boolean;
}

const pct = (v: number | null): string => (v === null ? '-' : `${(100 * v).toFixed(2)} %`);

export function formatEval(r: EvalReport): string {
  const s = r.summary;
  return [
    `${s.dataset}: ${s.inputs} inputs (calibration: ${s.calibration})`,
    `accuracy  float ${pct(s.accuracy.float)}  int8 ${pct(s.accuracy.int8)}  device ${pct(s.accuracy.device)}`,
    `int8 and float agree on ${pct(s.int8_float_agreement)} of the inputs; cycles/inference: ${s.cycles_per_inference ?? '-'}`,
    ...verdictLines(s),
    ...Object.entries(r.rounding ?? {}).map(
      ([name, v]) =>
        `${name} rounding: int8 ${pct(v.accuracy)}, ${v.differing_outputs} output values differ from nnfpga's rule on ${v.differing_inputs} inputs`,
    ),
  ].join('\n');
}

function parseLimit(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new InputError(`--limit ${v}: give a positive whole number of images`);
  return n;
}

export const registerEval: Register = (program: Command) => {
  withTarget(
    withCommon(
      program
        .command('eval')
        .description(
          'accuracy of the float reference, the integer reference and the device on a labelled data set',
        )
        .argument('<MODEL>', 'an .onnx model or a quantized model from `nnfpga quantize`')
        .requiredOption('--dataset <NAME>', 'the data set: fashion-mnist (its test set)')
        .option('--limit <N>', 'only the first N images')
        .option(
          '--calib <CALIB.npy>',
          'calibration samples for an ONNX model (default: the evaluated images, with a warning)',
        )
        .option('--data-dir <DIR>', 'folder of the IDX files', DEFAULT_FASHION_MNIST_DIR)
        .option('--reference-only', 'compute the references only, even if a TARGET is given')
        .option(
          '--compare-rounding',
          "also run the integer reference with TFLite's and ONNX Runtime's rounding",
        ),
    ),
  ).action(async (model: string, opts: EvalOptions) => {
    if (opts.dataset !== 'fashion-mnist') {
      throw new InputError(`--dataset ${opts.dataset}: unknown data set; the supported one is fashion-mnist`);
    }
    const set = loadFashionMnistTest(opts.dataDir, parseLimit(opts.limit));
    const bar =
      process.stderr.isTTY && !opts.json
        ? new cliProgress.SingleBar(
            { stream: process.stderr, etaBuffer: 200 },
            cliProgress.Presets.shades_classic,
          )
        : null;
    bar?.start(set.count, 0);
    try {
      const report = await evalModel(
        model,
        { data: set.images, count: set.count, labels: set.labels, name: 'fashion-mnist test set' },
        opts.calib,
        (q) => (opts.referenceOnly ? Promise.resolve(null) : openTarget(opts, q)),
        log,
        (done) => {
          if (done % 100 === 0 || done === set.count) bar?.update(done);
        },
        opts.compareRounding ? { tflite: tfliteRule, onnxruntime: onnxruntimeRule } : undefined,
      );
      bar?.stop();
      emit(opts, report, () => formatEval(report));
      // A device that differs from the integer reference is a device failure (SPEC: exit 2).
      if (report.summary.mismatches) process.exitCode = 2;
    } finally {
      bar?.stop();
    }
  });
};
