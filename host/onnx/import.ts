// ONNX → float layer IR (host/ir.ts), with every shape inferred.
//
// The graph is decoded with onnx-proto (protobufjs). Nodes are visited in dependency
// order whatever order the file lists them in; constant subgraphs are folded
// (host/onnx/tensor.ts); BatchNormalization after Conv/Gemm is folded into its weights,
// Relu/Clip into the layer before, Add of a constant into the bias of the MatMul/Gemm/
// Conv before it. What remains must be a chain of supported layers (the accelerator runs
// one layer after another); anything else is refused naming the node.
import { readFileSync } from 'node:fs';
import type onnxPkg from 'onnx-proto';
import { InputError, UnsupportedOpError } from '../errors.ts';
import type { Activation, ConvLayer, DenseLayer, FloatModel, Layer, Pads, PoolLayer, Shape } from '../ir.ts';
import { formatShape, noActivation } from '../ir.ts';
import { operatorSupport, SUPPORTED_OPS } from './operators.ts';
import {
  CONST_OPS,
  attrFloat,
  attrInt,
  attrInts,
  attrString,
  constFromNode,
  dataTypeName,
  decodeTensor,
  evalConst,
  flattenDims,
  hasAttr,
  numelOf,
  onnx,
  reshapeDims,
  toNum,
  type ConstTensor,
  type NodeProto,
} from './tensor.ts';

export { SUPPORTED_OPS };

type Value = { kind: 'const'; t: ConstTensor } | { kind: 'act'; dims: number[]; id: number };

/** Per-sample shape: ONNX dims without the leading batch dimension of 1. */
function sampleShape(dims: number[]): Shape {
  return dims.length >= 2 && dims[0] === 1 ? dims.slice(1) : [...dims];
}

function nodeLabel(node: NodeProto, index: number): string {
  const name = node.name || (node.output ?? [])[0] || `#${index}`;
  return `node '${name}' (${node.opType})`;
}

/** Reads and imports an ONNX file; every failure is an InputError naming the file. */
export function loadOnnx(path: string): FloatModel {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(
      code === 'ENOENT'
        ? `${path}: no such file; give the path of an .onnx model or of a quantized model from 'nnfpga quantize'`
        : `${path}: cannot read (${code ?? String(err)})`,
    );
  }
  return importOnnx(bytes, path);
}

export function importOnnx(bytes: Uint8Array, source: string): FloatModel {
  let model: InstanceType<typeof onnx.ModelProto>;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new InputError(
      `${source}: not a valid ONNX file (protobuf decoding failed: ${(err as Error).message}); the file may be truncated or not a model`,
    );
  }
  const graph = model.graph;
  if (!graph || (graph.node ?? []).length === 0) {
    throw new InputError(`${source}: not a valid ONNX model (no graph or no nodes); is this the right file?`);
  }
  try {
    return new Importer(source).run(graph);
  } catch (err) {
    if (err instanceof InputError) throw err;
    // Garbage that still decodes as protobuf ends up here with nonsense fields.
    throw new InputError(`${source}: malformed ONNX model (${(err as Error).message})`);
  }
}

class Importer {
  private values = new Map<string, Value>();
  private layers: Layer[] = [];
  private nextId = 1;
  /** The activation at the end of the chain built so far. */
  private head = 0;
  /** Index of the layer whose raw output (before any fused activation) is the head, or -1. */
  private rawOutputOf = -1;

  constructor(private source: string) {}

