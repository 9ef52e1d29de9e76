// ONNX → float layer graph (host/ir.ts), with every shape inferred.
//
// The graph is decoded with onnx-proto (protobufjs). Nodes are visited in dependency
// order whatever order the file lists them in. Every node whose inputs are all constants
// is evaluated (host/onnx/tensor.ts), so constant subgraphs fold whatever pattern the
// exporter wrote. Then, where the tensor in between has no other reader:
// BatchNormalization after Conv/Gemm/MatMul folds into its weights, an Add of a
// constant into the bias of the Conv/Gemm/MatMul before it, Relu/Clip into the layer
// before, a zero Pad into the Conv (or count_include_pad AveragePool) after it; Sub/Mul/
// Div/Add by constants on the model input become the input transform (normalization,
// applied by the host as it quantizes the input); Softmax/LogSoftmax/Sigmoid as the last
// node become the host step. The operator table (host/onnx/operators.ts) lists what is
// accepted; anything else is refused with one line naming the node and its op.
import { readFileSync } from 'node:fs';
import type onnxPkg from 'onnx-proto';
import { InputError, UnsupportedOpError } from '../errors.ts';
import type {
  ConvLayer,
  DenseLayer,
  FloatModel,
  HostStep,
  InputTransform,
  Layer,
  Pads,
  PadLayer,
  PoolLayer,
  Shape,
} from '../ir.ts';
import { formatShape, INPUT, noActivation } from '../ir.ts';
import { constantOnly, operatorSupport, SUPPORTED_OPS } from './operators.ts';
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
  numelOf,
  onnx,
  reshapeDims,
  toNum,
  type ConstTensor,
  type NodeProto,
} from './tensor.ts';

export { SUPPORTED_OPS };

type Value =
  { kind: 'const'; t: ConstTensor } | { kind: 'act'; dims: number[]; tensor: string; host?: boolean };

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
  const opset = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  try {
    return new Importer(source, opset ? toNum(opset.version) : 13).run(graph);
  } catch (err) {
    if (err instanceof InputError) throw err;
    // Garbage that still decodes as protobuf ends up here with nonsense fields.
    throw new InputError(`${source}: malformed ONNX model (${(err as Error).message})`);
  }
}

class Importer {
  private values = new Map<string, Value>();
  private layers: Layer[] = [];
  private byName = new Map<string, Layer>();
  /** Node inputs (and graph outputs) not yet visited that read each tensor. */
  private pending = new Map<string, number>();
  /** How many node inputs and graph outputs read each value name. */
  private uses = new Map<string, number>();
  /** Tensors of conv/dense layers with nothing fused after their sum yet (bias, BN may fold). */
  private raw = new Set<string>();
  private transform: InputTransform | null = null;
  private inputRead = false;
  private inputChannels = 1;
  private hostStep: HostStep | undefined;

  constructor(
    private source: string,
    private opset: number,
  ) {}

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
    this.inputChannels = inDims[1];

    const nodes = graph.node ?? [];
    const outs = graph.output ?? [];
    if (outs.length !== 1) {
      throw new UnsupportedOpError(
        `${src}: the model has ${outs.length} outputs; nnfpga runs models with one output`,
      );
    }
    const outputName = outs[0].name ?? '';
    for (const n of nodes)
      for (const i of n.input ?? []) if (i) this.uses.set(i, (this.uses.get(i) ?? 0) + 1);
    this.uses.set(outputName, (this.uses.get(outputName) ?? 0) + 1);
    this.define(inputName, { kind: 'act', dims: inDims, tensor: INPUT });

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

