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

  // Depthwise-separable block: Conv + BatchNormalization + Clip(0, 6) (ReLU6), a
  // depthwise 3x3 conv (group = C) + BN + Relu, a pointwise 1x1 conv + BN + Relu, a
  // grouped conv (group 2), GlobalAveragePool, Gemm and Softmax as the last node.
  depthwise_separable: {
    input: { name: 'x', dims: [1, 3, 10, 10] },
    initializers: [
      w('w1', [8, 3, 3, 3], 30),
      w('b1', [8], 31),
      ...bn('bn1', 8, 32),
      w('dw', [8, 1, 3, 3], 33, 0.8),
      ...bn('bn2', 8, 34),
      w('pw', [16, 8, 1, 1], 35),
      ...bn('bn3', 16, 36),
      w('gw', [12, 8, 3, 3], 37, 0.3),
      w('gb', [12], 38),
      w('fc', [5, 12], 39),
      w('fcb', [5], 40),
    ],
    nodes: [
      node(
        'Conv',
        ['x', 'w1', 'b1'],
        ['c1'],
        [attr.ints('pads', [1, 1, 1, 1]), attr.ints('strides', [2, 2])],
      ),
      node('BatchNormalization', ['c1', 'bn1_g', 'bn1_b', 'bn1_m', 'bn1_v'], ['n1']),
      node('Constant', [], ['zero'], [attr.t('value', floatTensor('', [], [0]))]),
      node('Constant', [], ['six'], [attr.t('value', floatTensor('', [], [6]))]),
      node('Clip', ['n1', 'zero', 'six'], ['r1']),
      node('Conv', ['r1', 'dw'], ['c2'], [attr.i('group', 8), attr.ints('pads', [1, 1, 1, 1])], 'depthwise'),
      node('BatchNormalization', ['c2', 'bn2_g', 'bn2_b', 'bn2_m', 'bn2_v'], ['n2']),
      node('Relu', ['n2'], ['r2']),
      node('Conv', ['r2', 'pw'], ['c3'], [], 'pointwise'),
      node('BatchNormalization', ['c3', 'bn3_g', 'bn3_b', 'bn3_m', 'bn3_v'], ['n3']),
      node('Relu', ['n3'], ['r3']),
      node('Conv', ['r3', 'gw', 'gb'], ['c4'], [attr.i('group', 2)], 'grouped'),
      node('GlobalAveragePool', ['c4'], ['g']),
      node('Flatten', ['g'], ['f']),
      node('Gemm', ['f', 'fc', 'fcb'], ['logits'], [attr.i('transB', 1)]),
      node('Softmax', ['logits'], ['y'], [attr.i('axis', 1)]),
    ],
  },
  // Residual block (Add of two activations, then Relu), a branch read by two layers,
  // Concat on channels of a 1x1 stride-2 conv and a max pool of the block output, and
  // LogSoftmax as the last node.
  residual_concat: {
    input: { name: 'x', dims: [1, 4, 8, 8] },
    initializers: [
      w('wa', [8, 4, 3, 3], 41),
      w('ba', [8], 42),
      w('wb', [8, 8, 3, 3], 43, 0.3),
      w('bb', [8], 44),
      w('wc', [6, 8, 1, 1], 45),
      w('fc', [14 * 4 * 4, 4], 46, 0.1),
      w('fcb', [4], 47),
    ],
    nodes: [
      node('Conv', ['x', 'wa', 'ba'], ['a'], [attr.ints('pads', [1, 1, 1, 1])]),
      node('Relu', ['a'], ['ra']),
      node('Conv', ['ra', 'wb', 'bb'], ['b'], [attr.ints('pads', [1, 1, 1, 1])]),
      node('Add', ['b', 'ra'], ['s'], [], 'residual'),
      node('Relu', ['s'], ['rs']),
      node('Conv', ['rs', 'wc'], ['c'], [attr.ints('strides', [2, 2])]),
      node('MaxPool', ['rs'], ['p'], [attr.ints('kernel_shape', [2, 2]), attr.ints('strides', [2, 2])]),
      node('Concat', ['c', 'p'], ['cat'], [attr.i('axis', 1)], 'concat'),
      node('Flatten', ['cat'], ['f']),
      node('MatMul', ['f', 'fc'], ['m']),
      node('Add', ['m', 'fcb'], ['logits']),
      node('LogSoftmax', ['logits'], ['y'], [attr.i('axis', -1)]),
    ],
  },
  // Input normalization (Sub of a per-channel mean, Div by a scalar), nn.ZeroPad2d as
  // PyTorch exports it without constant folding (ConstantOfShape, Concat, Reshape, Slice,
  // Transpose, Cast feeding Pad), folded into the Conv after it; a Pad before a MaxPool
  // (kept as a layer); padded pools with count_include_pad 0 and 1; Gemm +
  // BatchNormalization (BatchNorm1d) + Relu; Sigmoid as the last node.
  pad_pools_norm: {
    input: { name: 'x', dims: [1, 2, 10, 10] },
    initializers: [
      floatTensor('mean', [1, 2, 1, 1], [0.2, -0.1]),
      floatTensor('std', [], [0.5]),
      w('wc', [4, 2, 3, 3], 50),
      w('bc', [4], 51),
      w('fc', [6, 4 * 4 * 4], 52, 0.2),
      w('fcb', [6], 53),
      ...bn('bn', 6, 54),
      w('fc2', [3, 6], 55),
      ...torchPadConstants('zp', [1, 2, 0, 1]),
      ...torchPadConstants('mp', [1, 1, 1, 1]),
    ],
    nodes: [
      node('Sub', ['x', 'mean'], ['xs']),
      node('Div', ['xs', 'std'], ['xn']),
      ...torchPad('zp', 'xn', 'xp'),
      node('Conv', ['xp', 'wc', 'bc'], ['c'], [attr.ints('kernel_shape', [3, 3])]),
      node('Relu', ['c'], ['r']),
      node(
        'AveragePool',
        ['r'],
        ['a1'],
        [attr.ints('kernel_shape', [3, 3]), attr.ints('pads', [1, 1, 1, 1])],
        'avg_exclude',
      ),
      node(
        'AveragePool',
        ['a1'],
        ['a2'],
        [
          attr.ints('kernel_shape', [2, 2]),
          attr.ints('strides', [2, 2]),
          attr.ints('pads', [0, 0, 1, 1]),
          attr.i('count_include_pad', 1),
        ],
        'avg_include',
      ),
      ...torchPad('mp', 'a2', 'a2p'),
      node(
        'MaxPool',
        ['a2p'],
        ['p'],
        [attr.ints('kernel_shape', [3, 3]), attr.ints('strides', [2, 2]), attr.ints('pads', [1, 1, 1, 1])],
      ),
      node('Flatten', ['p'], ['f']),
      node('Gemm', ['f', 'fc', 'fcb'], ['g'], [attr.i('transB', 1)]),
      node('BatchNormalization', ['g', 'bn_g', 'bn_b', 'bn_m', 'bn_v'], ['gn']),
      node('Relu', ['gn'], ['gr']),
      node('Gemm', ['gr', 'fc2'], ['logits'], [attr.i('transB', 1)]),
      node('Sigmoid', ['logits'], ['y']),
    ],
  },
  // Wider channels (more than one group on either array): a strided depthwise conv on the
  // model input, a pointwise conv, a depthwise conv with asymmetric pads, a max pool, a
  // plain conv, a global average pool, and a dense layer.
  wide_depthwise: {
    input: { name: 'x', dims: [1, 12, 9, 7] },
    initializers: [
      w('dw1', [12, 1, 3, 3], 60, 0.6),
      w('db1', [12], 61),
      w('pw', [20, 12, 1, 1], 62),
      w('pb', [20], 63),
      w('dw2', [20, 1, 3, 2], 64, 0.6),
      w('c', [9, 20, 2, 2], 65, 0.2),
      w('fc', [4, 9], 66),
    ],
    nodes: [
      node(
        'Conv',
        ['x', 'dw1', 'db1'],
        ['d1'],
        [attr.i('group', 12), attr.ints('pads', [1, 1, 1, 1]), attr.ints('strides', [2, 2])],
      ),
      node('Relu', ['d1'], ['r1']),
      node('Conv', ['r1', 'pw', 'pb'], ['p'], []),
      node('Clip', ['p', 'lo', 'hi'], ['r2']),
      node('Constant', [], ['lo'], [attr.t('value', floatTensor('', [], [-0.5]))]),
      node('Constant', [], ['hi'], [attr.t('value', floatTensor('', [], [1.5]))]),
      node('Conv', ['r2', 'dw2'], ['d2'], [attr.i('group', 20), attr.ints('pads', [0, 1, 2, 0])]),
      node('MaxPool', ['d2'], ['m'], [attr.ints('kernel_shape', [2, 2]), attr.ints('strides', [1, 1])]),
      node('Conv', ['m', 'c'], ['cc'], [attr.ints('pads', [1, 0, 0, 1])]),
      node('Relu', ['cc'], ['rc']),
      node('GlobalAveragePool', ['rc'], ['g']),
      node('Flatten', ['g'], ['f']),
      node('Gemm', ['f', 'fc'], ['y'], [attr.i('transB', 1)]),
    ],
  },
  // Concat of three inputs with different channel groups, an Add of a tensor to itself,
  // a zero Pad before a strided exclude-pad average pool with asymmetric pads.
  concat3_pool: {
    input: { name: 'x', dims: [1, 5, 6, 6] },
    initializers: [
      w('wa', [6, 5, 3, 3], 70, 0.3),
      w('wb', [11, 5, 1, 1], 71),
      w('bb', [11], 72),
      w('wc', [3, 5, 3, 3], 73, 0.3),
      w('fc', [20 * 4 * 4, 3], 74, 0.05),
      int64Tensor('pads', [8], [0, 0, 1, 0, 0, 0, 0, 1]),
    ],
    nodes: [
      node('Conv', ['x', 'wa'], ['a'], [attr.ints('pads', [1, 1, 1, 1])]),
      node('Conv', ['x', 'wb', 'bb'], ['b']),
      node('Relu', ['b'], ['rb']),
      node('Conv', ['x', 'wc'], ['c'], [attr.ints('pads', [1, 1, 1, 1])]),
      node('Concat', ['a', 'rb', 'c'], ['cat'], [attr.i('axis', 1)]),
      node('Add', ['cat', 'cat'], ['twice']),
      node('Pad', ['twice', 'pads'], ['padded']),
      node(
        'AveragePool',
        ['padded'],
        ['avg'],
        [attr.ints('kernel_shape', [3, 2]), attr.ints('strides', [2, 2]), attr.ints('pads', [1, 0, 1, 1])],
      ),
      node('Flatten', ['avg'], ['f']),
      node('MatMul', ['f', 'fc'], ['y']),
    ],
  },
  // An add of a conv's output and of a depthwise conv of it, then a depthwise conv of the
  // sum.
  depthwise_add: {
    input: { name: 'x', dims: [1, 3, 6, 5] },
    initializers: [
      w('wa', [18, 3, 3, 3], 80, 0.3),
      w('dw', [18, 1, 3, 3], 81, 0.5),
      w('dw2', [18, 1, 1, 3], 82),
      w('fc', [2, 18], 83),
    ],
    nodes: [
      node('Conv', ['x', 'wa'], ['a'], [attr.ints('pads', [1, 1, 1, 1])]),
      node('Relu', ['a'], ['ra']),
      node('Conv', ['ra', 'dw'], ['d'], [attr.i('group', 18), attr.ints('pads', [1, 1, 1, 1])]),
      node('Add', ['ra', 'd'], ['s']),
      node('Conv', ['s', 'dw2'], ['d2'], [attr.i('group', 18), attr.ints('pads', [0, 1, 0, 1])]),
      node('GlobalAveragePool', ['d2'], ['g']),
      node('Flatten', ['g'], ['f']),
      node('Gemm', ['f', 'fc'], ['y'], [attr.i('transB', 1)]),
    ],
  },
};