  run(graph: onnxPkg.onnx.IGraphProto): FloatModel {
    const src = this.source;
    for (const init of graph.initializer ?? []) {
      this.values.set(init.name ?? '', { kind: 'const', t: decodeTensor(init, `${src}: initializer`) });
    }
    // Old exporters list the initializers among the graph inputs too: the real input is
    // the one that is not an initializer.
    const inputs = (graph.input ?? []).filter((i) => !this.values.has(i.name ?? ''));
    if (inputs.length !== 1) {
      throw new InputError(
        `${src}: the model has ${inputs.length} inputs (${inputs.map((i) => `'${i.name}'`).join(', ') || 'none'}); nnfpga runs models with exactly one input`,
      );
    }
    const inp = inputs[0];
    const inputName = inp.name ?? '';
    const tt = inp.type?.tensorType;
    if (!tt) throw new InputError(`${src}: input '${inputName}' is not a tensor`);
    if (tt.elemType !== onnx.TensorProto.DataType.FLOAT) {
      throw new InputError(
        `${src}: input '${inputName}' is ${dataTypeName(tt.elemType ?? 0)}; nnfpga needs a float32 input (export the model with a float input)`,
      );
    }
    const dimsProto = tt.shape?.dim;
    if (!dimsProto || dimsProto.length === 0) {
      throw new InputError(
        `${src}: input '${inputName}' has no static shape; re-export with a fixed input shape`,
      );
    }
    // A dynamic leading dimension (torch.onnx.export with dynamic_axes={'x': {0: 'batch'}})
    // is the batch: nnfpga runs one sample at a time, so it is taken as 1. Any other
    // dynamic dimension changes the layers' shapes and is refused.
    const inDims = dimsProto.map((d, i) => {
      const v = d.dimValue !== null && d.dimValue !== undefined ? toNum(d.dimValue) : 0;
      if (i === 0 && (d.dimParam || !(v > 0))) return 1;
      if (d.dimParam || !(v > 0)) {
        throw new InputError(
          `${src}: input '${inputName}' has a dynamic dimension ${i}${d.dimParam ? ` ('${d.dimParam}')` : ''}; re-export with a fixed shape such as [1, C, H, W] (torch.onnx.export without dynamic_axes)`,
        );
      }
      return v;
    });
    if (inDims.length < 2 || inDims[0] !== 1) {
      throw new InputError(
        `${src}: input '${inputName}' has shape ${formatShape(inDims)}; nnfpga needs a batch dimension of 1 first ([1, C, H, W] or [1, M]); re-export with batch size 1`,
      );
    }
    this.head = this.nextId++;
    this.values.set(inputName, { kind: 'act', dims: inDims, id: this.head });

    const nodes = graph.node ?? [];
    const done = new Array<boolean>(nodes.length).fill(false);
    let remaining = nodes.length;
    // Dependency order, keeping the file's order among nodes that are ready together.
    for (let progress = true; progress && remaining > 0;) {
      progress = false;
      for (let i = 0; i < nodes.length; i++) {
        if (done[i]) continue;
        const ins = nodes[i].input ?? [];
        if (!ins.every((n) => n === '' || this.values.has(n))) continue;
        this.visit(nodes[i], i);
        done[i] = true;
        remaining--;
        progress = true;
      }
    }
    if (remaining > 0) {
      const i = done.indexOf(false);
      const missing = (nodes[i].input ?? []).find((n) => n !== '' && !this.values.has(n));
      throw new InputError(
        `${src}: ${nodeLabel(nodes[i], i)} reads '${missing}', which no node, initializer or graph input provides (or the graph has a cycle)`,
      );
    }

    const outs = graph.output ?? [];
    if (outs.length !== 1) {
      throw new UnsupportedOpError(
        `${src}: the model has ${outs.length} outputs; nnfpga runs models with one output`,
      );
    }
    const outputName = outs[0].name ?? '';
    const out = this.values.get(outputName);
    if (!out || out.kind !== 'act' || out.id !== this.head) {
      throw new UnsupportedOpError(
        `${src}: graph output '${outputName}' is not the end of the layer chain; only chain-shaped networks are supported`,
      );
    }
    if (!this.layers.some((l) => l.kind !== 'reshape')) {
      throw new UnsupportedOpError(`${src}: the model has no Conv, Gemm, MatMul or pooling layer`);
    }
    return {
      source: src,
      inputName,
      outputName,
      input: sampleShape(inDims),
      output: sampleShape(out.dims),
      layers: this.layers,
    };
  }

