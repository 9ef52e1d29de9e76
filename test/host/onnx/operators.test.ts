// The importer's operator table: the README's "Supported operators" table is rendered
// from it, and the importer refuses whatever it does not list.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UnsupportedOpError } from '../../../host/errors.ts';
import { importOnnx } from '../../../host/onnx/import.ts';
import { CONST_OPS } from '../../../host/onnx/tensor.ts';
import {
  constantOnly,
  operatorSupport,
  operatorTable,
  SUPPORTED_OPERATORS,
  SUPPORTED_OPS,
} from '../../../host/onnx/operators.ts';
import { attr, buildModel, node, randomArray, rawFloatTensor, repoRoot } from '../helpers.ts';

describe('supported operators', () => {
  it("README.md's table between <!-- ops:begin --> and <!-- ops:end --> is the importer's table", () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const m = /<!-- ops:begin -->\n([\s\S]*?)\n<!-- ops:end -->/.exec(readme);
    expect(m, 'README.md has no ops:begin/ops:end markers').not.toBeNull();
    expect(m![1], 'README.md is stale: run node scripts/operator-table.mjs').toBe(operatorTable());
  });

  it('lists each operator once, and every operator the fixtures use', () => {
    const names = SUPPORTED_OPERATORS.map((o) => o.op);
    expect(new Set(names).size).toBe(names.length);
    for (const op of ['Conv', 'Relu', 'MaxPool', 'Flatten', 'Gemm', 'Add', 'Concat', 'Pad', 'Softmax'])
      expect(operatorSupport(op)).toBeDefined();
    expect(SUPPORTED_OPS.split(', ')).toEqual(names);
  });

  it('lists every operator the constant evaluator folds, so no foldable node is refused', () => {
    for (const op of CONST_OPS) expect(operatorSupport(op), op).toBeDefined();
    expect(constantOnly('Slice')).toBe(true);
    expect(constantOnly('Concat')).toBe(false);
  });

  it('refuses an operator folded only on constants when it reads an activation, naming the node', () => {
    const model = buildModel({
      input: { name: 'x', dims: [1, 1, 4, 4] },
      initializers: [rawFloatTensor('w', [2, 1, 3, 3], randomArray(18, 1))],
      nodes: [
        node('Conv', ['x', 'w'], ['c'], [attr.ints('pads', [1, 1, 1, 1])]),
        node('Tanh', ['c'], ['y'], [], 'squash'),
      ],
      output: 'y',
    });
    expect(() => importOnnx(model, 'm.onnx')).toThrow(
      new UnsupportedOpError(
        "m.onnx: node 'squash' (Tanh) reads an activation; Tanh is supported only on constants (computed at import)",
      ),
    );
  });

  it('renders one row per run of operators with the same handling, escaping pipes', () => {
    const table = operatorTable([
      { op: 'A', runsAs: 'x', conditions: 'c' },
      { op: 'B', runsAs: 'x', conditions: 'c' },
      { op: 'C', runsAs: 'y|z', conditions: 'c' },
    ]);
    expect(table.split('\n')).toEqual([
      '| ONNX operator | runs as | accepted when |',
      '| --- | --- | --- |',
      '| A, B | x | c |',
      '| C | y\\|z | c |',
    ]);
  });

  it('makes the importer refuse an operator missing from the table, naming the node and the table', () => {
    const model = buildModel({
      input: { name: 'x', dims: [1, 1, 4, 4] },
      initializers: [rawFloatTensor('w', [2, 1, 3, 3], randomArray(18, 1))],
      nodes: [
        node('Conv', ['x', 'w'], ['c'], [attr.ints('pads', [1, 1, 1, 1])]),
        node('LpNormalization', ['c'], ['y'], [], 'norm'),
      ],
      output: 'y',
    });
    expect(operatorSupport('LpNormalization')).toBeUndefined();
    const err = (() => {
      try {
        importOnnx(model, 'm.onnx');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(UnsupportedOpError);
    expect((err as Error).message).toBe(
      `m.onnx: node 'norm' (LpNormalization) is not supported; supported ops: ${SUPPORTED_OPS}`,
    );
  });
});