/** BatchNormalization parameters NAME_g, NAME_b, NAME_m, NAME_v for `c` channels. */
function bn(name: string, c: number, seed: number) {
  return [
    rawFloatTensor(`${name}_g`, [c], randomArray(c, seed, 0.3, 1)),
    w(`${name}_b`, [c], seed + 100, 0.2),
    w(`${name}_m`, [c], seed + 200, 0.2),
    rawFloatTensor(`${name}_v`, [c], randomArray(c, seed + 300, 0.3, 1)),
  ];
}

/** Constants of torchPad: PyTorch's F.pad order (left, right, top, bottom). */
function torchPadConstants(name: string, [left, right, top, bottom]: number[]) {
  return [
    int64Tensor(`${name}_pad`, [4], [left, right, top, bottom]),
    int64Tensor(`${name}_rank`, [], [4]),
    int64Tensor(`${name}_two`, [], [2]),
    int64Tensor(`${name}_shape2`, [2], [-1, 2]),
    int64Tensor(`${name}_shape1`, [1], [-1]),
    int64Tensor(`${name}_start`, [1], [-1]),
    int64Tensor(`${name}_end`, [1], [-(2 ** 53)]),
    int64Tensor(`${name}_axis`, [1], [0]),
    int64Tensor(`${name}_step`, [1], [-1]),
  ];
}