  // ---- helpers ----

  private where(node: NodeProto, index: number): string {
    return `${this.source}: ${nodeLabel(node, index)}`;
  }

  private constInput(node: NodeProto, index: number, k: number, what: string): ConstTensor {
    const name = (node.input ?? [])[k];
    const v = name ? this.values.get(name) : undefined;
    if (!v || v.kind !== 'const') {
      throw new UnsupportedOpError(
        `${this.where(node, index)}: ${what} (input ${k}) must be a constant (initializer or Constant), got ${name ? `activation '${name}'` : 'nothing'}`,
      );
    }
    return v.t;
  }

  /** The node's activation input: must be the current end of the chain. */
  private actInput(node: NodeProto, index: number, k = 0): number[] {
    const name = (node.input ?? [])[k];
    const v = name ? this.values.get(name) : undefined;
    if (!v || v.kind !== 'act') {
      throw new UnsupportedOpError(
        `${this.where(node, index)}: input ${k} must be an activation (the output of a previous layer or the model input)`,
      );
    }
    if (v.id !== this.head) {
      throw new UnsupportedOpError(
        `${this.where(node, index)}: reads '${name}', which a later layer has already consumed; the graph branches, and only chain-shaped networks are supported`,
      );
    }
    return v.dims;
  }

  private setOutput(node: NodeProto, dims: number[], sameData = false): void {
    if (!sameData) this.head = this.nextId++;
    this.values.set((node.output ?? [])[0], { kind: 'act', dims, id: this.head });
  }

  private pushLayer(node: NodeProto, layer: Layer, outDims: number[]): void {
    this.layers.push(layer);
    this.setOutput(node, outDims);
    this.rawOutputOf = layer.kind === 'reshape' ? -1 : this.layers.length - 1;
  }

  private layerName(node: NodeProto, index: number): string {
    return node.name || (node.output ?? [])[0] || `${node.opType}_${index}`;
  }

  // ---- node dispatch ----

