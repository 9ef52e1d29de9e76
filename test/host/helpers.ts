// Shared test helpers: fixture paths, a seeded RNG, and an ONNX model builder on
// onnx-proto (the same package the importer decodes with), so tests generate the
// models they need instead of committing binaries.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import onnxPkg from 'onnx-proto';

const { onnx } = onnxPkg;
type IAttr = onnxPkg.onnx.IAttributeProto;
type INode = onnxPkg.onnx.INodeProto;
type ITensor = onnxPkg.onnx.ITensorProto;

export const repoRoot = resolve(import.meta.dirname, '../..');
export const fixtures = resolve(repoRoot, 'examples');
export const fixture = (name: string): string => join(fixtures, name);

/** The first ```ts block of docs/API.md: the library example. */
export function apiExample(): string {
  const doc = readFileSync(join(repoRoot, 'docs', 'API.md'), 'utf8');
  const m = /```ts\n([\s\S]*?)```/.exec(doc);
  if (!m) throw new Error('docs/API.md has no ```ts block');
  return m[1];
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'nnfpga-test-'));
}

/** Deterministic uniform [-1, 1) numbers (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

export function randomArray(n: number, seed: number, scale = 1, offset = 0): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => offset + scale * r());
}

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

export function writeModel(dir: string, name: string, spec: GraphSpec): string {
  const path = join(dir, `${name}.onnx`);
  writeFileSync(path, buildModel(spec));
  return path;
}
