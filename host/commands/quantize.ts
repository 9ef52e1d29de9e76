// nnfpga quantize MODEL --calib CALIB.npy -o OUT: post-training int8 quantization
// (host/quant/quantize.ts), written as a versioned quantized model (host/quant/qmodel-io.ts).
import { dirname, relative, resolve } from 'node:path';
import { InputError } from '../errors.ts';
import { readSamples } from '../data/npy.ts';
import type { FloatModel } from '../ir.ts';
import { loadModel } from '../model.ts';
import { saveQModel } from '../quant/qmodel-io.ts';
import { calibrate, quantizeModel } from '../quant/quantize.ts';
import type { QModel } from '../quant/types.ts';
import { formatSqnr, layerSqnr, type SqnrReport } from '../quant/sqnr.ts';
import { emit, type Register } from './common.ts';
import { createProgress } from './progress.ts';

/** SQNR per layer (host/quant/sqnr.ts) of a quantized model over its calibration samples. */
export function quantizeReport(modelPath: string, q: QModel, calibPath: string): SqnrReport {
  const m = loadModel(modelPath);
  if (m.kind !== 'onnx') throw new InputError(`${modelPath}: --report needs the ONNX model`);
  const calib = readSamples(calibPath, m.float.input, 'calibration data');
  return layerSqnr(q, m.float, calib.data, calib.count);
}

/** Calibrates `float` on the samples of `calibPath` and quantizes it. */
export function quantizeWith(float: FloatModel, calibPath: string, modelPathForRecord: string): QModel {
  const calib = readSamples(calibPath, float.input, 'calibration data');
  const stats = calibrate(float, calib.data, calib.count);
  return quantizeModel(float, stats, { model: modelPathForRecord, calibration: calibPath });
}

export function quantizeFile(modelPath: string, calibPath: string, outPath: string): QModel {
  const m = loadModel(modelPath);
  if (m.kind !== 'onnx') {
    throw new InputError(`${modelPath}: is already a quantized model; quantize the ONNX model it came from`);
  }
  // The source path is recorded relative to the output's folder so that the pair can move together.
  const rel = relative(dirname(resolve(outPath)), resolve(modelPath));
  const q = quantizeWith(m.float, calibPath, rel);
  saveQModel(outPath, q);
  return q;
}

export const registerQuantize: Register = (program) => {
  program
    .command('quantize')
    .description('post-training int8 quantization (per-channel weights, per-tensor min/max activations)')
    .argument('<MODEL>', 'an .onnx model')
    .requiredOption('--calib <CALIB.npy>', 'calibration samples, float32 [N, ...input shape]')
    .requiredOption('-o, --output <OUT>', 'quantized model to write (e.g. build/model.nnq.json)')
    .option('--report', 'also: SQNR and max error per layer, int8 against float, on the calibration samples')
    .action((model, opts, cmd) => {
      const q = quantizeFile(model, opts.calib, opts.output);
      createProgress().log(
        `quantized ${model} with ${q.source.calibrationSamples} calibration samples -> ${opts.output}`,
      );
      const sqnr = opts.report ? quantizeReport(model, q, opts.calib) : null;
      emit(
        cmd.optsWithGlobals(),
        {
          output: opts.output,
          layers: q.layers.map((l) => ({
            name: l.name,
            kind: l.kind,
            input_scale: l.inQ.scale,
            input_zero_point: l.inQ.zeroPoint,
            output_scale: l.outQ.scale,
            output_zero_point: l.outQ.zeroPoint,
            lo: l.lo,
            hi: l.hi,
          })),
          calibration: { file: opts.calib, samples: q.source.calibrationSamples, method: 'minmax' },
          ...(sqnr ? { sqnr } : {}),
        },
        () =>
          [
            ...q.layers.map(
              (l) =>
                `${l.name.padEnd(24)} ${l.kind.padEnd(8)} out scale ${l.outQ.scale.toPrecision(6)} zp ${l.outQ.zeroPoint} clamp [${l.lo}, ${l.hi}]`,
            ),
            ...(sqnr ? ['', formatSqnr(sqnr)] : []),
          ].join('\n'),
      );
    });
};