  private visit(node: NodeProto, index: number): void {
    const op = node.opType ?? '';
    const where = this.where(node, index);
    if (node.domain && node.domain !== 'ai.onnx') {
      throw new UnsupportedOpError(
        `${where} from domain '${node.domain}' is not supported; supported ops: ${SUPPORTED_OPS}`,
      );
    }
    // The operator table (host/onnx/operators.ts) is the list of what is accepted.
    if (!operatorSupport(op))
      throw new UnsupportedOpError(`${where} is not supported; supported ops: ${SUPPORTED_OPS}`);
    const ins = (node.input ?? []).map((n) => (n === '' ? undefined : this.values.get(n)));
    const allConst = ins.every((v) => v === undefined || v.kind === 'const');

    if (op === 'Constant') {
      this.values.set((node.output ?? [])[0], { kind: 'const', t: constFromNode(node, where) });
      return;
    }
    if (op === 'Shape') {
      // Shapes are static here, so Shape of anything is a constant (x.view(x.size(0), -1)).
      const v = ins[0];
      if (!v) throw new InputError(`${where}: has no input`);
      const dims = v.kind === 'act' ? v.dims : v.t.dims;
      const start = attrInt(node, 'start', 0);
      const end = hasAttr(node, 'end') ? attrInt(node, 'end', dims.length) : dims.length;
      const sel = dims.slice(start < 0 ? start + dims.length : start, end < 0 ? end + dims.length : end);
      this.values.set((node.output ?? [])[0], {
        kind: 'const',
        t: { dims: [sel.length], data: Float64Array.from(sel), isInt: true },
      });
      return;
    }
    if (allConst && CONST_OPS.has(op)) {
      const t = evalConst(
        node,
        ins.map((v) => (v && v.kind === 'const' ? v.t : undefined)),
        where,
      );
      this.values.set((node.output ?? [])[0], { kind: 'const', t });
      return;
    }

    switch (op) {
      case 'Identity':
        this.setOutput(node, this.actInput(node, index), true);
        return;
      case 'Dropout':
        // Inference: Dropout is the identity. Its optional mask output has no meaning here.
        if ((node.output ?? [])[1]) {
          throw new UnsupportedOpError(`${where}: the Dropout mask output is not supported`);
        }
        this.setOutput(node, this.actInput(node, index), true);
        return;
      case 'Flatten': {
        const dims = this.actInput(node, index);
        this.reshape(node, index, dims, flattenDims(dims, attrInt(node, 'axis', 1), where));
        return;
      }
      case 'Reshape': {
        const dims = this.actInput(node, index);
        const spec = (node.input ?? [])[1]
          ? Array.from(this.constInput(node, index, 1, 'the target shape').data)
          : (attrInts(node, 'shape') ?? []);
        this.reshape(node, index, dims, reshapeDims(dims, spec, attrInt(node, 'allowzero', 0) === 1, where));
        return;
      }
      case 'Conv':
        return this.conv(node, index);
      case 'Gemm':
        return this.gemm(node, index);
      case 'MatMul':
        return this.matmul(node, index);
      case 'Add':
        return this.add(node, index);
      case 'BatchNormalization':
        return this.batchNorm(node, index);
      case 'Relu':
        return this.activation(node, index, 0, Infinity);
      case 'Clip': {
        // opset >= 11: min and max are optional inputs; before: attributes.
        let lo = attrFloat(node, 'min', -Infinity);
        let hi = attrFloat(node, 'max', Infinity);
        if ((node.input ?? [])[1]) lo = this.constInput(node, index, 1, 'min').data[0];
        if ((node.input ?? [])[2]) hi = this.constInput(node, index, 2, 'max').data[0];
        if (!(lo < hi)) throw new UnsupportedOpError(`${where}: Clip(${lo}, ${hi}) has an empty range`);
        return this.activation(node, index, lo, hi);
      }
      case 'MaxPool':
      case 'AveragePool':
        return this.pool(node, index);
      case 'GlobalAveragePool': {
        const dims = this.actInput(node, index);
        if (dims.length !== 4) throw new UnsupportedOpError(`${where}: needs a [1, C, H, W] input`);
        const [, c, h, w] = dims;
        const layer: PoolLayer = {
          kind: 'avgpool',
          op,
          name: this.layerName(node, index),
          input: [c, h, w],
          output: [c, 1, 1],
          act: noActivation(),
          kernel: [h, w],
          stride: [1, 1],
          pads: [0, 0, 0, 0],
          countIncludePad: true,
        };
        this.pushLayer(node, layer, [1, c, 1, 1]);
        return;
      }
      default:
        throw new UnsupportedOpError(`${where} is not supported; supported ops: ${SUPPORTED_OPS}`);
    }
  }

  private reshape(node: NodeProto, index: number, inDims: number[], outDims: number[]): void {
    // A target without a leading 1 (e.g. [784, 1] for Gemm with transA = 1) is fine:
    // the data order is unchanged and the consumers check the layout they need.
    const layer: Layer = {
      kind: 'reshape',
      op: node.opType ?? 'Reshape',
      name: this.layerName(node, index),
      input: sampleShape(inDims),
      output: sampleShape(outDims),
      act: noActivation(),
    };
    this.pushLayer(node, layer, outDims);
  }

