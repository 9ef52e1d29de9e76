// nnfpga run MODEL --input X.npy [--calib CALIB.npy] [TARGET] [--json | --jsonl] (host/run.ts).
import { UsageError } from '../errors.ts';
import { formatProfile, profileRun, profiling, type Profile } from '../profile.ts';
import { runModel, type RunReport } from '../run.ts';
import { openTarget } from '../target.ts';
import { plain, type Colors } from './color.ts';
import { emit, type Register } from './common.ts';
import { jsonLine } from './json.ts';
import { createProgress } from './progress.ts';
import { verdictLines } from './report.ts';
import { addTargetOptions } from './target-options.ts';

const fmt = (v: number[] | null): string => (v ? v.map((x) => x.toFixed(3)).join(' ') : '-');
const pct = (v: number): string => `${(100 * v).toFixed(1)} %`;

/** Per-input lines shown before the summary (all of them with --verbose). */
const SHOWN = 10;

export function formatRun(r: RunReport, opts: { all?: boolean; colors?: Colors } = {}): string {
  const c = opts.colors ?? plain;
  const shown = opts.all ? r.results : r.results.slice(0, SHOWN);
  const lines = shown.map((x) => {
    const dev = x.output ? `device ${x.prediction} ` : '';
    return `#${x.index}: ${dev}int8 ${x.reference_prediction} float ${x.float_prediction ?? '-'}  [${fmt(x.output ?? x.reference_output)}]`;
  });
  if (shown.length < r.results.length)
    lines.push(
      c.dim(`... ${r.results.length - shown.length} more (--verbose shows every input, --json every value)`),
    );
  const s = r.summary;
  const agree =
    s.int8_float_agreement === null
      ? 'int8 and float: no float reference'
      : `int8 and float pick the same class on ${pct(s.int8_float_agreement)} (${Math.round(s.int8_float_agreement * s.inputs)}/${s.inputs})`;
  lines.push(
    `${s.inputs} inputs; cycles/inference: ${s.cycles_per_inference ?? '-'}; ${agree}; ` +
      `max |int8 - float| ${s.int8_float_max_abs_error?.toFixed(4) ?? '-'}`,
    ...verdictLines(s, c),
  );
  return lines.join('\n');
}

export const registerRun: Register = (program) => {
  addTargetOptions(
    program
      .command('run')
      .description(
        'run every sample of X on the accelerator and compare with the integer and float references',
      )
      .argument('<MODEL>', 'an .onnx model or a quantized model from `nnfpga quantize`')
      .requiredOption('--input <X.npy>', 'float32 inputs [N, ...input shape] or one sample')
      .option(
        '--calib <CALIB.npy>',
        'calibration samples for an ONNX model (default: the inputs, with a warning)',
      )
      .option('--jsonl', 'one JSON object per line per input, then one summary line')
      .option(
        '--profile',
        'also: per-layer cycles (device counters) beside estimate and ideal, SQNR per layer, wire/compute split',
      ),
  ).action(async (model, opts, cmd) => {
    const g = cmd.optsWithGlobals();
    if (g.json && opts.jsonl) throw new UsageError('give either --json or --jsonl, not both');
    if (opts.profile && !opts.sim && opts.port === undefined)
      throw new UsageError('--profile reads the device counters: give a TARGET (--sim or --port PATH)');
    const progress = createProgress();
    const open: Parameters<typeof profiling>[0] = (q) =>
      openTarget({ ...opts, onProgress: progress.onProgress }, q);
    const prof = opts.profile ? profiling(open) : null;
    try {
      const report = await runModel(
        model,
        opts.input,
        opts.calib,
        prof ? prof.factory : open,
        progress.log,
        (done, total) => progress.onProgress({ task: 'infer', done, total, unit: 'inputs' }),
        opts.jsonl
          ? { onResult: (r) => process.stdout.write(`${jsonLine(r)}\n`), keepResults: false }
          : undefined,
      );
      progress.stop();
      const dev = prof?.result();
      const profile: Profile | null = dev ? profileRun(dev, model, opts.input) : null;
      if (opts.jsonl)
        process.stdout.write(`${jsonLine({ summary: report.summary, ...(profile ? { profile } : {}) })}\n`);
      else
        emit(g, profile ? { ...report, profile } : report, (c) =>
          [
            formatRun(report, { all: g.verbose, colors: c }),
            ...(profile ? [formatProfile(profile)] : []),
          ].join('\n'),
        );
      // A device that differs from the integer reference is a device failure (SPEC: exit 2).
      if (report.summary.mismatches) process.exitCode = 2;
    } finally {
      progress.stop();
    }
  });
};
