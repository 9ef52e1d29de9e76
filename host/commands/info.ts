// nnfpga info MODEL [--wide]: per-layer cost table (host/info.ts). The default table
// fits 100 columns (long layer names are shortened in the middle); --wide shows every
// column. --json prints every field whatever the width.
import Table from 'cli-table3';
import { floatModelInfo, qModelInfo, type LayerInfo, type ModelInfo } from '../info.ts';
import { formatShape } from '../ir.ts';
import { loadModel } from '../model.ts';
import { emit, type Register } from './common.ts';
import { infoBoardAction, infoBoardOptions } from './info-board.ts';

export function modelInfo(path: string): ModelInfo {
  const m = loadModel(path);
  return m.kind === 'onnx' ? floatModelInfo(m.float) : qModelInfo(m.q, path);
}

const n = (v: number): string => v.toLocaleString('en-US');

/** The default table's width limit. */
export const INFO_WIDTH = 100;

type Totals = ModelInfo['total'] & { input: number[]; output: number[] };
interface Column {
  head: string;
  right: boolean;
  wide: boolean;
  layer: (l: LayerInfo) => string;
  total: (t: Totals) => string;
}

const COLUMNS: Column[] = [
  { head: 'layer', right: false, wide: false, layer: (l) => l.name, total: () => 'total' },
  {
    head: 'op',
    right: false,
    wide: false,
    layer: (l) => (l.activation ? `${l.op}+${l.activation}` : l.op),
    total: () => '',
  },
  {
    head: 'input',
    right: false,
    wide: true,
    layer: (l) => formatShape(l.input),
    total: (t) => formatShape(t.input),
  },
  {
    head: 'output',
    right: false,
    wide: false,
    layer: (l) => formatShape(l.output),
    total: (t) => formatShape(t.output),
  },
  { head: 'weights', right: true, wide: true, layer: (l) => n(l.weights), total: (t) => n(t.weights) },
  { head: 'biases', right: true, wide: true, layer: (l) => n(l.biases), total: (t) => n(t.biases) },
  { head: 'params', right: true, wide: false, layer: (l) => n(l.params), total: (t) => n(t.params) },
  { head: 'MACs', right: true, wide: false, layer: (l) => n(l.macs), total: (t) => n(t.macs) },
  { head: 'FLOPs', right: true, wide: true, layer: (l) => n(l.flops), total: (t) => n(t.flops) },
  {
    head: 'W int8 B',
    right: true,
    wide: false,
    layer: (l) => n(l.weight_bytes_int8),
    total: (t) => n(t.weight_bytes_int8),
  },
  {
    head: 'W fp32 B',
    right: true,
    wide: true,
    layer: (l) => n(l.weight_bytes_fp32),
    total: (t) => n(t.weight_bytes_fp32),
  },
  {
    head: 'act int8 B',
    right: true,
    wide: false,
    layer: (l) => n(l.activation_bytes_int8),
    total: (t) => n(t.activation_bytes_int8),
  },
  {
    head: 'act fp32 B',
    right: true,
    wide: true,
    layer: (l) => n(l.activation_bytes_fp32),
    total: (t) => n(t.activation_bytes_fp32),
  },
];

/** `text` shortened to `width` characters by an ellipsis in the middle (keeps the op at the end). */
export function shorten(text: string, width: number): string {
  if (text.length <= width) return text;
  const tail = Math.ceil((width - 1) / 2);
  return `${text.slice(0, width - 1 - tail)}…${text.slice(text.length - tail)}`;
}

export function formatInfo(info: ModelInfo, opts: { wide?: boolean } = {}): string {
  const cols = COLUMNS.filter((c) => opts.wide || !c.wide);
  const totals: Totals = { ...info.total, input: info.input, output: info.output };
  const rows = [...info.layers.map((l) => cols.map((c) => c.layer(l))), cols.map((c) => c.total(totals))];
  if (!opts.wide) {
    // Table width: every column's content plus one space each side, plus the borders.
    const widths = cols.map((c, i) => Math.max(c.head.length, ...rows.map((r) => r[i].length)));
    const others = widths.slice(1).reduce((a, w) => a + w + 2, 0) + cols.length + 1;
    const nameWidth = Math.max(12, INFO_WIDTH - others - 2);
    for (const r of rows) r[0] = shorten(r[0], nameWidth);
  }
  const table = new Table({
    head: cols.map((c) => c.head),
    colAligns: cols.map((c) => (c.right ? 'right' : 'left')),
    style: { head: [], border: [] },
    // One line per layer: no separator rows between them.
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const r of rows) table.push(r);
  const t = info.total;
  return [
    `${info.model} (${info.format})`,
    table.toString(),
    `peak live activation memory at int8 (the tensors alive at once, layers run in order): ${n(t.peak_activation_bytes_int8)} bytes`,
    ...(opts.wide ? [] : ['(--wide adds input shapes, weights and biases, FLOPs and fp32 bytes)']),
  ].join('\n');
}

export const registerInfo: Register = (program) => {
  program
    .command('info')
    .description('per-layer table: op, shapes, weights, biases, params, MACs, FLOPs, bytes at int8 and fp32')
    .argument('<MODEL>', 'an .onnx model or a quantized model from `nnfpga quantize`')
    .option('--wide', 'every column (input shapes, weights and biases, FLOPs, fp32 bytes)')
    .addOption(infoBoardOptions.board)
    .addOption(infoBoardOptions.config)
    .addOption(infoBoardOptions.calib)
    .action((model, opts, cmd) => {
      if (opts.board !== undefined || opts.config !== undefined)
        return infoBoardAction(model, { ...opts, ...cmd.optsWithGlobals() });
      const info = modelInfo(model);
      emit(cmd.optsWithGlobals(), info, () => formatInfo(info, opts));
    });
};