  /** ONNX pads [b1, b2, e1, e2] or auto_pad → [top, left, bottom, right]. */
  private pads(
    node: NodeProto,
    index: number,
    h: number,
    w: number,
    k: [number, number],
    s: [number, number],
  ): Pads {
    const autoPad = attrString(node, 'auto_pad', 'NOTSET');
    if (autoPad === 'NOTSET') {
      const p = attrInts(node, 'pads') ?? [0, 0, 0, 0];
      if (p.length !== 4 || p.some((x) => x < 0)) {
        throw new UnsupportedOpError(
          `${this.where(node, index)}: pads [${p.join(', ')}] must be 4 non-negative values`,
        );
      }
      return [p[0], p[1], p[2], p[3]];
    }
    if (autoPad === 'VALID') return [0, 0, 0, 0];
    if (autoPad !== 'SAME_UPPER' && autoPad !== 'SAME_LOWER') {
      throw new UnsupportedOpError(`${this.where(node, index)}: auto_pad '${autoPad}' is not supported`);
    }
    // SAME: output = ceil(in / stride); total = (out - 1) * stride + kernel - in, the odd
    // pixel at the end (SAME_UPPER) or the beginning (SAME_LOWER).
    const split = (n: number, kk: number, ss: number): [number, number] => {
      const total = Math.max((Math.ceil(n / ss) - 1) * ss + kk - n, 0);
      const small = Math.floor(total / 2);
      return autoPad === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
    };
    const [pt, pb] = split(h, k[0], s[0]);
    const [pl, pr] = split(w, k[1], s[1]);
    return [pt, pl, pb, pr];
  }

  private spatial2d(node: NodeProto, index: number, kernelFromWeights?: [number, number]) {
    const where = this.where(node, index);
    const ks = attrInts(node, 'kernel_shape');
    if (ks && ks.length !== 2) throw new UnsupportedOpError(`${where}: only 2-D kernels are supported`);
    const kernel: [number, number] = ks ? [ks[0], ks[1]] : (kernelFromWeights ?? [0, 0]);
    if (kernelFromWeights && (kernel[0] !== kernelFromWeights[0] || kernel[1] !== kernelFromWeights[1])) {
      throw new InputError(`${where}: kernel_shape [${kernel.join(', ')}] does not match the weights`);
    }
    if (!(kernel[0] > 0 && kernel[1] > 0)) throw new InputError(`${where}: missing kernel_shape`);
    const st = attrInts(node, 'strides') ?? [1, 1];
    const dil = attrInts(node, 'dilations') ?? [1, 1];
    if (st.length !== 2 || st.some((x) => x < 1))
      throw new InputError(`${where}: bad strides [${st.join(', ')}]`);
    if (dil.some((d) => d !== 1)) {
      throw new UnsupportedOpError(`${where}: dilations [${dil.join(', ')}] are not supported (only 1)`);
    }
    return { kernel, stride: [st[0], st[1]] as [number, number] };
  }

  private conv(node: NodeProto, index: number): void {
    const where = this.where(node, index);
    const dims = this.actInput(node, index);
    if (dims.length !== 4) {
      throw new UnsupportedOpError(`${where}: only 2-D convolution over a [1, C, H, W] tensor is supported`);
    }
    const [, c, h, w] = dims;
    const wt = this.constInput(node, index, 1, 'the weights');
    if (wt.dims.length !== 4) throw new UnsupportedOpError(`${where}: weights must be [K, C, kh, kw]`);
    const [k, wc, kh, kw] = wt.dims;
    if (attrInt(node, 'group', 1) !== 1) {
      throw new UnsupportedOpError(
        `${where}: group = ${attrInt(node, 'group', 1)} is not supported (only group 1; no depthwise convolution)`,
      );
    }
    if (wc !== c) {
      throw new InputError(`${where}: weights expect ${wc} input channels, the input has ${c}`);
    }
    const { kernel, stride } = this.spatial2d(node, index, [kh, kw]);
    const pads = this.pads(node, index, h, w, kernel, stride);
    const oh = Math.floor((h + pads[0] + pads[2] - kh) / stride[0]) + 1;
    const ow = Math.floor((w + pads[1] + pads[3] - kw) / stride[1]) + 1;
    if (oh < 1 || ow < 1) throw new InputError(`${where}: the kernel is larger than the padded input`);
    const hasBias = Boolean((node.input ?? [])[2]);
    const bias = new Float64Array(k);
    if (hasBias) {
      const b = this.constInput(node, index, 2, 'the bias');
      if (b.data.length !== k)
        throw new InputError(`${where}: bias has ${b.data.length} values for ${k} kernels`);
      bias.set(b.data);
    }
    const layer: ConvLayer = {
      kind: 'conv',
      op: 'Conv',
      name: this.layerName(node, index),
      input: [c, h, w],
      output: [k, oh, ow],
      act: noActivation(),
      kernel,
      stride,
      pads,
      weights: Float64Array.from(wt.data),
      bias,
      hasBias,
      foldedBatchNorm: false,
    };
    this.pushLayer(node, layer, [1, k, oh, ow]);
  }

