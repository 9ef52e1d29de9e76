import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FASHION_MNIST_DIR } from '../../host/data/fashion-mnist.ts';
import { readSamples } from '../../host/data/npy.ts';
import { runInt } from '../../host/quant/intref.ts';
import { nnfpgaRule, tfliteRule } from '../../host/quant/rounding.ts';
import type { QModel } from '../../host/quant/types.ts';
import { evalModel, runModel, type BackendFactory, type InferenceBackend } from '../../host/run.ts';
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

  it('eval reports float, int8 and device accuracy over labelled samples', async () => {
    const x = readSamples(inputs, [1, 28, 28], 'inputs');
    const labels = Array.from({ length: 200 }, () => 0);
    const r = await evalModel(
      fixture('cnn_a.onnx'),
      { ...x, labels, name: 'zeros' },
      calib,
      mockBackend(false, { n: 0 }),
      () => undefined,
    );
    expect(r.summary.inputs).toBe(200);
    expect(r.summary.accuracy.device).toBe(r.summary.accuracy.int8);
    expect(r.summary.mismatches).toBe(0);
  });

  it('eval compares rounding rules: the project rule differs from itself nowhere', async () => {
    const x = readSamples(inputs, [1, 28, 28], 'inputs');
    const labels = new Array<number>(50).fill(0);
    const r = await evalModel(
      fixture('cnn_a.onnx'),
      { data: x.data.subarray(0, 50 * 784), count: 50, labels, name: 'zeros' },
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
    expect(r.rounding?.tflite.differing_inputs).toBeLessThanOrEqual(50);
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
    if (existsSync(DEFAULT_FASHION_MNIST_DIR)) {
      const ev = JSON.parse(
        cli('eval', out, '--dataset', 'fashion-mnist', '--limit', '300', '--json').stdout,
      );
      expect(ev.summary.inputs).toBe(300);
      expect(ev.summary.accuracy.float).toBeGreaterThan(0.8);
      expect(Math.abs(ev.summary.accuracy.float - ev.summary.accuracy.int8)).toBeLessThan(0.02);
      expect([ev.summary.accuracy.device, ev.summary.mismatches]).toEqual([null, null]);
    }
  });
});
