// The ONNX operators the importer (host/onnx/import.ts) accepts: one row per operator,
// what it becomes and when it is accepted. The importer refuses any operator not in
// this table, naming the node; the README's operator table is rendered from it
// (operatorTable, checked by test/host/onnx/operators.test.ts). Supporting a new
// operator is a row here and its case in the importer.

export interface OperatorSupport {
  /** ONNX op_type (default domain). */
  op: string;
  /** What it becomes on the way to the accelerator. */
  runsAs: string;
  /** When it is accepted (what is refused is said in the refusal). */
  conditions: string;
}

export const SUPPORTED_OPERATORS: readonly OperatorSupport[] = [
  {
    op: 'Conv',
    runsAs: 'a layer on the array',
    conditions: '2-D, any kernel, stride and padding (pads or auto_pad), dilation 1, group 1; bias optional',
  },
  {
    op: 'Gemm',
    runsAs: 'a dense layer on the array',
    conditions: 'one sample (batch 1), constant B; transA, transB, alpha and beta; bias C optional',
  },
  {
    op: 'MatMul',
    runsAs: 'a dense layer on the array',
    conditions: 'a vector times a constant [M, N] matrix',
  },
  {
    op: 'Add',
    runsAs: 'the bias of the layer before',
    conditions: 'a constant per-channel bias right after Conv, Gemm or MatMul',
  },
  {
    op: 'BatchNormalization',
    runsAs: 'folded into the weights and bias of the layer before',
    conditions: 'right after Conv or Gemm, inference mode',
  },
  { op: 'Relu', runsAs: 'fused into the layer before (the output clamp)', conditions: 'after a layer' },
  {
    op: 'Clip',
    runsAs: 'fused into the layer before (the output clamp)',
    conditions: 'after a layer; constant min and max (ReLU6 and the like)',
  },
  {
    op: 'MaxPool',
    runsAs: 'a pooling layer on the accelerator',
    conditions: '2-D, any kernel, stride and padding, ceil_mode; no Indices output',
  },
  {
    op: 'AveragePool',
    runsAs: 'a pooling layer on the accelerator',
    conditions: '2-D, any kernel, stride and padding, count_include_pad; ceil_mode 0',
  },
  {
    op: 'GlobalAveragePool',
    runsAs: 'a pooling layer on the accelerator',
    conditions: 'a [1, C, H, W] input',
  },
  { op: 'Flatten', runsAs: 'a reshape (no data moves)', conditions: 'any axis' },
  { op: 'Reshape', runsAs: 'a reshape (no data moves)', conditions: 'a constant target shape' },
  { op: 'Identity', runsAs: 'nothing', conditions: 'always' },
  { op: 'Dropout', runsAs: 'nothing (inference)', conditions: 'no mask output' },
  { op: 'Shape', runsAs: 'a constant (shapes are static)', conditions: 'always' },
  ...['Constant', 'Gather', 'Unsqueeze', 'Squeeze', 'Concat', 'Cast', 'Transpose', 'Sub', 'Mul', 'Div'].map(
    (op) => ({
      op,
      runsAs: 'computed at import (constant folding)',
      conditions: 'on constants only (shape arithmetic such as x.view(x.size(0), -1))',
    }),
  ),
];

const byName = new Map(SUPPORTED_OPERATORS.map((o) => [o.op, o]));

/** The table's row for `op`, or undefined when the importer refuses it. */
export function operatorSupport(op: string): OperatorSupport | undefined {
  return byName.get(op);
}

/** The operator names, for one-line messages. */
export const SUPPORTED_OPS = SUPPORTED_OPERATORS.map((o) => o.op).join(', ');

/**
 * The table as GitHub markdown (the README's "Supported operators" section); operators
 * next to each other that run the same way under the same conditions share a row.
 */
export function operatorTable(ops: readonly OperatorSupport[] = SUPPORTED_OPERATORS): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const rows: { ops: string[]; runsAs: string; conditions: string }[] = [];
  for (const o of ops) {
    const last = rows.at(-1);
    if (last && last.runsAs === o.runsAs && last.conditions === o.conditions) last.ops.push(o.op);
    else rows.push({ ops: [o.op], runsAs: o.runsAs, conditions: o.conditions });
  }
  return [
    '| ONNX operator | runs as | accepted when |',
    '| --- | --- | --- |',
    ...rows.map((r) => `| ${cell(r.ops.join(', '))} | ${cell(r.runsAs)} | ${cell(r.conditions)} |`),
  ].join('\n');
}
