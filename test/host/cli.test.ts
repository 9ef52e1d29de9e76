// The command line as a user meets it: errors are exit code 1 with exactly one line on
// stderr and no stack trace; usage errors come before any model is loaded (the model
// paths given do not exist, so a later check would report that instead); --help,
// --version, the global options on either side of the command, --json and --jsonl.
import { spawnSync } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy, encodeNpyFloat32, readNpy } from '../../host/data/npy.ts';
import { MissingToolError } from '../../host/errors.ts';
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
  const r = spawnSync(process.execPath, ['bin/nnfpga.js', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string })
  .version;
const NO_MODEL = '/nonexistent/model.onnx';

describe('usage errors: one line, exit 1, before any model is loaded or work done', () => {
  const cases: [string, string[], RegExp][] = [
    [
      'run --sim --port X',
      ['run', NO_MODEL, '--input', 'x.npy', '--sim', '--port', 'X'],
      /^nnfpga: --sim cannot be used with --port \(see nnfpga run --help\)$/,
    ],
    [
      'build --board nope',
      ['build', '--board', 'nope'],
      /^nnfpga: --board nope: choose one of icebreaker, hx8k \(see nnfpga build --help\)$/,
    ],
    [
      'eval --limit 0',
      ['eval', NO_MODEL, '--dataset', 'fashion-mnist', '--limit', '0'],
      /^nnfpga: --limit 0: expected a whole number >= 1 \(see nnfpga eval --help\)$/,
    ],
    [
      'bench --streamed abc',
      ['bench', '--streamed', 'abc'],
      /^nnfpga: --streamed abc: expected a whole number >= 1 \(see nnfpga bench --help\)$/,
    ],
    [
      'bench --only nosuch',
      ['bench', '--only', 'nosuch'],
      /^nnfpga: --only nosuch: choose one of examples, mlperf \(see nnfpga bench --help\)$/,
    ],
    [
      'eval --dataset mnist',
      ['eval', NO_MODEL, '--dataset', 'mnist'],
      /^nnfpga: --dataset mnist: choose one of fashion-mnist/,
    ],
    [
      'eval --dataset with --inputs',
      ['eval', NO_MODEL, '--dataset', 'fashion-mnist', '--inputs', 'x.npy'],
      /--dataset cannot be used with --inputs/,
    ],
    [
      'eval --inputs without --labels',
      ['eval', NO_MODEL, '--inputs', 'x.npy'],
      /^nnfpga: --inputs needs --labels Y\.npy$/,
    ],
    [
      'eval --data-dir without --dataset',
      ['eval', NO_MODEL, '--inputs', 'x.npy', '--labels', 'y.npy', '--data-dir', '/tmp'],
      /^nnfpga: --data-dir needs --dataset fashion-mnist$/,
    ],
    [
      'eval without data',
      ['eval', NO_MODEL],
      /^nnfpga: give the labelled data: --dataset fashion-mnist, or --inputs X\.npy --labels Y\.npy$/,
    ],
    [
      'run --baud abc',
      ['run', NO_MODEL, '--input', 'x.npy', '--port', 'X', '--baud', 'abc'],
      /^nnfpga: --baud abc: expected a whole number >= 1/,
    ],
    [
      'run --baud without --port',
      ['run', NO_MODEL, '--input', 'x.npy', '--baud', '115200'],
      /^nnfpga: --baud needs --port$/,
    ],
    [
      'run --sim-ber without --sim',
      ['run', NO_MODEL, '--input', 'x.npy', '--sim-ber', '1e-4'],
      /^nnfpga: --sim-ber needs --sim$/,
    ],
    [
      'run --sim-ber 2',
      ['run', NO_MODEL, '--input', 'x.npy', '--sim', '--sim-ber', '2'],
      /^nnfpga: --sim-ber 2: expected a probability in \[0, 0\.5\]/,
    ],
    [
      'run --board nope',
      ['run', NO_MODEL, '--input', 'x.npy', '--sim', '--board', 'nope'],
      /^nnfpga: --board nope: choose one of icebreaker, hx8k/,
    ],
    [
      'run --board without --sim',
      ['run', NO_MODEL, '--input', 'x.npy', '--board', 'hx8k'],
      /^nnfpga: --board needs --sim/,
    ],
    [
      'run --json --jsonl',
      ['run', NO_MODEL, '--input', 'x.npy', '--json', '--jsonl'],
      /^nnfpga: give either --json or --jsonl, not both$/,
    ],
    ['run without --input', ['run', NO_MODEL], /^nnfpga: required option '--input' not specified/],
    [
      'sim --ber 2 (the same parser as run --sim-ber)',
      ['sim', '--ber', '2'],
      /^nnfpga: --ber 2: expected a probability in \[0, 0\.5\]/,
    ],
    [
      'sim --sim-ber 2 (the spelling of run and eval)',
      ['sim', '--sim-ber', '2'],
      /^nnfpga: --sim-ber 2: expected a probability in \[0, 0\.5\]/,
    ],
    [
      'sim --ber with --sim-ber',
      ['sim', '--ber', '0.1', '--sim-ber', '0.1'],
      /--ber cannot be used with --sim-ber/,
    ],
    [
      'build --seed -1',
      ['build', '--board', 'hx8k', '--seed', '-1'],
      /^nnfpga: --seed -1: expected a whole number in \[0, /,
    ],
    ['an unknown option', ['info', NO_MODEL, '--frobnicate'], /^nnfpga: unknown option '--frobnicate'/],
    ['an unknown command', ['infer', NO_MODEL], /^nnfpga: unknown command 'infer'/],
  ];
  for (const [name, args, pattern] of cases) {
    it(name, () => {
      const r = cli(...args);
      expectOneLineError(r, pattern);
      expect(r.stderr).not.toMatch(/no such file|nonexistent/);
      expect(r.stdout).toBe('');
    });
  }
});

describe('help, version and global options', () => {
  it('--version prints the version of package.json', () => {
    const r = cli('--version');
    expect([r.code, r.stdout.trim()]).toEqual([0, version]);
  });

  it("--help lists every command; a command's --help lists its options and the global ones", () => {
    const top = cli('--help');
    expect(top.code).toBe(0);
    for (const c of ['info', 'quantize', 'run', 'eval', 'build', 'flash', 'sim', 'ports', 'bench'])
      expect(top.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    const run = cli('run', '--help');
    expect(run.code).toBe(0);
    for (const o of [
      '--input',
      '--calib',
      '--jsonl',
      '--sim',
      '--port',
      '--baud',
      '--sim-ber',
      '--board',
      '--json',
      '--verbose',
    ])
      expect(run.stdout).toContain(o);
    expect(cli('build', '--help').stdout).toMatch(/--board <NAME>.*\n?.*choices: "icebreaker", "hx8k"/);
  });

  it('takes --json before or after the command, with the same document', () => {
    const before = cli('--json', 'info', fixture('mlp.onnx'));
    const after = cli('info', fixture('mlp.onnx'), '--json');
    expect([before.code, after.code]).toEqual([0, 0]);
    expect(JSON.parse(before.stdout)).toEqual(JSON.parse(after.stdout));
    expect(JSON.parse(after.stdout).total.macs).toBe(109184);
  });

  it('shows the stack of an error with --verbose, before or after the command', () => {
    for (const args of [
      ['--verbose', 'info', '/nonexistent.onnx'],
      ['info', '/nonexistent.onnx', '--verbose'],
    ]) {
      const r = cli(...args);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^nnfpga: \/nonexistent\.onnx: no such file/);
      expect(r.stderr).toMatch(/\n\s+at /);
    }
  });
});

describe('run output', () => {
  it('--json holds one line per result, and parses', () => {
    const r = cli(
      'run',
      fixture('mlp.onnx'),
      '--input',
      fixture('inputs200.npy'),
      '--calib',
      fixture('calib256.npy'),
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.filter((l) => /^\s+\{"index":\d+,/.test(l))).toHaveLength(200);
    expect(lines.length).toBeLessThan(220);
    const doc = JSON.parse(r.stdout);
    expect(doc.results).toHaveLength(200);
    expect(doc.summary.int8_float_agreement).toBeGreaterThan(0.9);
    expect(doc.summary.int8_float_agreement).toBeLessThanOrEqual(1);
  });

  it('--jsonl prints one JSON object per input, then one summary line', () => {
    const r = cli(
      'run',
      fixture('mlp.onnx'),
      '--input',
      fixture('inputs200.npy'),
      '--calib',
      fixture('calib256.npy'),
      '--jsonl',
    );
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(201);
    expect(lines.slice(0, 200).map((l) => l.index)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(Object.keys(lines[0])).toEqual(
      expect.arrayContaining(['index', 'output', 'prediction', 'reference_output', 'float_output']),
    );
    expect(lines[200].summary).toMatchObject({ inputs: 200, mismatches: null });
  });
});

describe('eval --inputs X.npy --labels Y.npy', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
  });
  const labels = () => Array.from(readNpy(fixture('labels200.npy')).data);

  it('reports accuracy, per-class accuracy and the confusion matrix of labelled .npy files', () => {
    const r = cli(
      'eval',
      fixture('cnn_a.onnx'),
      '--inputs',
      fixture('inputs200.npy'),
      '--labels',
      fixture('labels200.npy'),
      '--calib',
      fixture('calib256.npy'),
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout).summary;
    expect(s.inputs).toBe(200);
    expect(s.per_class).toHaveLength(10);
    expect(s.confusion.map((row: number[]) => row.reduce((a, b) => a + b))).toEqual(
      Array.from({ length: 10 }, (_, c) => labels().filter((l) => l === c).length),
    );
    expect(s.confusion.reduce((a: number, row: number[], c: number) => a + row[c], 0) / 200).toBe(
      s.accuracy.int8,
    );
  });

  it('--limit and --jsonl: one line per input with its label, then the summary', () => {
    const r = cli(
      'eval',
      fixture('cnn_a.onnx'),
      '--inputs',
      fixture('inputs200.npy'),
      '--labels',
      fixture('labels200.npy'),
      '--calib',
      fixture('calib256.npy'),
      '--limit',
      '20',
      '--jsonl',
    );
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(21);
    expect(lines.slice(0, 20).map((l) => l.label)).toEqual(labels().slice(0, 20));
    expect(lines[20].summary.inputs).toBe(20);
  });

  it('prints the confusion matrix and per-class accuracy as text', () => {
    const r = cli(
      'eval',
      fixture('mlp.onnx'),
      '--inputs',
      fixture('inputs200.npy'),
      '--labels',
      fixture('labels200.npy'),
      '--calib',
      fixture('calib256.npy'),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('confusion matrix and accuracy per class (the integer reference (no device)');
    expect(r.stdout).toMatch(/^true\\pred +0 +1 +2 +3 +4 +5 +6 +7 +8 +9 +accuracy$/m);
    expect(r.stdout).toMatch(/^9 +(\d+ +){10}\d+\.\d %$/m);
  });

  it('refuses float labels, with one line', () => {
    const f = join(dir, 'flabels.npy');
    writeFileSync(f, encodeNpyFloat32(Float32Array.from(labels()), [200]));
    expectOneLineError(
      cli('eval', fixture('mlp.onnx'), '--inputs', fixture('inputs200.npy'), '--labels', f),
      /flabels\.npy: labels must be integers \(int64, int32, uint8 or int8\), got float32/,
    );
  });

  it('refuses labels whose count differs from the inputs, with one line', () => {
    const f = join(dir, 'short.npy');
    writeFileSync(f, encodeNpy(Int32Array.from(labels().slice(0, 150)), '<i4', [150]));
    expectOneLineError(
      cli('eval', fixture('mlp.onnx'), '--inputs', fixture('inputs200.npy'), '--labels', f),
      /short\.npy: labels have shape \(150,\); .*inputs200\.npy holds 200 inputs, so the labels must be \[200\]/,
    );
  });

  it("refuses a label outside the model's classes, naming its index", () => {
    const f = join(dir, 'range.npy');
    const l = labels();
    l[3] = -1;
    writeFileSync(f, encodeNpy(Int32Array.from(l), '<i4', [200]));
    expectOneLineError(
      cli(
        'eval',
        fixture('mlp.onnx'),
        '--inputs',
        fixture('inputs200.npy'),
        '--labels',
        f,
        '--calib',
        fixture('calib256.npy'),
      ),
      /label -1 at index 3 is not a class of the model \(its output has 10 classes: 0 to 9\)/,
    );
  });
});

describe('non-finite values in inputs and calibration data', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
  });
  const withValue = (name: string, flat: number, v: number, file = 'inputs200.npy') => {
    const a = readNpy(fixture(file));
    const data = Float32Array.from(a.data);
    data[flat] = v;
    const p = join(dir, name);
    writeFileSync(p, encodeNpyFloat32(data, a.shape));
    return p;
  };

  it('refuses NaN in run --input, naming the file, the flat index and the index in its shape', () => {
    // 784 * 3 + 28 * 5 + 7 = 2499: sample 3, row 5, column 7
    const p = withValue('nan.npy', 2499, NaN);
    expectOneLineError(
      cli('run', fixture('mlp.onnx'), '--input', p, '--calib', fixture('calib256.npy')),
      /nan\.npy: inputs hold NaN at flat index 2499, index \[3, 0, 5, 7\]; nnfpga needs finite values/,
    );
  });

  it('refuses +Inf in the calibration data of quantize', () => {
    const p = withValue('inf.npy', 784 * 255 + 783, Infinity, 'calib256.npy');
    expectOneLineError(
      cli('quantize', fixture('cnn_a.onnx'), '--calib', p, '-o', join(dir, 'q.json')),
      /inf\.npy: calibration data hold Infinity at flat index 200703, index \[255, 0, 27, 27\]/,
    );
  });

  it('refuses -Inf in eval --inputs, and counts every non-finite value', () => {
    const a = readNpy(fixture('inputs200.npy'));
    const data = Float32Array.from(a.data);
    data[10] = -Infinity;
    data[20] = NaN;
    const p = join(dir, 'two.npy');
    writeFileSync(p, encodeNpyFloat32(data, a.shape));
    expectOneLineError(
      cli('eval', fixture('mlp.onnx'), '--inputs', p, '--labels', fixture('labels200.npy')),
      /two\.npy: inputs hold -Infinity at flat index 10, index \[0, 0, 0, 10\] \(2 non-finite values in all\)/,
    );
  });
});

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

  it('a missing tool exits 1 naming the package to install, not as a device failure', async () => {
    const { runTool } = await import('../../host/board/tools.ts');
    const err = await runTool('nnfpga-no-such-tool', []).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingToolError);
    expect((err as MissingToolError).exitCode).toBe(1);
    expect((err as Error).message).toMatch(
      /nnfpga-no-such-tool not found on PATH: install it \(apt-get install nnfpga-no-such-tool/,
    );
  });

  it('unsupported op (HardSwish), naming the node and what is supported', () => {
    const p = writeModel(dir, 'hardswish', conv([node('HardSwish', ['c'], ['y'], [], 'act')]));
    expectOneLineError(cli('info', p), /node 'act' \(HardSwish\) is not supported; supported ops: Conv/);
  });

  it('an op folded only on constants (Tanh) on an activation, naming the node', () => {
    const p = writeModel(dir, 'tanh', conv([node('Tanh', ['c'], ['y'], [], 'act')]));
    expectOneLineError(
      cli('info', p),
      /node 'act' \(Tanh\) reads an activation; Tanh is supported only on constants \(computed at import\)/,
    );
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