  /** The vector length M of a [1, M] (or [1, ..., 1, M]) activation. */
  private vectorLength(node: NodeProto, index: number, dims: number[], what: string): number {
    const m = dims[dims.length - 1];
    if (numelOf(dims) !== m) {
      throw new UnsupportedOpError(
        `${this.where(node, index)}: ${what} has shape ${formatShape(dims)}; only one sample (batch 1) is supported`,
      );
    }
    return m;
  }

  private dense(
    node: NodeProto,
    index: number,
    inDims: number[],
    weights: Float64Array,
    n: number,
  ): DenseLayer {
    const layer: DenseLayer = {
      kind: 'dense',
      op: node.opType ?? 'Gemm',
      name: this.layerName(node, index),
      input: sampleShape(inDims),
      output: [n],
      act: noActivation(),
      weights,
      bias: new Float64Array(n),
      hasBias: false,
      foldedBatchNorm: false,
    };
    return layer;
  }

  private gemm(node: NodeProto, index: number): void {
    const where = this.where(node, index);
    const aDims = this.actInput(node, index);
    if (aDims.length !== 2)
      throw new UnsupportedOpError(`${where}: input A must be 2-D, got ${formatShape(aDims)}`);
    const transA = attrInt(node, 'transA', 0) === 1;
    const [ar, m] = transA ? [aDims[1], aDims[0]] : aDims;
    if (ar !== 1) {
      throw new UnsupportedOpError(`${where}: A' has ${ar} rows; only one sample (batch 1) is supported`);
    }
    const b = this.constInput(node, index, 1, 'B');
    if (b.dims.length !== 2) throw new InputError(`${where}: B must be 2-D`);
    const transB = attrInt(node, 'transB', 0) === 1;
    const [bm, n] = transB ? [b.dims[1], b.dims[0]] : b.dims;
    if (bm !== m) throw new InputError(`${where}: A' is [1, ${m}] but B' is [${bm}, ${n}]`);
    // Y = alpha * A' B' + beta * C: alpha goes into the weights, beta into the bias.
    const alpha = attrFloat(node, 'alpha', 1);
    const beta = attrFloat(node, 'beta', 1);
    const wts = new Float64Array(n * m);
    for (let o = 0; o < n; o++) {
      for (let i = 0; i < m; i++) wts[o * m + i] = alpha * (transB ? b.data[o * m + i] : b.data[i * n + o]);
    }
    const layer = this.dense(node, index, aDims, wts, n);
    if ((node.input ?? [])[2]) {
      const c = this.constInput(node, index, 2, 'C');
      this.addBias(node, index, layer, c, [1, n], 1, beta);
      layer.hasBias = true;
    }
    this.pushLayer(node, layer, [1, n]);
  }

  private matmul(node: NodeProto, index: number): void {
    const where = this.where(node, index);
    const aDims = this.actInput(node, index);
    const m = this.vectorLength(node, index, aDims, 'input A');
    const b = this.constInput(node, index, 1, 'B');
    if (b.dims.length !== 2 || b.dims[0] !== m) {
      throw new UnsupportedOpError(`${where}: B must be a [${m}, N] constant, got ${formatShape(b.dims)}`);
    }
    const n = b.dims[1];
    const wts = new Float64Array(n * m);
    for (let o = 0; o < n; o++) for (let i = 0; i < m; i++) wts[o * m + i] = b.data[i * n + o];
    const layer = this.dense(node, index, aDims, wts, n);
    this.pushLayer(node, layer, [...aDims.slice(0, -1), n]);
  }

