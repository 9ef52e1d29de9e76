// What each board runs in the board-top tests (RTL and synthesised netlist): the
// iCEBreaker holds cnn_a; the HX8K's 4 KiB memories hold neither example model, so it
// runs a small generated conv net (stride 2, padding, a dense layer).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { RunReport } from '../../host/run.ts';
import { encodeNpyFloat32 } from '../../host/data/npy.ts';
import { firstInputs, nnfpga } from '../e2e/cli.ts';
import { fixture, randomArray, tempDir, writeModel } from '../host/helpers.ts';
import { mlperfModels } from '../../host/bench/mlperf.ts';
import { generatedModels } from '../host/models.ts';

export interface BoardWorkload {
  model: string; // ONNX file
  inputs: string; // .npy
  calib: string[]; // --calib arguments
  n: number; // samples in inputs
}

/** BOARD's workload with its first `n` samples. */
export function boardWorkload(board: string, n: number): BoardWorkload {
  if (board === 'icebreaker') {
    return {
      model: fixture('cnn_a.onnx'),
      inputs: firstInputs(n),
      calib: ['--calib', fixture('calib256.npy')],
      n,
    };
  }
  const dir = tempDir();
  const spec = generatedModels.conv_stride_pad_nobias;
  const dims = spec.input!.dims.slice(1) as number[];
  const per = dims.reduce((a, b) => a * b, 1);
  const inputs = join(dir, 'x.npy');
  writeFileSync(inputs, encodeNpyFloat32(randomArray(n * per, 11), [n, ...dims]));
  return { model: writeModel(dir, 'conv_stride_pad_nobias', spec), inputs, calib: ['--calib', inputs], n };
}

/**
 * The MLPerf Tiny KWS DS-CNN (host/bench/mlperf.ts, random weights) and `n` random inputs,
 * calibrated on 4 others: on the iCEBreaker its 16,000 live bytes of activations need the
 * AMEM extension.
 */
export function kwsWorkload(n: number): BoardWorkload {
  const dir = tempDir();
  const spec = mlperfModels.mlperf_kws();
  const dims = spec.input!.dims.slice(1) as number[];
  const per = dims.reduce((a, b) => a * b, 1);
  const inputs = join(dir, 'x.npy');
  const calib = join(dir, 'calib.npy');
  writeFileSync(inputs, encodeNpyFloat32(randomArray(n * per, 31), [n, ...dims]));
  writeFileSync(calib, encodeNpyFloat32(randomArray(4 * per, 32), [4, ...dims]));
  return { model: writeModel(dir, 'mlperf_kws', spec), inputs, calib: ['--calib', calib], n };
}

/**
 * `nnfpga run` of workload `w` on `target` (`--sim --board B`, or `--port P --baud B`),
 * asserting it exits 0 with every output element equal to the integer reference.
 */
export async function runBitExact(w: BoardWorkload, target: string[]): Promise<RunReport> {
  const r = await nnfpga('run', w.model, '--input', w.inputs, ...w.calib, ...target, '--json');
  expect(r.code, r.stderr).toBe(0);
  const report = JSON.parse(r.stdout) as RunReport;
  expect(report.summary).toMatchObject({ inputs: w.n, mismatches: 0, mismatched_inputs: 0 });
  for (const x of report.results) expect(x.output_q).toEqual(x.reference_output_q);
  return report;
}
