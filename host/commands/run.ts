// nnfpga run MODEL --input X.npy [--calib CALIB.npy] [TARGET] [--json] (host/run.ts).
import type { Command } from 'commander';
import { runModel, type RunReport } from '../run.ts';
import { openTarget, withTarget, type TargetOptions } from '../target.ts';
import { emit, log, withCommon, type CommonOptions, type Register } from './common.ts';

interface RunOptions extends CommonOptions, TargetOptions {
  input: string;
  calib?: string;
}

const fmt = (v: number[] | null): string => (v ? v.map((x) => x.toFixed(3)).join(' ') : '-');

export function formatRun(r: RunReport): string {
  const lines = r.results.map((x) => {
    const dev = x.output ? `device ${argmaxText(x.output)} ` : '';
    return `#${x.index}: ${dev}int8 ${x.reference_prediction} float ${x.float_prediction ?? '-'}  [${fmt(x.reference_output)}]`;
  });
  const s = r.summary;
  lines.push(
    `${s.inputs} inputs; device mismatches: ${s.mismatches ?? 'no device'}; cycles/inference: ${s.cycles_per_inference ?? '-'}; ` +
      `int8 = float class on ${s.int8_float_agreement ?? '-'}/${s.inputs}; max |int8 - float| ${s.int8_float_max_abs_error?.toFixed(4) ?? '-'}`,
  );
  return lines.join('\n');
}

function argmaxText(v: number[]): number {
  return v.indexOf(Math.max(...v));
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
        ),
    ),
  ).action(async (model: string, opts: RunOptions) => {
    const report = await runModel(model, opts.input, opts.calib, (q) => openTarget(opts, q), log);
    emit(opts, report, () => formatRun(report));
  });
};
