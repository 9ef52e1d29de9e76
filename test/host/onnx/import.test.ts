import { describe, expect, it } from 'vitest';
import { InputError, UnsupportedOpError } from '../../../host/errors.ts';
import type { ConvLayer, DenseLayer } from '../../../host/ir.ts';
import { importOnnx, loadOnnx } from '../../../host/onnx/import.ts';
import { attr, buildModel, fixture, node, randomArray, rawFloatTensor } from '../helpers.ts';
import { generatedModels } from '../models.ts';

const summary = (path: string) =>
  loadOnnx(path).layers.map(
    (l) =>
      `${l.op}${l.act.ops.length ? '+' + l.act.ops.join('+') : ''} ${l.input.join('x')}->${l.output.join('x')}`,
  );

describe('ONNX import', () => {
  it('infers every shape of the fixtures and fuses Relu into the layer before', () => {
    expect(summary(fixture('mlp.onnx'))).toEqual([
      'Flatten 1x28x28->784',
      'Gemm+Relu 784->128',
      'Gemm+Relu 128->64',
      'Gemm 64->10',
    ]);
    expect(summary(fixture('cnn_a.onnx'))).toEqual([
      'Conv+Relu 1x28x28->8x28x28',
      'MaxPool 8x28x28->8x14x14',
      'Conv+Relu 8x14x14->16x14x14',
      'MaxPool 16x14x14->16x7x7',
      'Flatten 16x7x7->784',
      'Gemm 784->10',
    ]);
  });

  it('infers shapes for strides, asymmetric pads, SAME_UPPER, non-square kernels and ceil_mode', () => {
    const m = importOnnx(buildModel(generatedModels.conv_stride_pad_nobias), 'gen');
    const c1 = m.layers[0] as ConvLayer;
    expect(c1.output).toEqual([4, 5, 6]); // floor((9+2-3)/2)+1, floor((11+1-2)/2)+1
    expect(c1.hasBias).toBe(false);
    expect((m.layers[1] as ConvLayer).output).toEqual([5, 3, 3]); // ceil(5/2), ceil(6/2)
    const p = importOnnx(buildModel(generatedModels.maxpool_ceil_clip_attrs), 'gen');
    expect(p.layers[1].output).toEqual([2, 4, 4]); // ceil((7-2)/2)+1
  });

  it('folds BatchNormalization into the Conv before it (the Conv gains a bias)', () => {
    const m = importOnnx(buildModel(generatedModels.conv_bn_maxpool_gap), 'gen');
    const conv = m.layers[0] as ConvLayer;
    expect(conv.foldedBatchNorm).toBe(true);
    expect(conv.act.ops).toEqual(['Relu']);
    expect(m.layers.map((l) => l.kind)).toEqual(['conv', 'maxpool', 'avgpool', 'reshape', 'dense']);
    expect((m.layers[4] as DenseLayer).hasBias).toBe(true); // MatMul + Add
  });

  it('handles Constant nodes, initializers listed as inputs, shape arithmetic and nodes out of order', () => {
    expect(importOnnx(buildModel(generatedModels.avgpool_reversed), 'gen').layers.map((l) => l.op)).toEqual([
      'Conv',
      'AveragePool',
      'AveragePool',
      'Flatten',
      'Gemm',
    ]);
    const mm = importOnnx(buildModel(generatedModels.matmul_add_noops), 'gen');
    expect(mm.layers.map((l) => `${l.op} ${l.output.join('x')}`)).toEqual([
      'Reshape 36',
      'MatMul+Add 16',
      'MatMul+Add 5',
    ]);
  });

  const oneConv = (extra: ReturnType<typeof node>[], out = 'y') => ({
    input: { name: 'x', dims: [1, 1, 4, 4] },
    initializers: [rawFloatTensor('w', [2, 1, 3, 3], randomArray(18, 1))],
    nodes: [node('Conv', ['x', 'w'], ['c'], [], 'conv0'), ...extra],
    output: out,
  });

  it('refuses an unsupported op naming the node, its op type and what is supported', () => {
    const bytes = buildModel(oneConv([node('Softmax', ['c'], ['y'], [], 'head/softmax')]));
    expect(() => importOnnx(bytes, 'm.onnx')).toThrow(UnsupportedOpError);
    expect(() => importOnnx(bytes, 'm.onnx')).toThrow(
      /node 'head\/softmax' \(Softmax\) is not supported; supported ops: Conv,/,
    );
  });

  it('refuses a branching graph (a residual Add of two activations)', () => {
    const bytes = buildModel(
      oneConv([node('Relu', ['c'], ['r']), node('Add', ['r', 'c'], ['y'], [], 'res')]),
    );
    expect(() => importOnnx(bytes, 'm.onnx')).toThrow(/res.*\(Add\)/);
  });

  it('refuses grouped and dilated convolutions', () => {
    const g = oneConv([]);
    g.nodes = [node('Conv', ['x', 'w'], ['y'], [attr.ints('dilations', [2, 2])], 'dil')];
    expect(() => importOnnx(buildModel(g), 'm.onnx')).toThrow(/dilations/);
  });

  it('takes a dynamic batch dimension as 1: the same layers as the batch-1 export', () => {
    const fixed = importOnnx(buildModel(oneConv([], 'c')), 'm.onnx');
    const dyn = { ...oneConv([], 'c'), input: { name: 'x', dims: ['batch', 1, 4, 4] } };
    const m = importOnnx(buildModel(dyn), 'm.onnx');
    expect(m.input).toEqual([1, 4, 4]);
    expect(m).toEqual(fixed);
  });

  it('refuses dynamic non-batch, wrong-batch and non-float inputs with an InputError', () => {
    const dyn = { ...oneConv([], 'c'), input: { name: 'x', dims: [1, 1, 'height', 4] } };
    expect(() => importOnnx(buildModel(dyn), 'm.onnx')).toThrow(/dynamic dimension 2 \('height'\)/);
    const batch = { ...oneConv([], 'c'), input: { name: 'x', dims: [8, 1, 4, 4] } };
    expect(() => importOnnx(buildModel(batch), 'm.onnx')).toThrow(/batch dimension of 1/);
    const int = { ...oneConv([], 'c'), input: { name: 'x', dims: [1, 1, 4, 4], elemType: 7 } };
    expect(() => importOnnx(buildModel(int), 'm.onnx')).toThrow(/INT64; nnfpga needs a float32 input/);
  });

  it('refuses garbage and truncated files with an InputError', () => {
    const good = buildModel(generatedModels.conv_bn_maxpool_gap);
    expect(() => importOnnx(good.subarray(0, good.length - 40), 't.onnx')).toThrow(InputError);
    expect(() => importOnnx(Buffer.from('hello, this is not a model at all'), 'g.onnx')).toThrow(InputError);
    expect(() => importOnnx(new Uint8Array(0), 'e.onnx')).toThrow(/no graph/);
  });
});
