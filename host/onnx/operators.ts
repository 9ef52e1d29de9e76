// The ONNX operators the importer (host/onnx/import.ts) accepts: one row per operator,
// what it becomes and when it is accepted. The importer refuses any operator not in
// this table, naming the node; the README's operator table is rendered from it
// (operatorTable, checked by test/host/onnx/operators.test.ts). Supporting a new
// operator is a row here and its case in the importer (or, folded on constants only,
// its evaluation in host/onnx/tensor.ts, which adds its row).
import { CONST_OPS } from './tensor.ts';

export interface OperatorSupport {
  /** ONNX op_type (default domain). */
  op: string;
  /** What it becomes on the way to the accelerator. */
  runsAs: string;
  /** When it is accepted (what is refused is said in the refusal). */
  conditions: string;
}

/** What an operator becomes when all its inputs are constants: folded at import. */
const FOLDED = 'computed at import (constant folding)';

const layerRows: OperatorSupport[] = [
  {
    op: 'Conv',
    runsAs: 'a layer on the array',
    conditions:
      '2-D, any kernel, stride and padding (pads or auto_pad), dilation 1; group 1, depthwise (group = C) or any group count dividing C; bias optional',
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
    op: 'BatchNormalization',
    runsAs: 'folded into the weights and bias of the layer before; elsewhere a depthwise 1x1 conv',
    conditions: 'inference mode; on a vector only right after Gemm or MatMul',
  },
  {
    op: 'Add',
    runsAs:
      'a residual add (a CONV on the array); with a constant: the bias of the layer before, or input normalization',
    conditions:
      'two activations of the same shape; or a per-channel constant right after Conv, Gemm or MatMul, or on the model input',
  },
  {
    op: 'Concat',
    runsAs: 'a CONV on the array copying each input into its channels',
    conditions: 'activations on the channel axis of [1, C, H, W] or [1, M] tensors',
  },
  {
    op: 'Pad',
    runsAs: 'the padding of the Conv (or AveragePool) after it; elsewhere a 1x1 copy with the pads',
    conditions: 'constant zero padding of H and W (no cropping)',
  },
  ...['Sub', 'Mul', 'Div'].map((op) => ({
    op,
    runsAs: 'input normalization, applied by the host as it quantizes the input',
    conditions: 'a per-channel constant on the model input (no constant divided by the input)',
  })),
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
  ...['Softmax', 'LogSoftmax', 'Sigmoid'].map((op) => ({
    op,
    runsAs: 'a host step: applied by the host, in float, to the dequantized output',
    conditions: 'as the last node, on any axis but the batch',
  })),
  { op: 'Flatten', runsAs: 'a reshape (no data moves)', conditions: 'any axis' },
  { op: 'Reshape', runsAs: 'a reshape (no data moves)', conditions: 'a constant target shape' },
  { op: 'Identity', runsAs: 'nothing', conditions: 'always' },
  { op: 'Dropout', runsAs: 'nothing (inference)', conditions: 'no mask output' },
  { op: 'Shape', runsAs: 'a constant (shapes are static)', conditions: 'always' },
  { op: 'Constant', runsAs: FOLDED, conditions: 'a tensor, float(s) or int(s) value' },
];

/**
 * Every operator in the table, in the README's order: the rows above, then each
 * operator the constant evaluator implements (CONST_OPS) that has no row of its own.
 * Any operator above folds as well when all its inputs are constants and it is in
 * CONST_OPS.
 */
export const SUPPORTED_OPERATORS: readonly OperatorSupport[] = [
  ...layerRows,
  ...[...CONST_OPS]
    .filter((op) => !layerRows.some((r) => r.op === op))
    .map((op) => ({
      op,
      runsAs: FOLDED,
      conditions: 'on constants only (shape arithmetic, pads written as subgraphs, and the like)',
    })),
];

/** Whether the table accepts `op` only on constants (folded at import). */
export function constantOnly(op: string): boolean {
  return operatorSupport(op)?.runsAs === FOLDED;
}

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
