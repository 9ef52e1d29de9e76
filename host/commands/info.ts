// nnfpga info MODEL [--json]: per-layer cost table (host/info.ts).
import type { Command } from 'commander';
import Table from 'cli-table3';
import { floatModelInfo, qModelInfo, type ModelInfo } from '../info.ts';
import { formatShape } from '../ir.ts';
import { loadModel } from '../model.ts';
import { emit, withCommon, type CommonOptions, type Register } from './common.ts';
import { infoBoardAction, infoBoardOptions, type InfoBoardOptions } from './info-board.ts';

export function modelInfo(path: string): ModelInfo {
  const m = loadModel(path);
  return m.kind === 'onnx' ? floatModelInfo(m.float) : qModelInfo(m.q, path);
}

const n = (v: number): string => v.toLocaleString('en-US');

export function formatInfo(info: ModelInfo): string {
  const table = new Table({
    head: [
      'layer',
      'op',
      'input',
      'output',
      'weights',
      'biases',
      'params',
      'MACs',
      'FLOPs',
      'W int8 B',
      'W fp32 B',
      'act int8 B',
      'act fp32 B',
    ],
    colAligns: [
      'left',
      'left',
      'left',
      'left',
      'right',
      'right',
      'right',
      'right',
      'right',
      'right',
      'right',
      'right',
      'right',
    ],
    style: { head: [], border: [] },
    // One line per layer: no separator rows between them.
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const l of info.layers) {
    table.push([
      l.name,
      l.activation ? `${l.op}+${l.activation}` : l.op,
      formatShape(l.input),
      formatShape(l.output),
      n(l.weights),
      n(l.biases),
      n(l.params),
      n(l.macs),
      n(l.flops),
      n(l.weight_bytes_int8),
      n(l.weight_bytes_fp32),
      n(l.activation_bytes_int8),
      n(l.activation_bytes_fp32),
    ]);
  }
  const t = info.total;
  table.push([
    'total',
    '',
    formatShape(info.input),
    formatShape(info.output),
    n(t.weights),
    n(t.biases),
    n(t.params),
    n(t.macs),
    n(t.flops),
    n(t.weight_bytes_int8),
    n(t.weight_bytes_fp32),
    n(t.activation_bytes_int8),
    n(t.activation_bytes_fp32),
  ]);
  return [
    `${info.model} (${info.format})`,
    table.toString(),
    `peak activation memory at int8 (one layer's input + output): ${n(t.peak_activation_bytes_int8)} bytes`,
  ].join('\n');
}

export const registerInfo: Register = (program: Command) => {
  const cmd = withCommon(
    program
      .command('info')
      .description(
        'per-layer table: op, shapes, weights, biases, params, MACs, FLOPs, bytes at int8 and fp32',
      )
      .argument('<MODEL>', 'an .onnx model or a quantized model from `nnfpga quantize`'),
  );
  for (const o of infoBoardOptions()) cmd.addOption(o);
  cmd.action((model: string, opts: CommonOptions & InfoBoardOptions) => {
    if (opts.board !== undefined || opts.config !== undefined) return infoBoardAction(model, opts);
    const info = modelInfo(model);
    emit(opts, info, () => formatInfo(info));
  });
};
