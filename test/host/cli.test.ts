// CLI error paths: exit code 1, exactly one line on stderr, no stack trace.
import { spawnSync } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  attr,
  fixture,
  node,
  randomArray,
  rawFloatTensor,
  repoRoot,
  tempDir,
  writeModel,
  type GraphSpec,
} from './helpers.ts';

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/nnfpga.js', ...args], { cwd: repoRoot, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectOneLineError(r: ReturnType<typeof cli>, pattern: RegExp): void {
  expect(r.code).toBe(1);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack frames
}

describe('command line errors', () => {
  let dir: string;
  const conv = (extra: GraphSpec['nodes'], input?: GraphSpec['input']): GraphSpec => ({
    input: input ?? { name: 'x', dims: [1, 1, 4, 4] },
    initializers: [rawFloatTensor('w', [2, 1, 3, 3], randomArray(18, 1))],
    nodes: [node('Conv', ['x', 'w'], ['c'], [attr.ints('pads', [1, 1, 1, 1])]), ...extra],
    output: extra.length ? 'y' : 'c',
  });
  beforeAll(() => {
    dir = tempDir();
  });

  it('missing model file', () => {
    expectOneLineError(cli('info', join(dir, 'nope.onnx')), /nope\.onnx: no such file/);
  });

  it('truncated model file', () => {
    const bytes = readFileSync(fixture('cnn_a.onnx'));
    writeFileSync(join(dir, 'trunc.onnx'), bytes.subarray(0, 20000));
    expectOneLineError(
      cli('info', join(dir, 'trunc.onnx')),
      /trunc\.onnx: .*(not a valid ONNX|malformed|corrupt)/,
    );
  });

  it('garbage model file', () => {
    writeFileSync(join(dir, 'garbage.onnx'), Buffer.from(randomArray(300, 5).buffer));
    expectOneLineError(
      cli('info', join(dir, 'garbage.onnx')),
      /garbage\.onnx: .*(not a valid ONNX|malformed|corrupt)/,
    );
  });

  it('unsupported op (Tanh), naming the node and what is supported', () => {
    const p = writeModel(dir, 'tanh', conv([node('Tanh', ['c'], ['y'], [], 'act')]));
    expectOneLineError(cli('info', p), /node 'act' \(Tanh\) is not supported; supported ops: Conv/);
  });

  it('unsupported op (Sigmoid before another node) in quantize', () => {
    const p = writeModel(
      dir,
      'sigmoid',
      conv([node('Sigmoid', ['c'], ['s'], [], 'sig'), node('Relu', ['s'], ['y'], [], 'after')]),
    );
    expectOneLineError(
      cli('quantize', p, '--calib', fixture('calib256.npy'), '-o', join(dir, 'q.json')),
      /node 'after' \(Relu\): reads the output of Sigmoid, which is supported only as the last node/,
    );
  });

  it('dynamic input shape (other than the batch)', () => {
    const p = writeModel(dir, 'dyn', conv([], { name: 'x', dims: [1, 'C', 4, 4] }));
    expectOneLineError(cli('info', p), /dynamic dimension 1 \('C'\)/);
  });

  it('non-float input', () => {
    const p = writeModel(dir, 'int', conv([], { name: 'x', dims: [1, 1, 4, 4], elemType: 3 }));
    expectOneLineError(cli('info', p), /INT8; nnfpga needs a float32 input/);
  });

  it('bad .npy for run', () => {
    writeFileSync(join(dir, 'bad.npy'), 'this is not numpy');
    expectOneLineError(
      cli('run', fixture('mlp.onnx'), '--input', join(dir, 'bad.npy')),
      /bad\.npy: not a valid \.npy/,
    );
  });

  it('wrong input shape for run', () => {
    const p = writeModel(dir, 'small', conv([]));
    expectOneLineError(cli('run', p, '--input', fixture('inputs200.npy')), /needs \[N, 1, 4, 4\]/);
  });

  it('corrupt quantized model', () => {
    writeFileSync(join(dir, 'bad.nnq.json'), '{"format": "nnfpga-qmodel", "version": 1, "layers": [');
    expectOneLineError(cli('info', join(dir, 'bad.nnq.json')), /corrupt quantized model/);
  });

  it('a --port that does not exist exits 2 with one line naming the port', () => {
    const r = cli(
      'run',
      fixture('mlp.onnx'),
      '--input',
      fixture('inputs200.npy'),
      '--calib',
      fixture('calib256.npy'),
      '--port',
      '/dev/ttyNNFPGA-NONE',
    );
    expect(r.code).toBe(2);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/\/dev\/ttyNNFPGA-NONE does not exist/);
  });
});