  /**
   * bias[c] += scale * t[...], where t broadcasts (numpy rules) to outDims and varies
   * only along the channel axis `chAxis` (a per-output-channel bias).
   */
  private addBias(
    node: NodeProto,
    index: number,
    layer: ConvLayer | DenseLayer,
    t: ConstTensor,
    outDims: number[],
    chAxis: number,
    scale: number,
  ): void {
    const rank = outDims.length;
    if (t.dims.length > rank)
      throw new UnsupportedOpError(`${this.where(node, index)}: bias has too many dimensions`);
    const td = [...new Array<number>(rank - t.dims.length).fill(1), ...t.dims];
    const ok = td.every((d, i) => d === 1 || (i === chAxis && d === outDims[i]));
    if (!ok) {
      throw new UnsupportedOpError(
        `${this.where(node, index)}: a constant of shape ${formatShape(t.dims)} added to ${formatShape(outDims)} is not a per-channel bias; only per-channel biases are supported`,
      );
    }
    const nCh = outDims[chAxis];
    for (let c = 0; c < nCh; c++) layer.bias[c] += scale * t.data[td[chAxis] === 1 ? 0 : c];
  }

  private add(node: NodeProto, index: number): void {
    const where = this.where(node, index);
    const ins = node.input ?? [];
    const vals = ins.map((n) => this.values.get(n));
    const k = vals.findIndex((v) => v?.kind === 'const');
    if (ins.length !== 2 || k < 0) {
      throw new UnsupportedOpError(
        `${where}: only a constant bias added to the output of MatMul, Gemm or Conv is supported (no residual connections)`,
      );
    }
    const dims = this.actInput(node, index, 1 - k);
    const layer = this.rawOutputOf >= 0 ? this.layers[this.rawOutputOf] : undefined;
    if (!layer || (layer.kind !== 'dense' && layer.kind !== 'conv')) {
      throw new UnsupportedOpError(
        `${where}: Add is supported only as the bias of the MatMul, Gemm or Conv right before it (before any activation)`,
      );
    }
    this.addBias(
      node,
      index,
      layer,
      this.constInput(node, index, k, 'the bias'),
      dims,
      dims.length === 4 ? 1 : dims.length - 1,
      1,
    );
    layer.hasBias = true;
    layer.op = layer.op.includes('+Add') ? layer.op : `${layer.op}+Add`;
    this.setOutput(node, dims);
  }

  private batchNorm(node: NodeProto, index: number): void {
    const where = this.where(node, index);
    const dims = this.actInput(node, index);
    const layer = this.rawOutputOf >= 0 ? this.layers[this.rawOutputOf] : undefined;
    if (!layer || (layer.kind !== 'conv' && layer.kind !== 'dense')) {
      throw new UnsupportedOpError(
        `${where}: BatchNormalization is supported only right after a Conv or Gemm (it is folded into their weights)`,
      );
    }
    if (attrInt(node, 'training_mode', 0) !== 0) {
      throw new UnsupportedOpError(
        `${where}: training_mode BatchNormalization is not supported; export in eval mode`,
      );
    }
    const ch = layer.output[0]; // channels of [K, H, W] or length of [N]
    const [g, b, mean, v] = [1, 2, 3, 4].map((k) => {
      const t = this.constInput(node, index, k, ['scale', 'B', 'mean', 'var'][k - 1]);
      if (t.data.length !== ch)
        throw new InputError(`${where}: parameter ${k} has ${t.data.length} values for ${ch} channels`);
      return t.data;
    });
    const eps = attrFloat(node, 'epsilon', 1e-5);
    // y = g (x - mean) / sqrt(var + eps) + b, with x = W*in + bias:
    // W' = W * f, bias' = (bias - mean) * f + b, f = g / sqrt(var + eps).
    const per = layer.weights.length / ch;
    for (let o = 0; o < ch; o++) {
      const f = g[o] / Math.sqrt(v[o] + eps);
      for (let i = 0; i < per; i++) layer.weights[o * per + i] *= f;
      layer.bias[o] = (layer.bias[o] - mean[o]) * f + b[o];
    }
    layer.hasBias = true;
    layer.foldedBatchNorm = true;
    layer.op = `${layer.op}+BatchNormalization`;
    this.setOutput(node, dims);
  }