/**
 * nn.ZeroPad2d as torch.onnx.export writes it without constant folding
 * (symbolic_opset11 constant_pad_nd / _prepare_onnx_paddings): the pads, extended with
 * zeros to 2 * rank, reshaped to pairs, flipped, transposed and flattened into ONNX order.
 */
function torchPad(name: string, x: string, y: string) {
  const n = (s: string) => `${name}_${s}`;
  return [
    node('Shape', [n('pad')], [n('len')]),
    node('Mul', [n('rank'), n('two')], [n('twice')]),
    node('Sub', [n('twice'), n('len')], [n('ext')]),
    node('ConstantOfShape', [n('ext')], [n('zeros')], [attr.t('value', int64Tensor('', [1], [0]))]),
    node('Concat', [n('pad'), n('zeros')], [n('all')], [attr.i('axis', 0)]),
    node('Reshape', [n('all'), n('shape2')], [n('pairs')]),
    node('Slice', [n('pairs'), n('start'), n('end'), n('axis'), n('step')], [n('flip')]),
    node('Transpose', [n('flip')], [n('tr')], [attr.ints('perm', [1, 0])]),
    node('Reshape', [n('tr'), n('shape1')], [n('flat')]),
    node('Cast', [n('flat')], [n('pads')], [attr.i('to', 7)]),
    node('Constant', [], [n('value')], [attr.t('value', floatTensor('', [], [0]))]),
    node('Pad', [x, n('pads'), n('value')], [y], [attr.s('mode', 'constant')], `${name}_Pad`),
  ];
}
