// Generated ONNX models covering every supported op and the ways real exports differ
// (raw vs typed data, Constant nodes, initializers listed as inputs, nodes out of order,
// shape arithmetic for Reshape). Weights are seeded random numbers.
import {
  attr,
  floatTensor,
  int64Tensor,
  node,
  randomArray,
  rawFloatTensor,
  type GraphSpec,
} from './helpers.ts';

const w = (name: string, dims: number[], seed: number, scale = 0.4) =>
  rawFloatTensor(
    name,
    dims,
    randomArray(
      dims.reduce((a, b) => a * b, 1),
      seed,
      scale,
    ),
  );

export const generatedModels: Record<string, GraphSpec> = {
  // Conv stride 2, asymmetric padding, no bias, non-square kernel; then a SAME_UPPER conv.
  conv_stride_pad_nobias: {
    input: { name: 'x', dims: [1, 3, 9, 11] },
    initializers: [
      w('w1', [4, 3, 3, 2], 1),
      w('w2', [5, 4, 3, 3], 2),
      w('b2', [5], 3),
      w('fc', [6, 5 * 3 * 3], 4, 0.2),
    ],
    nodes: [
      node(
        'Conv',
        ['x', 'w1'],
        ['c1'],
        [attr.ints('strides', [2, 2]), attr.ints('pads', [1, 0, 1, 1]), attr.ints('kernel_shape', [3, 2])],
      ),
      node('Relu', ['c1'], ['r1']),
      node(
        'Conv',
        ['r1', 'w2', 'b2'],
        ['c2'],
        [attr.s('auto_pad', 'SAME_UPPER'), attr.ints('strides', [2, 2])],
      ),
      node('Flatten', ['c2'], ['f'], [attr.i('axis', 1)]),
      node('Gemm', ['f', 'fc'], ['y'], [attr.i('transB', 1)]),
    ],
  },
  // BatchNormalization after Conv (folded), MaxPool with pads, GlobalAveragePool.
  conv_bn_maxpool_gap: {
    input: { name: 'x', dims: [1, 2, 10, 10] },
    initializers: [
      w('w', [6, 2, 3, 3], 5),
      w('b', [6], 6),
      w('gamma', [6], 7, 0.5),
      w('beta', [6], 8),
      w('mean', [6], 9),
      rawFloatTensor('var', [6], randomArray(6, 10, 0.4, 1)),
      w('fc', [6, 4], 11),
      w('fcb', [4], 12),
    ],
    nodes: [
      node('Conv', ['x', 'w', 'b'], ['c'], [attr.ints('pads', [1, 1, 1, 1])]),
      node('BatchNormalization', ['c', 'gamma', 'beta', 'mean', 'var'], ['bn'], [attr.f('epsilon', 1e-3)]),
      node('Relu', ['bn'], ['r']),
      node(
        'MaxPool',
        ['r'],
        ['p'],
        [attr.ints('kernel_shape', [3, 3]), attr.ints('strides', [2, 2]), attr.ints('pads', [1, 1, 1, 1])],
      ),
      node('GlobalAveragePool', ['p'], ['g']),
      node('Flatten', ['g'], ['f']),
      node('MatMul', ['f', 'fc'], ['m']),
      node('Add', ['m', 'fcb'], ['y']),
    ],
  },
  // Gemm with alpha/beta and transB = 0, Clip(0, 6), Reshape to [12, 1] by a Constant
  // node, then Gemm with transA = 1 and transB = 1.
  gemm_trans_clip: {
    input: { name: 'x', dims: [1, 10] },
    initializers: [
      w('B1', [10, 12], 13),
      floatTensor('C1', [12], randomArray(12, 14)),
      w('B2', [3, 12], 15),
      floatTensor('C2', [1, 3], randomArray(3, 16)),
    ],
    nodes: [
      node('Gemm', ['x', 'B1', 'C1'], ['g1'], [attr.f('alpha', 0.5), attr.f('beta', 2)]),
      node('Constant', [], ['lo'], [attr.t('value', floatTensor('', [], [0]))]),
      node('Constant', [], ['hi'], [attr.t('value', floatTensor('', [], [0.6]))]),
      node('Clip', ['g1', 'lo', 'hi'], ['cl']),
      node('Constant', [], ['shape'], [attr.t('value', int64Tensor('', [2], [12, 1]))]),
      node('Reshape', ['cl', 'shape'], ['col']),
      node(
        'Gemm',
        ['col', 'B2', 'C2'],
        ['y'],
        [attr.i('transA', 1), attr.i('transB', 1), attr.f('alpha', 1.5), attr.f('beta', 0.5)],
      ),
    ],
  },
  // MatMul + Add with Dropout and Identity between layers; Reshape by a shape that
  // PyTorch's x.view(x.size(0), -1) exports (Shape, Gather, Unsqueeze, Concat).
  matmul_add_noops: {
    input: { name: 'x', dims: [1, 1, 6, 6] },
    initializers: [
      w('m1', [36, 16], 17),
      w('a1', [16], 18),
      w('m2', [16, 5], 19),
      w('a2', [5], 20),
      int64Tensor('zero', [], [0]),
      int64Tensor('minus1', [1], [-1]),
    ],
    nodes: [
      node('Shape', ['x'], ['s']),
      node('Gather', ['s', 'zero'], ['n'], [attr.i('axis', 0)]),
      node('Unsqueeze', ['n', 'axes0'], ['n1']),
      node('Constant', [], ['axes0'], [attr.t('value', int64Tensor('', [1], [0]))]),
      node('Concat', ['n1', 'minus1'], ['target'], [attr.i('axis', 0)]),
      node('Reshape', ['x', 'target'], ['flat']),
      node('MatMul', ['flat', 'm1'], ['mm1']),
      node('Add', ['a1', 'mm1'], ['h1']),
      node('Relu', ['h1'], ['r1']),
      node('Dropout', ['r1'], ['d1']),
      node('Identity', ['d1'], ['i1']),
      node('MatMul', ['i1', 'm2'], ['mm2']),
      node('Add', ['mm2', 'a2'], ['y']),
    ],
  },
  // AveragePool with count_include_pad = 1 and pads, AveragePool without pads, Clip
  // after a pool; nodes listed in reverse order, initializers also listed as inputs,
  // and a weight that comes from a Constant node.
  avgpool_reversed: {
    input: { name: 'x', dims: [1, 2, 12, 12] },
    initializersAsInputs: true,
    initializers: [w('w', [3, 2, 3, 3], 21), w('b', [3], 22), w('fc', [2, 3 * 2 * 2], 24)],
    nodes: [
      node('Gemm', ['f', 'fc', 'fcb'], ['y'], [attr.i('transB', 1)]),
      node('Constant', [], ['fcb'], [attr.t('value', floatTensor('', [2], [0.1, -0.2]))]),
      node('Flatten', ['a2'], ['f']),
      node('AveragePool', ['clp'], ['a2'], [attr.ints('kernel_shape', [2, 2]), attr.ints('strides', [2, 2])]),
      node('Clip', ['a1', 'zero', ''], ['clp']),
      node('Constant', [], ['zero'], [attr.t('value', floatTensor('', [], [0]))]),
      node(
        'AveragePool',
        ['c'],
        ['a1'],
        [
          attr.ints('kernel_shape', [3, 3]),
          attr.ints('strides', [2, 2]),
          attr.ints('pads', [1, 1, 1, 1]),
          attr.i('count_include_pad', 1),
        ],
      ),
      node('Conv', ['x', 'w', 'b'], ['c'], [attr.ints('kernel_shape', [3, 3])]),
    ],
  },
  // MaxPool with ceil_mode = 1 (an odd size), opset 9 style Clip attributes.
  maxpool_ceil_clip_attrs: {
    opset: 10,
    input: { name: 'x', dims: [1, 1, 8, 8] },
    initializers: [w('w', [2, 1, 2, 2], 25), w('fc', [2 * 4 * 4, 3], 26)],
    nodes: [
      node('Conv', ['x', 'w'], ['c']),
      node('Clip', ['c'], ['cl'], [attr.f('min', 0), attr.f('max', 0.5)]),
      node(
        'MaxPool',
        ['cl'],
        ['p'],
        [attr.ints('kernel_shape', [2, 2]), attr.ints('strides', [2, 2]), attr.i('ceil_mode', 1)],
      ),
      node('Flatten', ['p'], ['f']),
      node('MatMul', ['f', 'fc'], ['y']),
    ],
  },
};
