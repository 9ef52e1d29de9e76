// ONNX models from a graph description (GraphSpec -> ModelProto bytes) on onnx-proto, the
// package the importer decodes with: the generated MLPerf Tiny shapes (host/bench/mlperf.ts)
// and the tests' models.
import onnxPkg from 'onnx-proto';

const { onnx } = onnxPkg;
type IAttr = onnxPkg.onnx.IAttributeProto;
type INode = onnxPkg.onnx.INodeProto;
type ITensor = onnxPkg.onnx.ITensorProto;

const AT = onnx.AttributeProto.AttributeType;
export const attr = {
  i: (name: string, i: number): IAttr => ({ name, type: AT.INT, i }),
  ints: (name: string, ints: number[]): IAttr => ({ name, type: AT.INTS, ints }),
  f: (name: string, f: number): IAttr => ({ name, type: AT.FLOAT, f }),
  s: (name: string, s: string): IAttr => ({ name, type: AT.STRING, s: Buffer.from(s) }),
  t: (name: string, t: ITensor): IAttr => ({ name, type: AT.TENSOR, t }),
};

export function floatTensor(name: string, dims: number[], data: ArrayLike<number>): ITensor {
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, floatData: Array.from(data) };
}

/** float32 stored as raw little-endian bytes, as PyTorch writes initializers. */
export function rawFloatTensor(name: string, dims: number[], data: Float32Array): ITensor {
  return {
    name,
    dims,
    dataType: onnx.TensorProto.DataType.FLOAT,
    rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)),
  };
}

export function int64Tensor(name: string, dims: number[], data: number[]): ITensor {
  return { name, dims, dataType: onnx.TensorProto.DataType.INT64, int64Data: data };
}

export function node(
  opType: string,
  input: string[],
  output: string[],
  attribute: IAttr[] = [],
  name = '',
): INode {
  return { opType, input, output, attribute, name: name || `${opType}_${output[0]}` };
}

export interface GraphSpec {
  nodes: INode[];
  initializers?: ITensor[];
  input?: { name: string; dims: (number | string)[]; elemType?: number };
  output?: string;
  opset?: number;
  /** List the initializers among the graph inputs, as old exporters did. */
  initializersAsInputs?: boolean;
}

export function buildModel(spec: GraphSpec): Uint8Array {
  const inp = spec.input ?? { name: 'x', dims: [1, 1, 8, 8] };
  const valueInfo = (name: string, dims: (number | string)[] | null, elemType = 1) => ({
    name,
    type: {
      tensorType: {
        elemType,
        ...(dims
          ? { shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } }
          : {}),
      },
    },
  });
  const inits = spec.initializers ?? [];
  const inputs = [valueInfo(inp.name, inp.dims, inp.elemType ?? 1)];
  if (spec.initializersAsInputs)
    for (const t of inits) inputs.push(valueInfo(t.name ?? '', (t.dims ?? []) as number[]));
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'nnfpga-tests',
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }],
    graph: {
      name: 'g',
      node: spec.nodes,
      initializer: inits,
      input: inputs,
      output: [valueInfo(spec.output ?? 'y', null)],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