  /** Relu / Clip: fused into the layer that produced the head (through reshapes). */
  private activation(node: NodeProto, index: number, lo: number, hi: number): void {
    const dims = this.actInput(node, index);
    let target: Layer | undefined;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      if (this.layers[i].kind !== 'reshape') {
        target = this.layers[i];
        break;
      }
    }
    if (!target) {
      throw new UnsupportedOpError(
        `${this.where(node, index)}: an activation on the model input has no layer to be fused into; supported ops: ${SUPPORTED_OPS}`,
      );
    }
    const a: Activation = target.act;
    a.ops.push(node.opType ?? 'Relu');
    a.lo = Math.max(a.lo, lo);
    a.hi = Math.min(a.hi, hi);
    if (!(a.lo < a.hi))
      throw new UnsupportedOpError(`${this.where(node, index)}: the fused activations leave an empty range`);
    this.rawOutputOf = -1;
    this.setOutput(node, dims);
  }

  private pool(node: NodeProto, index: number): void {
    const where = this.where(node, index);
    const op = node.opType as 'MaxPool' | 'AveragePool';
    const dims = this.actInput(node, index);
    if (dims.length !== 4)
      throw new UnsupportedOpError(`${where}: only 2-D pooling over [1, C, H, W] is supported`);
    if ((node.output ?? [])[1])
      throw new UnsupportedOpError(`${where}: the MaxPool Indices output is not supported`);
    const [, c, h, w] = dims;
    const { kernel, stride } = this.spatial2d(node, index);
    const pads = this.pads(node, index, h, w, kernel, stride);
    const ceil = attrInt(node, 'ceil_mode', 0) === 1;
    const outSize = (n: number, pb: number, pe: number, k: number, s: number): number => {
      const span = n + pb + pe - k;
      if (!ceil) return Math.floor(span / s) + 1;
      // ceil_mode: the last window may hang over the end, but must start inside the input
      // or its leading padding (ONNX / PyTorch rule).
      let o = Math.ceil(span / s) + 1;
      if ((o - 1) * s >= n + pb) o--;
      return o;
    };
    const oh = outSize(h, pads[0], pads[2], kernel[0], stride[0]);
    const ow = outSize(w, pads[1], pads[3], kernel[1], stride[1]);
    if (oh < 1 || ow < 1) throw new InputError(`${where}: the window is larger than the padded input`);
    if (ceil) {
      if (op === 'AveragePool') {
        throw new UnsupportedOpError(`${where}: ceil_mode = 1 is not supported for AveragePool`);
      }
      // For max pooling, extra bottom/right padding (which never wins) gives the same
      // windows as ceil_mode with the floor formula the rest of the toolchain uses.
      pads[2] = Math.max(pads[2], (oh - 1) * stride[0] + kernel[0] - h - pads[0]);
      pads[3] = Math.max(pads[3], (ow - 1) * stride[1] + kernel[1] - w - pads[1]);
    }
    const layer: PoolLayer = {
      kind: op === 'MaxPool' ? 'maxpool' : 'avgpool',
      op,
      name: this.layerName(node, index),
      input: [c, h, w],
      output: [c, oh, ow],
      act: noActivation(),
      kernel,
      stride,
      pads,
      countIncludePad: op === 'AveragePool' ? attrInt(node, 'count_include_pad', 0) === 1 : false,
    };
    this.pushLayer(node, layer, [1, c, oh, ow]);
  }
}
