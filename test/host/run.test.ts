import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FASHION_MNIST_DIR } from '../../host/data/fashion-mnist.ts';
import { readNpy, readSamples } from '../../host/data/npy.ts';
import { quantizeInput, runInt } from '../../host/quant/intref.ts';
import { nnfpgaRule, tfliteRule } from '../../host/quant/rounding.ts';
import type { QModel } from '../../host/quant/types.ts';
import {
  evalModel,
  prepareModel,
  runModel,
  type BackendFactory,
  type InferenceBackend,
} from '../../host/run.ts';
import { argmax } from '../../host/ref/float.ts';
import { fixture, repoRoot, tempDir } from './helpers.ts';

/** A device stand-in: the integer reference, optionally with one output byte flipped. */
function mockBackend(faulty: boolean, closed: { n: number }): BackendFactory {
  return async (q: QModel): Promise<InferenceBackend> => ({
    async infer(xq) {
      const outs = runInt(q, xq);
      const yq = Int8Array.from(outs[outs.length - 1]);
      if (faulty) yq[0] ^= 1;
      return { yq, cycles: 1234 };
    },
    async close() {
      closed.n++;
    },
  });
}

const noBackend: BackendFactory = async () => null;

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/nnfpga.js', ...args], { cwd: repoRoot, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('run and eval', () => {
  const inputs = fixture('inputs200.npy');
  const calib = fixture('calib256.npy');

  it('counts no mismatches for a device that agrees with the integer reference, and closes it', async () => {
    const closed = { n: 0 };
    const r = await runModel(
      fixture('cnn_a.onnx'),
      inputs,
      calib,
      mockBackend(false, closed),
      () => undefined,
    );
    expect(r.summary).toMatchObject({ inputs: 200, mismatches: 0, cycles_per_inference: 1234 });
    expect(r.results[0].output).toEqual(r.results[0].reference_output);
    expect(closed.n).toBe(1);
  });

  it('counts every output element where the device differs from the integer reference', async () => {
    const r = await runModel(
      fixture('mlp.onnx'),
      inputs,
      calib,
      mockBackend(true, { n: 0 }),
      () => undefined,
    );
    expect(r.summary.mismatches).toBe(200);
  });

  it('traces a mismatch to the first layer that differs, naming the element and its error in LSBs', async () => {
    // A device whose layer 2 (the second conv of cnn_a) is 3 LSB high at element 7 for
    // input 4 only: every later layer inherits the fault.
    const faulty = (q: QModel, xq: Int8Array, bad: boolean): Int8Array[] => {
      const outs = runInt(q, xq).map((o) => Int8Array.from(o));
      if (bad) {
        outs[2][7] += 3;
        outs[outs.length - 1][0] ^= 1;
      }
      return outs;
    };
    const factory: BackendFactory = async (q) => {
      let n = 0;
      const isBad = (xq: Int8Array) => xq.join() === bad.join();
      let bad: Int8Array = new Int8Array();
      return {
        async infer(xq) {
          if (n++ === 4) bad = xq;
          return { yq: faulty(q, xq, isBad(xq)).at(-1)!, cycles: 1 };
        },
        async layerActivations(xq) {
          return faulty(q, xq, isBad(xq));
        },
        async close() {},
      };
    };
    const r = await runModel(fixture('cnn_a.onnx'), inputs, calib, factory, () => undefined);
    expect(r.summary.mismatched_inputs).toBe(1);
    expect(r.summary.first_divergence).toMatchObject({
      input: 4,
      layer: 2,
      layer_name: '/net/net.3/Conv',
      element: 7,
      error_lsb: 3,
      differing: 1,
    });
  });

  it('leaves device fields null without a target and warns when calibrating on the inputs', async () => {
    const warnings: string[] = [];
    const r = await runModel(fixture('mlp.onnx'), inputs, undefined, noBackend, (m) => warnings.push(m));
    expect(r.summary.mismatches).toBeNull();
    expect(r.summary.cycles_per_inference).toBeNull();
    expect(r.results[5].output).toBeNull();
    expect(r.results[5].float_output).toHaveLength(10);
    expect(warnings.join()).toMatch(/no --calib/);
  });

  const labels200 = Array.from(readNpy(fixture('labels200.npy')).data);
  const x200 = () => ({
    ...readSamples(inputs, [1, 28, 28], 'inputs'),
    labels: labels200,
    name: 'labels200',
  });

  it("eval's float accuracy is PyTorch's on the 200 labelled inputs, and a faithful device scores the int8 accuracy", async () => {
    const logits = readNpy(fixture('cnn_a.logits200.npy'));
    let torchRight = 0;
    for (let i = 0; i < 200; i++)
      if (argmax(Array.from(logits.data.subarray(i * 10, (i + 1) * 10))) === labels200[i]) torchRight++;
    const r = await evalModel(
      fixture('cnn_a.onnx'),
      x200(),
      calib,
      mockBackend(false, { n: 0 }),
      () => undefined,
    );
    expect(r.summary.inputs).toBe(200);
    expect(r.summary.accuracy.float).toBe(torchRight / 200);
    expect(Math.abs(r.summary.accuracy.int8 - r.summary.accuracy.float!)).toBeLessThanOrEqual(0.02);
    expect(r.summary.accuracy.device).toBe(r.summary.accuracy.int8);
    expect(r.summary.mismatches).toBe(0);
  });

  it('eval scores a device that always answers class 0 at the share of label 0, in accuracy, per class and confusion', async () => {
    const zeros: BackendFactory = async (q) => ({
      async infer() {
        return { yq: new Int8Array(q.output.reduce((a, b) => a * b, 1)).fill(5), cycles: 1 };
      },
      async close() {},
    });
    const r = await evalModel(fixture('cnn_a.onnx'), x200(), calib, zeros, () => undefined);
    const perLabel = Array.from({ length: 10 }, (_, c) => labels200.filter((l) => l === c).length);
    expect(r.summary.accuracy.device).toBe(perLabel[0] / 200);
    expect(r.summary.per_class).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(r.summary.confusion.map((row) => row[0])).toEqual(perLabel);
    expect(r.summary.confusion.flat().reduce((a, b) => a + b)).toBe(200);
    expect(r.summary.predictions_of).toBe('device');
  });

  it("eval's confusion matrix without a device counts the integer reference's predictions by true label", async () => {
    const r = await evalModel(fixture('cnn_a.onnx'), x200(), calib, noBackend, () => undefined);
    const q = prepareModel(
      fixture('cnn_a.onnx'),
      calib,
      () => x200(),
      () => {},
    ).q;
    const data = x200().data;
    const expected = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
    for (let i = 0; i < 200; i++)
      expected[labels200[i]][
        argmax(runInt(q, quantizeInput(q, data.subarray(i * 784, (i + 1) * 784))).at(-1)!)
      ]++;
    expect(r.summary.predictions_of).toBe('int8');
    expect(r.summary.confusion).toEqual(expected);
    expect(r.summary.per_class.map((v, c) => v! * expected[c].reduce((a, b) => a + b))).toEqual(
      expected.map((row, c) => row[c]),
    );
    const diagonal = expected.reduce((a, row, c) => a + row[c], 0);
    expect(r.summary.accuracy.int8).toBe(diagonal / 200);
  });

  it("eval refuses a label that is not one of the model's classes, naming its index", async () => {
    const bad = x200();
    bad.labels = labels200.map((l, i) => (i === 17 ? 10 : l));
    await expect(evalModel(fixture('cnn_a.onnx'), bad, calib, noBackend, () => undefined)).rejects.toThrow(
      /label 10 at index 17 is not a class of the model \(its output has 10 classes: 0 to 9\)/,
    );
  });

  it("eval compares rounding rules: the project rule differs from itself nowhere, TFLite's on 1 of the first 50 inputs", async () => {
    const x = readSamples(inputs, [1, 28, 28], 'inputs');
    const r = await evalModel(
      fixture('cnn_a.onnx'),
      { data: x.data.subarray(0, 50 * 784), count: 50, labels: labels200.slice(0, 50), name: 'labels200' },
      calib,
      noBackend,
      () => undefined,
      undefined,
      { same: nnfpgaRule, tflite: tfliteRule },
    );
    expect(r.rounding?.same).toEqual({
      accuracy: r.summary.accuracy.int8,
      differing_outputs: 0,
      differing_inputs: 0,
    });
    // The same count straight from the integer reference under both rules.
    const q = prepareModel(
      fixture('cnn_a.onnx'),
      calib,
      () => x,
      () => {},
    ).q;
    let differing = 0;
    for (let i = 0; i < 50; i++) {
      const xq = quantizeInput(q, x.data.subarray(i * 784, (i + 1) * 784));
      const a = runInt(q, xq, nnfpgaRule).at(-1)!;
      const b = runInt(q, xq, tfliteRule).at(-1)!;
      if (a.some((v, k) => v !== b[k])) differing++;
    }
    expect(r.rounding?.tflite.differing_inputs).toBe(differing);
    // TFLite's double rounding (gemmlowp) parts from the single rounding on ties: on cnn_a
    // with calib256 that is 1 of the first 50 inputs, one output value.
    expect(r.rounding?.tflite).toMatchObject({ differing_inputs: 1, differing_outputs: 1 });
  });

  it('quantize writes a model that info, run and eval accept in place of the ONNX file', () => {
    const out = join(tempDir(), 'cnn_a.nnq.json');
    expect(cli('quantize', fixture('cnn_a.onnx'), '--calib', calib, '-o', out).code).toBe(0);
    const info = JSON.parse(cli('info', out, '--json').stdout);
    expect(info.total.params).toBe(9098);
    const run = cli('run', out, '--input', inputs, '--json');
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(Object.keys(doc.results[0])).toEqual(
      expect.arrayContaining(['index', 'output', 'prediction', 'reference_output', 'float_output']),
    );
    expect(doc.summary).toMatchObject({ inputs: 200, mismatches: null, cycles_per_inference: null });
  });

  it.skipIf(!existsSync(DEFAULT_FASHION_MNIST_DIR))(
    'eval reads the Fashion-MNIST test set (Debian dataset-fashion-mnist): float above 80 %, int8 within 2 points',
    () => {
      const out = join(tempDir(), 'cnn_a.nnq.json');
      expect(cli('quantize', fixture('cnn_a.onnx'), '--calib', calib, '-o', out).code).toBe(0);
      const ev = JSON.parse(
        cli('eval', out, '--dataset', 'fashion-mnist', '--limit', '300', '--json').stdout,
      );
      expect(ev.summary.inputs).toBe(300);
      expect(ev.summary.accuracy.float).toBeGreaterThan(0.8);
      expect(Math.abs(ev.summary.accuracy.float - ev.summary.accuracy.int8)).toBeLessThan(0.02);
      expect([ev.summary.accuracy.device, ev.summary.mismatches]).toEqual([null, null]);
    },
  );
});
