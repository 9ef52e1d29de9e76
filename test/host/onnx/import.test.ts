import { describe, expect, it } from 'vitest';
import { InputError, UnsupportedOpError } from '../../../host/errors.ts';
import type { ConvLayer, DenseLayer, PoolLayer } from '../../../host/ir.ts';
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
    const bytes = buildModel(oneConv([node('Erf', ['c'], ['y'], [], 'head/erf')]));
    expect(() => importOnnx(bytes, 'm.onnx')).toThrow(UnsupportedOpError);
    expect(() => importOnnx(bytes, 'm.onnx')).toThrow(
      /node 'head\/erf' \(Erf\) is not supported; supported ops: Conv,/,
    );
  });

  it('refuses Softmax anywhere but as the last node, and Mul of two activations, naming the node', () => {
    const mid = buildModel(
      oneConv([node('Softmax', ['c'], ['s'], [], 'sm'), node('Relu', ['s'], ['y'], [], 'after')]),
    );
    expect(() => importOnnx(mid, 'm.onnx')).toThrow(/node 'after' \(Relu\): reads the output of Softmax/);
    const mul = buildModel(oneConv([node('Relu', ['c'], ['r']), node('Mul', ['r', 'r'], ['y'], [], 'prod')]));
    expect(() => importOnnx(mul, 'm.onnx')).toThrow(/node 'prod' \(Mul\): Mul of two activations/);
  });

  it('imports a residual block as a graph: the Add reads the block input and the conv output', () => {
    const m = importOnnx(buildModel(generatedModels.residual_concat), 'gen');
    const byName = new Map(m.layers.map((l) => [l.name, l]));
    const add = byName.get('residual')!;
    expect(add.kind).toBe('add');
    expect(add.act.ops).toEqual(['Relu']);
    const [b, a] = add.inputs.map((t) => byName.get(t)!);
    expect([b.kind, a.kind]).toEqual(['conv', 'conv']);
    expect(b.inputs).toEqual([a.name]); // the branch: a is read by b and by the add
    const cat = byName.get('concat')!;
    expect(cat.output).toEqual([14, 4, 4]);
    expect(cat.inputs.map((t) => byName.get(t)!.kind)).toEqual(['conv', 'maxpool']);
    expect(m.hostStep).toEqual({ op: 'LogSoftmax', axis: 0, flatten: false });
    expect(m.layers[m.layers.length - 1].op).toBe('MatMul+Add');
  });

  it('imports depthwise and grouped convolutions and folds BatchNormalization and Clip(0, 6)', () => {
    const m = importOnnx(buildModel(generatedModels.depthwise_separable), 'gen');
    expect(
      m.layers.map((l) => `${l.name} ${l.kind === 'conv' ? l.group : '-'} ${l.act.ops.join('+')}`),
    ).toEqual([
      'Conv_c1 1 Clip',
      'depthwise 8 Relu',
      'pointwise 1 Relu',
      'grouped 2 ',
      'GlobalAveragePool_g - ',
      'Flatten_f - ',
      'Gemm_logits - ',
    ]);
    const dw = m.layers[1] as ConvLayer;
    expect(dw.weights.length).toBe(8 * 9);
    expect(dw.foldedBatchNorm).toBe(true);
    expect(m.layers[0].act).toMatchObject({ lo: 0, hi: 6 });
    expect(m.hostStep?.op).toBe('Softmax');
  });

  it('folds the constant subgraph PyTorch writes for nn.ZeroPad2d and the pad into the next Conv', () => {
    const m = importOnnx(buildModel(generatedModels.pad_pools_norm), 'gen');
    const conv = m.layers[0] as ConvLayer;
    expect(conv.kind).toBe('conv');
    expect(conv.pads).toEqual([0, 1, 1, 2]); // F.pad (left 1, right 2, top 0, bottom 1)
    expect(conv.input).toEqual([2, 10, 10]);
    // a zero Pad before a MaxPool stays a layer (padding there is a real zero, not -inf)
    expect(m.layers.map((l) => l.kind)).toEqual([
      'conv',
      'avgpool',
      'avgpool',
      'pad',
      'maxpool',
      'reshape',
      'dense',
      'dense',
    ]);
    expect((m.layers[1] as PoolLayer).countIncludePad).toBe(false);
    expect((m.layers[2] as PoolLayer).countIncludePad).toBe(true);
    expect((m.layers[6] as DenseLayer).foldedBatchNorm).toBe(true);
    // Sub of the per-channel mean, Div by 0.5: x' = 2x - 2 mean
    expect(m.inputTransform?.scale).toEqual([2, 2]);
    expect(m.inputTransform?.offset.map((v) => Number(v.toFixed(6)))).toEqual([-0.4, 0.2]);
    expect(m.hostStep?.op).toBe('Sigmoid');
  });

  it('refuses dilated convolutions and a group count that does not divide the channels', () => {
    const g = oneConv([]);
    g.nodes = [node('Conv', ['x', 'w'], ['y'], [attr.ints('dilations', [2, 2])], 'dil')];
    expect(() => importOnnx(buildModel(g), 'm.onnx')).toThrow(/dilations/);
    const grp = oneConv([]);
    grp.nodes = [node('Conv', ['x', 'w'], ['y'], [attr.i('group', 3)], 'grp')];
    expect(() => importOnnx(buildModel(grp), 'm.onnx')).toThrow(/group = 3 does not divide/);
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