    const out = this.values.get(outputName);
    if (!out || out.kind !== 'act') {
      throw new UnsupportedOpError(`${src}: graph output '${outputName}' is not computed from the input`);
    }
    if (out.tensor === INPUT) throw new UnsupportedOpError(`${src}: the model has no layers`);
    // Keep only what the output depends on, in creation (= dependency) order; the
    // output's layer is then the last one.
    const needed = new Set<string>();
    const mark = (t: string): void => {
      if (t === INPUT || needed.has(t)) return;
      needed.add(t);
      for (const i of this.byName.get(t)!.inputs) mark(i);
    };
    mark(out.tensor);
    const layers = this.layers.filter((l) => needed.has(l.name));
    if (!layers.some((l) => l.kind !== 'reshape')) {
      throw new UnsupportedOpError(`${src}: the model has no Conv, Gemm, MatMul or pooling layer`);
    }
    const last = layers[layers.length - 1];
    return {
      source: src,
      inputName,
      outputName,
      input: sampleShape(inDims),
      output: last.output,
      layers,
      ...(this.transform ? { inputTransform: this.transform } : {}),
      ...(this.hostStep ? { hostStep: this.hostStep } : {}),
    };
  }

  // ---- helpers ----

  private where(node: NodeProto, index: number): string {
    return `${this.source}: ${nodeLabel(node, index)}`;
  }

  /** Binds a value name; an activation adds its readers to its tensor's pending count. */
  private define(name: string, v: Value): void {
    this.values.set(name, v);
    if (v.kind === 'act')
      this.pending.set(v.tensor, (this.pending.get(v.tensor) ?? 0) + (this.uses.get(name) ?? 0));
  }

  /** Nobody but the node being visited (whose read is already counted off) reads tensor t. */
  private sole(t: string): boolean {
    return (this.pending.get(t) ?? 0) === 0;
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

  /** The activation read as input k. */
  private act(node: NodeProto, index: number, k = 0): { dims: number[]; tensor: string } {
    const name = (node.input ?? [])[k];
    const v = name ? this.values.get(name) : undefined;
    if (!v || v.kind !== 'act') {
      throw new UnsupportedOpError(
        `${this.where(node, index)}: input ${k} must be an activation (the output of a previous layer or the model input)`,
      );
    }
    if (v.host) {
      throw new UnsupportedOpError(
        `${this.where(node, index)}: reads the output of ${this.hostStep?.op}, which is supported only as the last node (the host applies it to the device's output)`,
      );
    }
    return v;
  }

  private setOutput(node: NodeProto, dims: number[], tensor: string, host = false): void {
    this.define((node.output ?? [])[0], { kind: 'act', dims, tensor, ...(host ? { host } : {}) });
  }

  private layerName(node: NodeProto, index: number): string {
    const base = node.name || (node.output ?? [])[0] || `${node.opType}_${index}`;
    let name = base;
    for (let k = 2; this.byName.has(name) || name === INPUT; k++) name = `${base}_${k}`;
    return name;
  }

  private pushLayer(node: NodeProto, layer: Layer, outDims: number[]): void {
    if (layer.inputs.includes(INPUT)) this.inputRead = true;
    this.layers.push(layer);
    this.byName.set(layer.name, layer);
    if (layer.kind === 'conv' || layer.kind === 'dense') this.raw.add(layer.name);
    this.setOutput(node, outDims, layer.name);
  }

  private removeLayer(layer: Layer): void {
    this.layers.splice(this.layers.indexOf(layer), 1);
    this.byName.delete(layer.name);
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
    // This node's reads are counted off first, so sole(t) asks about the other readers.
    for (const v of ins)
      if (v?.kind === 'act') this.pending.set(v.tensor, (this.pending.get(v.tensor) ?? 0) - 1);
    const allConst = ins.every((v) => v === undefined || v.kind === 'const');

    if (op === 'Constant') {
      this.values.set((node.output ?? [])[0], { kind: 'const', t: constFromNode(node, where) });
      return;
    }
    if (op === 'Shape' && ins[0]?.kind === 'act') {
      // Shapes are static here, so Shape of an activation is a constant (x.view(x.size(0), -1)).
      const dims = ins[0].dims;
      const t: ConstTensor = { dims, data: new Float64Array(numelOf(dims)), isInt: false };
      this.values.set((node.output ?? [])[0], { kind: 'const', t: evalConst(node, [t], where)[0] });
      return;
    }
    if (allConst && CONST_OPS.has(op)) {
      const outs = evalConst(
        node,
        ins.map((v) => (v && v.kind === 'const' ? v.t : undefined)),
        where,
      );
      (node.output ?? []).forEach((name, k) => {
        if (name && outs[k]) this.values.set(name, { kind: 'const', t: outs[k] });
      });
      return;
    }

    switch (op) {
      case 'Identity': {
        const a = this.act(node, index);
        return this.setOutput(node, a.dims, a.tensor);
      }
      case 'Dropout': {
        // Inference: Dropout is the identity. Its optional mask output has no meaning here.
        if ((node.output ?? [])[1]) {
          throw new UnsupportedOpError(`${where}: the Dropout mask output is not supported`);
        }
        const a = this.act(node, index);
        return this.setOutput(node, a.dims, a.tensor);
      }
      case 'Flatten': {
        const a = this.act(node, index);
        return this.reshape(node, index, a, flattenDims(a.dims, attrInt(node, 'axis', 1), where));
      }
      case 'Reshape': {
        const a = this.act(node, index);
        const spec = (node.input ?? [])[1]
          ? Array.from(this.constInput(node, index, 1, 'the target shape').data)
          : (attrInts(node, 'shape') ?? []);
        return this.reshape(
          node,
          index,
          a,
          reshapeDims(a.dims, spec, attrInt(node, 'allowzero', 0) === 1, where),
        );
      }
      case 'Conv':
        return this.conv(node, index);
      case 'Gemm':
        return this.gemm(node, index);
      case 'MatMul':
        return this.matmul(node, index);
      case 'Add':
      case 'Sub':
      case 'Mul':
      case 'Div':
        return this.arith(node, index, ins);
      case 'Concat':
        return this.concat(node, index, ins);
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
      case 'Softmax':
      case 'LogSoftmax':
      case 'Sigmoid':
        return this.host(node, index, op);
      case 'Pad':
        return this.pad(node, index);
      case 'MaxPool':
      case 'AveragePool':
        return this.pool(node, index);
      case 'GlobalAveragePool': {
        const a = this.act(node, index);
        if (a.dims.length !== 4) throw new UnsupportedOpError(`${where}: needs a [1, C, H, W] input`);
        const [, c, h, w] = a.dims;
        const layer: PoolLayer = {
          kind: 'avgpool',
          op,
          name: this.layerName(node, index),
          inputs: [a.tensor],
          input: [c, h, w],
          output: [c, 1, 1],
          act: noActivation(),
          kernel: [h, w],
          stride: [1, 1],
          pads: [0, 0, 0, 0],
          countIncludePad: true,
        };
        return this.pushLayer(node, layer, [1, c, 1, 1]);
      }
      default:
        // In the table, so folded when its inputs are constants; here one is an activation.
        throw new UnsupportedOpError(
          constantOnly(op)
            ? `${where} reads an activation; ${op} is supported only on constants (computed at import)`
            : `${where} is not supported on an activation; supported ops: ${SUPPORTED_OPS}`,
        );
    }
  }

  private reshape(
    node: NodeProto,
    index: number,
    a: { dims: number[]; tensor: string },
    outDims: number[],
  ): void {
    // A target without a leading 1 (e.g. [784, 1] for Gemm with transA = 1) is fine:
    // the data order is unchanged and the consumers check the layout they need.
    const layer: Layer = {
      kind: 'reshape',
      op: node.opType ?? 'Reshape',
      name: this.layerName(node, index),
      inputs: [a.tensor],
      input: sampleShape(a.dims),
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

  /**
   * A zero Pad layer that only `reader` reads and that has no activation: removed, its
   * pads returned for the reader to take over, and its input read instead.
   */
  private takePad(a: {
    dims: number[];
    tensor: string;
  }): { pads: Pads; tensor: string; dims: number[] } | null {
    const p = this.byName.get(a.tensor);
    if (!p || p.kind !== 'pad' || !this.sole(a.tensor) || p.act.ops.length > 0) return null;
    this.removeLayer(p);
    const src = p.inputs[0];
    if (src === INPUT) this.inputRead = this.layers.some((l) => l.inputs.includes(INPUT));
    return { pads: p.pads, tensor: src, dims: [1, ...p.input] };
  }

  private conv(node: NodeProto, index: number): void {
    const where = this.where(node, index);
    let a = this.act(node, index);
    if (a.dims.length !== 4) {
      throw new UnsupportedOpError(`${where}: only 2-D convolution over a [1, C, H, W] tensor is supported`);
    }
    const wt = this.constInput(node, index, 1, 'the weights');
    if (wt.dims.length !== 4) throw new UnsupportedOpError(`${where}: weights must be [K, C/group, kh, kw]`);
    const [k, wc, kh, kw] = wt.dims;
    const group = attrInt(node, 'group', 1);
    const c = a.dims[1];
    if (!(group >= 1) || c % group !== 0 || k % group !== 0) {
      throw new InputError(
        `${where}: group = ${group} does not divide the ${c} input and ${k} output channels`,
      );
    }
    if (wc * group !== c) {
      throw new InputError(
        `${where}: weights expect ${wc * group} input channels (${wc} per group x ${group}), the input has ${c}`,
      );
    }
    const { kernel, stride } = this.spatial2d(node, index, [kh, kw]);
    const [, , h0, w0] = a.dims;
    const pads = this.pads(node, index, h0, w0, kernel, stride);
    // A zero Pad before the conv is the conv's own padding (both read real zeros).
    const padded = this.takePad(a);
    if (padded) {
      for (let i = 0; i < 4; i++) pads[i] += padded.pads[i];
      a = padded;
    }
    const [, , h, w] = a.dims;
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
      inputs: [a.tensor],
      input: [c, h, w],
      output: [k, oh, ow],
      act: noActivation(),
      kernel,
      stride,
      pads,
      group,
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
    a: { dims: number[]; tensor: string },
    weights: Float64Array,
    n: number,
  ): DenseLayer {
    return {
      kind: 'dense',
      op: node.opType ?? 'Gemm',
      name: this.layerName(node, index),
      inputs: [a.tensor],
      input: sampleShape(a.dims),
      output: [n],
      act: noActivation(),
      weights,
      bias: new Float64Array(n),
      hasBias: false,
      foldedBatchNorm: false,
    };
  }

  private gemm(node: NodeProto, index: number): void {
    const where = this.where(node, index);
    const a = this.act(node, index);
    const aDims = a.dims;
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
    const layer = this.dense(node, index, a, wts, n);
    if ((node.input ?? [])[2]) {
      const c = this.constInput(node, index, 2, 'C');
      this.addBias(node, index, layer, c, [1, n], 1, beta);
      layer.hasBias = true;
    }
    this.pushLayer(node, layer, [1, n]);
  }

  private matmul(node: NodeProto, index: number): void {
    const where = this.where(node, index);
    const a = this.act(node, index);
    const m = this.vectorLength(node, index, a.dims, 'input A');
    const b = this.constInput(node, index, 1, 'B');
    if (b.dims.length !== 2 || b.dims[0] !== m) {
      throw new UnsupportedOpError(`${where}: B must be a [${m}, N] constant, got ${formatShape(b.dims)}`);
    }
    const n = b.dims[1];
    const wts = new Float64Array(n * m);
    for (let o = 0; o < n; o++) for (let i = 0; i < m; i++) wts[o * m + i] = b.data[i * n + o];
    const layer = this.dense(node, index, a, wts, n);
    this.pushLayer(node, layer, [...a.dims.slice(0, -1), n]);
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
    const per = this.perChannel(node, index, t, outDims, chAxis, 'added to');
    for (let c = 0; c < per.length; c++) layer.bias[c] += scale * per[c];
  }

  /** The values of a constant that varies only along the channel axis of `dims`. */
  private perChannel(
    node: NodeProto,
    index: number,
    t: ConstTensor,
    dims: number[],
    chAxis: number,
    verb: string,
  ): Float64Array {
    const rank = dims.length;
    const td = [...new Array<number>(Math.max(0, rank - t.dims.length)).fill(1), ...t.dims];
    const ok = td.length === rank && td.every((d, i) => d === 1 || (i === chAxis && d === dims[i]));
    if (!ok) {
      throw new UnsupportedOpError(
        `${this.where(node, index)}: a constant of shape ${formatShape(t.dims)} ${verb} ${formatShape(dims)} is not per channel; only per-channel constants are supported`,
      );
    }
    const n = dims[chAxis];
    return Float64Array.from({ length: n }, (_, c) => t.data[td[chAxis] === 1 ? 0 : c]);
  }

  /** Add/Sub/Mul/Div: a residual Add of two activations, a bias, or input normalization. */
  private arith(node: NodeProto, index: number, ins: (Value | undefined)[]): void {
    const where = this.where(node, index);
    const op = node.opType as 'Add' | 'Sub' | 'Mul' | 'Div';
    if (ins.length !== 2 || !ins[0] || !ins[1]) throw new InputError(`${where}: needs two inputs`);
    const k = ins.findIndex((v) => v?.kind === 'const');
    if (k < 0) {
      if (op !== 'Add') {
        throw new UnsupportedOpError(
          `${where}: ${op} of two activations is not supported (only Add: a residual connection)`,
        );
      }
      return this.residual(node, index);
    }
    const a = this.act(node, index, 1 - k);
    const t = this.constInput(node, index, k, 'the constant');
    const chAxis = a.dims.length === 4 ? 1 : a.dims.length - 1;
    // A bias of the Conv/Gemm/MatMul right before.
    if (op === 'Add' && this.raw.has(a.tensor) && this.sole(a.tensor)) {
      const layer = this.byName.get(a.tensor) as ConvLayer | DenseLayer;
      this.addBias(node, index, layer, t, a.dims, chAxis, 1);
      layer.hasBias = true;
      layer.op = layer.op.includes('+Add') ? layer.op : `${layer.op}+Add`;
      return this.setOutput(node, a.dims, a.tensor);
    }
    // Normalization of the model input: x' = x * scale + offset, per channel.
    if (a.tensor === INPUT && !this.inputRead && this.sole(INPUT)) {
      const per = this.perChannel(node, index, t, a.dims, 1, 'applied to the input');
      const c = this.inputChannels;
      const tr = this.transform ?? {
        scale: new Array<number>(c).fill(1),
        offset: new Array<number>(c).fill(0),
      };
      for (let ch = 0; ch < c; ch++) {
        const v = per.length === 1 ? per[0] : per[ch];
        if (op === 'Add') tr.offset[ch] += v;
        else if (op === 'Sub' && k === 1) tr.offset[ch] -= v;
        else if (op === 'Sub') {
          tr.scale[ch] = -tr.scale[ch];
          tr.offset[ch] = v - tr.offset[ch];
        } else if (op === 'Mul') {
          tr.scale[ch] *= v;
          tr.offset[ch] *= v;
        } else if (k === 1) {
          tr.scale[ch] /= v;
          tr.offset[ch] /= v;
        } else {
          throw new UnsupportedOpError(`${where}: a constant divided by the input is not supported`);
        }
      }
      this.transform = tr;
      return this.setOutput(node, a.dims, INPUT);
    }
    throw new UnsupportedOpError(
      `${where}: ${op} of a constant is supported only on the model input (normalization)` +
        (op === 'Add' ? ' or as the bias of the Conv, Gemm or MatMul right before it' : ''),
    );
  }

  private residual(node: NodeProto, index: number): void {
    const where = this.where(node, index);
    const a = this.act(node, index, 0);
    const b = this.act(node, index, 1);
    if (a.dims.join() !== b.dims.join()) {
      throw new UnsupportedOpError(
        `${where}: adds ${formatShape(a.dims)} and ${formatShape(b.dims)}; only tensors of the same shape (no broadcasting)`,
      );
    }
    const shape = sampleShape(a.dims);
    if (shape.length !== 3 && shape.length !== 1)
      throw new UnsupportedOpError(`${where}: needs [1, C, H, W] or [1, M] inputs`);
    this.pushLayer(
      node,
      {
        kind: 'add',
        op: 'Add',
        name: this.layerName(node, index),
        inputs: [a.tensor, b.tensor],
        input: shape,
        output: shape,
        act: noActivation(),
      },
      a.dims,
    );
  }

  private concat(node: NodeProto, index: number, ins: (Value | undefined)[]): void {
    const where = this.where(node, index);
    if (ins.some((v) => v?.kind === 'const')) {
      throw new UnsupportedOpError(`${where}: Concat of an activation and a constant is not supported`);
    }
    const parts = (node.input ?? []).map((_, k) => this.act(node, index, k));
    const rank = parts[0].dims.length;
    const axis = attrInt(node, 'axis', 1);
    if ((rank !== 4 && rank !== 2) || (axis !== 1 && axis !== 1 - rank)) {
      throw new UnsupportedOpError(
        `${where}: only Concat on the channel axis of [1, C, H, W] or [1, M] tensors is supported (axis ${axis} of ${formatShape(parts[0].dims)})`,
      );
    }
    for (const p of parts) {
      if (p.dims.length !== rank || p.dims.some((d, i) => i !== 1 && d !== parts[0].dims[i])) {
        throw new InputError(
          `${where}: inputs ${parts.map((q) => formatShape(q.dims)).join(', ')} differ outside the channel axis`,
        );
      }
    }
    const outDims = [...parts[0].dims];
    outDims[1] = parts.reduce((s, p) => s + p.dims[1], 0);
    this.pushLayer(
      node,
      {
        kind: 'concat',
        op: 'Concat',
        name: this.layerName(node, index),
        inputs: parts.map((p) => p.tensor),
        input: sampleShape(parts[0].dims),
        output: sampleShape(outDims),
        act: noActivation(),
      },
      outDims,
    );
  }

  private batchNorm(node: NodeProto, index: number): void {
    const where = this.where(node, index);
    const a = this.act(node, index);
    if (attrInt(node, 'training_mode', 0) !== 0) {
      throw new UnsupportedOpError(
        `${where}: training_mode BatchNormalization is not supported; export in eval mode`,
      );
    }
    const ch = a.dims[1];
    const [g, b, mean, v] = [1, 2, 3, 4].map((k) => {
      const t = this.constInput(node, index, k, ['scale', 'B', 'mean', 'var'][k - 1]);
      if (t.data.length !== ch)
        throw new InputError(`${where}: parameter ${k} has ${t.data.length} values for ${ch} channels`);
      return t.data;
    });
    const eps = attrFloat(node, 'epsilon', 1e-5);
    // y = g (x - mean) / sqrt(var + eps) + b = f x + (b - mean f), f = g / sqrt(var + eps).
    const f = Float64Array.from({ length: ch }, (_, o) => g[o] / Math.sqrt(v[o] + eps));
    if (this.raw.has(a.tensor) && this.sole(a.tensor)) {
      // Folded into the layer before: W' = W f, bias' = (bias - mean) f + b.
      const layer = this.byName.get(a.tensor) as ConvLayer | DenseLayer;
      if (layer.output[0] !== ch) throw new InputError(`${where}: ${ch} channels after ${layer.output[0]}`);
      const per = layer.weights.length / ch;
      for (let o = 0; o < ch; o++) {
        for (let i = 0; i < per; i++) layer.weights[o * per + i] *= f[o];
        layer.bias[o] = (layer.bias[o] - mean[o]) * f[o] + b[o];
      }
      layer.hasBias = true;
      layer.foldedBatchNorm = true;
      layer.op = `${layer.op}+BatchNormalization`;
      return this.setOutput(node, a.dims, a.tensor);
    }
    if (a.dims.length !== 4) {
      throw new UnsupportedOpError(
        `${where}: BatchNormalization of a vector is supported only right after a Gemm or MatMul (it is folded into its weights)`,
      );
    }
    // Elsewhere on an image: a per-channel affine map, i.e. a depthwise 1x1 convolution.
    const [, c, h, w] = a.dims;
    const layer: ConvLayer = {
      kind: 'conv',
      op: 'BatchNormalization',
      name: this.layerName(node, index),
      inputs: [a.tensor],
      input: [c, h, w],
      output: [c, h, w],
      act: noActivation(),
      kernel: [1, 1],
      stride: [1, 1],
      pads: [0, 0, 0, 0],
      group: c,
      weights: f,
      bias: Float64Array.from({ length: c }, (_, o) => b[o] - mean[o] * f[o]),
      hasBias: true,
      foldedBatchNorm: true,
    };
    this.pushLayer(node, layer, a.dims);
  }

  /** Relu / Clip: fused into the layer that produced the tensor (through reshapes). */
  private activation(node: NodeProto, index: number, lo: number, hi: number): void {
    const a = this.act(node, index);
    let t = a.tensor;
    let target = this.byName.get(t);
    // Through reshapes: the data is the same, so the clamp may go on the layer before.
    while (target?.kind === 'reshape' && this.sole(t) && target.inputs[0] !== INPUT) {
      t = target.inputs[0];
      target = this.byName.get(t);
    }
    if (!target || target.kind === 'reshape' || !this.sole(a.tensor) || !this.sole(t)) {
      throw new UnsupportedOpError(
        target
          ? `${this.where(node, index)}: the tensor it reads is also read by other nodes, so it cannot be fused into the layer before; only activations fused into their layer are supported`
          : `${this.where(node, index)}: an activation on the model input has no layer to be fused into; supported ops: ${SUPPORTED_OPS}`,
      );
    }
    const act = target.act;
    act.ops.push(node.opType ?? 'Relu');
    act.lo = Math.max(act.lo, lo);
    act.hi = Math.min(act.hi, hi);
    if (!(act.lo < act.hi))
      throw new UnsupportedOpError(`${this.where(node, index)}: the fused activations leave an empty range`);
    this.raw.delete(target.name);
    this.setOutput(node, a.dims, a.tensor);
  }

  /** Softmax / LogSoftmax / Sigmoid: the host step, valid only as the last node. */
  private host(node: NodeProto, index: number, op: HostStep['op']): void {
    const where = this.where(node, index);
    const a = this.act(node, index);
    if (this.hostStep) {
      throw new UnsupportedOpError(`${where}: a second output activation after ${this.hostStep.op}`);
    }
    const rank = a.dims.length;
    const dflt = op !== 'Sigmoid' && this.opset < 13 ? 1 : -1;
    const raw = op === 'Sigmoid' ? rank - 1 : attrInt(node, 'axis', dflt);
    const axis = raw < 0 ? raw + rank : raw;
    if (axis < 1 || axis >= rank) {
      throw new UnsupportedOpError(`${where}: axis ${raw} over the batch dimension is not supported`);
    }
    this.hostStep = { op, axis: axis - 1, flatten: op !== 'Sigmoid' && this.opset < 13 };
    this.setOutput(node, a.dims, a.tensor, true);
  }

  private pad(node: NodeProto, index: number): void {
    const where = this.where(node, index);
    const a = this.act(node, index);
    const rank = a.dims.length;
    const mode = attrString(node, 'mode', 'constant');
    if (mode !== 'constant') {
      throw new UnsupportedOpError(`${where}: mode '${mode}' is not supported (only constant zero padding)`);
    }
    const ins = node.input ?? [];
    let pads =
      this.opset >= 11
        ? Array.from(this.constInput(node, index, 1, 'the pads').data)
        : (attrInts(node, 'pads') ?? []);
    const value =
      this.opset >= 11
        ? ins[2]
          ? this.constInput(node, index, 2, 'the value').data[0]
          : 0
        : attrFloat(node, 'value', 0);
    if (value !== 0) {
      throw new UnsupportedOpError(`${where}: constant value ${value} is not supported (only zero padding)`);
    }
    if (ins[3]) {
      // opset 18: pads for the listed axes only.
      const axes = Array.from(this.constInput(node, index, 3, 'the axes').data).map((x) =>
        x < 0 ? x + rank : x,
      );
      const full = new Array<number>(2 * rank).fill(0);
      axes.forEach((ax, i) => {
        full[ax] = pads[i];
        full[rank + ax] = pads[axes.length + i];
      });
      pads = full;
    }
    if (rank !== 4 || pads.length !== 8) {
      throw new UnsupportedOpError(`${where}: only padding of a [1, C, H, W] tensor is supported`);
    }
    if (pads[0] || pads[1] || pads[4] || pads[5]) {
      throw new UnsupportedOpError(`${where}: padding of the batch or channel axis is not supported`);
    }
    if (pads.some((p) => p < 0)) {
      throw new UnsupportedOpError(`${where}: negative pads (cropping) are not supported`);
    }
    const [t, l, b, r] = [pads[2], pads[3], pads[6], pads[7]];
    if (t + l + b + r === 0) return this.setOutput(node, a.dims, a.tensor);
    const [, c, h, w] = a.dims;
    const layer: PadLayer = {
      kind: 'pad',
      op: 'Pad',
      name: this.layerName(node, index),
      inputs: [a.tensor],
      input: [c, h, w],
      output: [c, h + t + b, w + l + r],
      act: noActivation(),
      pads: [t, l, b, r],
    };
    this.pushLayer(node, layer, [1, c, h + t + b, w + l + r]);
  }

  private pool(node: NodeProto, index: number): void {
    const where = this.where(node, index);
    const op = node.opType as 'MaxPool' | 'AveragePool';
    let a = this.act(node, index);
    if (a.dims.length !== 4)
      throw new UnsupportedOpError(`${where}: only 2-D pooling over [1, C, H, W] is supported`);
    if ((node.output ?? [])[1])
      throw new UnsupportedOpError(`${where}: the MaxPool Indices output is not supported`);
    const { kernel, stride } = this.spatial2d(node, index);
    let pads = this.pads(node, index, a.dims[2], a.dims[3], kernel, stride);
    let countIncludePad = op === 'AveragePool' ? attrInt(node, 'count_include_pad', 0) === 1 : false;
    const ceil = attrInt(node, 'ceil_mode', 0) === 1;
    // A zero Pad before an average pool whose own padding counts too (or that has none):
    // the pool's padding, counted in the divisor.
    if (op === 'AveragePool' && !ceil && (countIncludePad || pads.every((p) => p === 0))) {
      const padded = this.takePad(a);
      if (padded) {
        pads = pads.map((p, i) => p + padded.pads[i]) as Pads;
        countIncludePad = true;
        a = padded;
      }
    }
    const [, c, h, w] = a.dims;
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
    if (pads.every((p) => p === 0)) countIncludePad = op === 'AveragePool';
    const layer: PoolLayer = {
      kind: op === 'MaxPool' ? 'maxpool' : 'avgpool',
      op,
      name: this.layerName(node, index),
      inputs: [a.tensor],
      input: [c, h, w],
      output: [c, oh, ow],
      act: noActivation(),
      kernel,
      stride,
      pads,
      countIncludePad,
    };
    this.pushLayer(node, layer, [1, c, oh, ow]);
  }
}
