// nnfpga run MODEL --input X.npy [--calib CALIB.npy] [TARGET] [--json] (host/run.ts).
import type { Command } from 'commander';
import { runModel, type RunReport } from '../run.ts';
import { openTarget, withTarget, type TargetOptions } from '../target.ts';
import { progressBar } from './progress.ts';
import { verdictLines } from './report.ts';
import { emit, log, withCommon, type CommonOptions, type Register } from './common.ts';
import { InputError } from '../errors.ts';
import { formatProfile, profileRun, profiling, type Profile } from '../profile.ts';

interface RunOptions extends CommonOptions, TargetOptions {
  input: string;
  calib?: string;
  profile?: boolean;
}

const fmt = (v: number[] | null): string => (v ? v.map((x) => x.toFixed(3)).join(' ') : '-');

/** Per-input lines shown before the summary (all of them with --verbose). */
const SHOWN = 10;

export function formatRun(r: RunReport, all = false): string {
  const shown = all ? r.results : r.results.slice(0, SHOWN);
  const lines = shown.map((x) => {
    const dev = x.output ? `device ${x.prediction} ` : '';
    return `#${x.index}: ${dev}int8 ${x.reference_prediction} float ${x.float_prediction ?? '-'}  [${fmt(x.output ?? x.reference_output)}]`;
  });
  if (shown.length < r.results.length)
    lines.push(
      `... ${r.results.length - shown.length} more (--verbose shows every input, --json every value)`,
    );
  const s = r.summary;
  lines.push(
    `${s.inputs} inputs; cycles/inference: ${s.cycles_per_inference ?? '-'}; ` +
      `int8 = float class on ${s.int8_float_agreement ?? '-'}/${s.inputs}; max |int8 - float| ${s.int8_float_max_abs_error?.toFixed(4) ?? '-'}`,
    ...verdictLines(s),
  );
  return lines.join('\n');
}

export const registerRun: Register = (program: Command) => {
  withTarget(
    withCommon(
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
        .option(
          '--profile',
          'also: per-layer cycles (device counters) beside estimate and ideal, SQNR per layer, wire/compute split',
        ),
    ),
  ).action(async (model: string, opts: RunOptions) => {
    if (opts.profile && !opts.sim && opts.port === undefined)
      throw new InputError('--profile reads the device counters: give a TARGET (--sim or --port PATH)');
    const prof = opts.profile ? profiling((q) => openTarget(opts, q)) : null;
    const bar = process.stderr.isTTY && !opts.json ? progressBar('infer', 0, 'inputs') : null;
    try {
      const report = await runModel(
        model,
        opts.input,
        opts.calib,
        prof ? prof.factory : (q) => openTarget(opts, q),
        log,
        (done, total) => bar?.update(done, total),
      );
      bar?.stop();
      const dev = prof?.result();
      const profile: Profile | null = dev ? profileRun(dev, model, opts.input) : null;
      const out = profile ? { ...report, profile } : report;
      emit(opts, out, () =>
        [formatRun(report, opts.verbose), ...(profile ? [formatProfile(profile)] : [])].join('\n'),
      );
      // A device that differs from the integer reference is a device failure (SPEC: exit 2).
      if (report.summary.mismatches) process.exitCode = 2;
    } finally {
      bar?.stop();
    }
  });
};
