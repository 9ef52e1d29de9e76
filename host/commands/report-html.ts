// nnfpga report MODEL --input X.npy [--labels Y.npy] [--calib C.npy] [--board B]
//   [--animate LAYER] [TARGET] -o FILE.html: one self-contained HTML report
// (host/report/: data.ts gathers the measurements, html.ts renders the page).
import { writeFileSync } from 'node:fs';
import { collectReport } from '../report/data.ts';
import { renderReport } from '../report/html.ts';
import { emit, type Register } from './common.ts';
import { createProgress } from './progress.ts';
import { addTargetOptions } from './target-options.ts';

export const registerReport: Register = (program) => {
  addTargetOptions(
    program
      .command('report')
      .description(
        'one self-contained HTML report: layer arithmetic, fit, roofline, per-layer cycles and SQNR, confusion matrix, wire vs compute, build figures, the array animated from a Verilator trace',
      )
      .argument('<MODEL>', 'an .onnx model or a quantized model from `nnfpga quantize`')
      .requiredOption('--input <X.npy>', 'float32 inputs [N, ...input shape]')
      .requiredOption('-o, --output <FILE.html>', 'the report to write')
      .option('--labels <Y.npy>', 'integer labels [N]: accuracy and the confusion matrix')
      .option(
        '--calib <CALIB.npy>',
        'calibration samples for an ONNX model (default: the inputs, with a warning)',
      )
      .option(
        '--animate <LAYER>',
        "animate the array computing this layer (name or index) from the RTL's trace",
      ),
  ).action(async (model, opts, cmd) => {
    const t0 = performance.now();
    const progress = createProgress();
    try {
      const data = await collectReport(model, { ...opts, onProgress: progress.onProgress }, progress.log);
      writeFileSync(opts.output, renderReport(data));
      progress.log(`report written to ${opts.output} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      emit(cmd.optsWithGlobals(), data, () => `wrote ${opts.output}`);
    } finally {
      progress.stop();
    }
  });
};
