// ONNX TensorProto / attribute decoding and the small constant evaluator the importer
// uses to fold the constant subgraphs real exports contain (Constant nodes, weights
// passed through Identity, `x.view(x.size(0), -1)` exported as Shape→Gather→Unsqueeze→
// Concat→Reshape, weights stored transposed, ...).
import onnxPkg from 'onnx-proto';
import { InputError, UnsupportedOpError } from '../errors.ts';

export const { onnx } = onnxPkg;
export type NodeProto = onnxPkg.onnx.INodeProto;
export type TensorProto = onnxPkg.onnx.ITensorProto;

const DT = onnx.TensorProto.DataType;

/** A constant tensor: numbers in row-major order (int64 values fit: they are shapes). */
export interface ConstTensor {
  dims: number[];
  data: Float64Array;
  isInt: boolean;
}

/** protobufjs hands int64 fields back as number or Long. */
export function toNum(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v !== null && typeof v === 'object' && typeof (v as { toNumber?: unknown }).toNumber === 'function') {
    return (v as { toNumber(): number }).toNumber();
  }
  return Number(v);
}

export function dataTypeName(t: number): string {
  return (onnx.TensorProto.DataType as unknown as Record<number, string>)[t] ?? `type ${t}`;
}

export function numelOf(dims: number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Decodes an initializer or Constant value; `where` names it in errors. */
export function decodeTensor(t: TensorProto, where: string): ConstTensor {
  const dims = (t.dims ?? []).map(toNum);
  const n = numelOf(dims);
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new InputError(
      `${where}: tensor '${t.name}' keeps its data in an external file; re-export with the weights inside the .onnx file`,
    );
  }
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
  const out = new Float64Array(n);
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  const need = (bytes: number): void => {
    if (view && view.byteLength !== n * bytes) {
      throw new InputError(
        `${where}: tensor '${t.name}' has ${view.byteLength} bytes of data for ${n} elements of ${dataTypeName(t.dataType ?? 0)}; the file is corrupt`,
      );
    }
  };
  const fromList = (list: unknown[] | null | undefined): void => {
    const l = list ?? [];
    if (l.length !== n) {
      throw new InputError(
        `${where}: tensor '${t.name}' has ${l.length} values for shape [${dims.join(', ')}]; the file is corrupt`,
      );
    }
    for (let i = 0; i < n; i++) out[i] = toNum(l[i]);
  };
  let isInt = true;
  switch (t.dataType) {
    case DT.FLOAT:
      isInt = false;
      if (view) {
        need(4);
        for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      } else fromList(t.floatData);
      break;
    case DT.DOUBLE:
      isInt = false;
      if (view) {
        need(8);
        for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      } else fromList(t.doubleData);
      break;
    case DT.INT64:
      if (view) {
        need(8);
        for (let i = 0; i < n; i++) out[i] = Number(view.getBigInt64(i * 8, true));
      } else fromList(t.int64Data);
      break;
    case DT.INT32:
    case DT.INT16:
    case DT.INT8:
    case DT.UINT8:
    case DT.UINT16:
    case DT.BOOL: {
      const size = t.dataType === DT.INT32 ? 4 : t.dataType === DT.INT16 || t.dataType === DT.UINT16 ? 2 : 1;
      if (view) {
        need(size);
        for (let i = 0; i < n; i++) {
          const o = i * size;
          out[i] =
            t.dataType === DT.INT32
              ? view.getInt32(o, true)
              : t.dataType === DT.INT16
                ? view.getInt16(o, true)
                : t.dataType === DT.UINT16
                  ? view.getUint16(o, true)
                  : t.dataType === DT.INT8
                    ? view.getInt8(o)
                    : view.getUint8(o);
        }
      } else fromList(t.int32Data);
      break;
    }
    default:
      throw new UnsupportedOpError(
        `${where}: tensor '${t.name}' has data type ${dataTypeName(t.dataType ?? 0)}; nnfpga reads float32, float64 and integer tensors (convert the model to float32)`,
      );
  }
  return { dims, data: out, isInt };
}

// ---- attributes ----

function findAttr(node: NodeProto, name: string) {
  return (node.attribute ?? []).find((a) => a.name === name);
}

export function attrInt(node: NodeProto, name: string, dflt: number): number {
  const a = findAttr(node, name);
  return a ? toNum(a.i) : dflt;
}

export function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = findAttr(node, name);
  return a ? (a.ints ?? []).map(toNum) : undefined;
}

export function attrFloat(node: NodeProto, name: string, dflt: number): number {
  const a = findAttr(node, name);
  return a ? (a.f ?? dflt) : dflt;
}

export function attrString(node: NodeProto, name: string, dflt: string): string {
  const a = findAttr(node, name);
  return a && a.s ? Buffer.from(a.s).toString('utf8') : dflt;
}

export function hasAttr(node: NodeProto, name: string): boolean {
  return findAttr(node, name) !== undefined;
}

// ---- constant evaluation ----

/** Ops the importer folds when all their inputs are constants. */
export const CONST_OPS = new Set([
  'Constant',
  'Identity',
  'Dropout',
  'Gather',
  'Unsqueeze',
  'Squeeze',
  'Concat',
  'Cast',
  'Reshape',
  'Flatten',
  'Transpose',
  'Add',
  'Sub',
  'Mul',
  'Div',
]);

export function constFromNode(node: NodeProto, where: string): ConstTensor {
  const a = (node.attribute ?? [])[0];
  if (!a) throw new InputError(`${where}: Constant node has no value`);
  switch (a.name) {
    case 'value':
      return decodeTensor(a.t as TensorProto, where);
    case 'value_float':
      return { dims: [], data: Float64Array.of(a.f ?? 0), isInt: false };
    case 'value_floats':
      return { dims: [(a.floats ?? []).length], data: Float64Array.from(a.floats ?? []), isInt: false };
    case 'value_int':
      return { dims: [], data: Float64Array.of(toNum(a.i)), isInt: true };
    case 'value_ints':
      return {
        dims: [(a.ints ?? []).length],
        data: Float64Array.from((a.ints ?? []).map(toNum)),
        isInt: true,
      };
    default:
      throw new UnsupportedOpError(`${where}: Constant with attribute '${a.name}' is not supported`);
  }
}

function normAxis(axis: number, rank: number, where: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new InputError(`${where}: axis ${axis} is out of range for rank ${rank}`);
  return a;
}

function strides(dims: number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1] * dims[i + 1];
  return s;
}

/** Output dims of a Reshape with ONNX semantics (0 copies a dimension, -1 is inferred). */
export function reshapeDims(inDims: number[], spec: number[], allowZero: boolean, where: string): number[] {
  const total = numelOf(inDims);
  const out = spec.map((d, i) => (d === 0 && !allowZero ? inDims[i] : d));
  const unknown = out.filter((d) => d === -1).length;
  if (unknown > 1 || out.some((d) => d < -1 || d === undefined)) {
    throw new InputError(`${where}: invalid Reshape target [${spec.join(', ')}]`);
  }
  const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  if (unknown === 1) {
    if (known === 0 || total % known !== 0) {
      throw new InputError(`${where}: cannot reshape [${inDims.join(', ')}] to [${spec.join(', ')}]`);
    }
    out[out.indexOf(-1)] = total / known;
  }
  if (numelOf(out) !== total) {
    throw new InputError(`${where}: cannot reshape [${inDims.join(', ')}] to [${spec.join(', ')}]`);
  }
  return out;
}

export function flattenDims(inDims: number[], axisAttr: number, where: string): number[] {
  const axis = axisAttr < 0 ? axisAttr + inDims.length : axisAttr;
  if (axis < 0 || axis > inDims.length)
    throw new InputError(`${where}: Flatten axis ${axisAttr} out of range`);
  return [numelOf(inDims.slice(0, axis)), numelOf(inDims.slice(axis))];
}

function broadcast(a: ConstTensor, b: ConstTensor, f: (x: number, y: number) => number, where: string) {
  const rank = Math.max(a.dims.length, b.dims.length);
  const ad = [...new Array<number>(rank - a.dims.length).fill(1), ...a.dims];
  const bd = [...new Array<number>(rank - b.dims.length).fill(1), ...b.dims];
  const od = ad.map((x, i) => {
    if (x !== bd[i] && x !== 1 && bd[i] !== 1) {
      throw new InputError(
        `${where}: shapes [${a.dims.join(', ')}] and [${b.dims.join(', ')}] do not broadcast`,
      );
    }
    return Math.max(x, bd[i]);
  });
  const as = strides(ad);
  const bs = strides(bd);
  const os = strides(od);
  const n = numelOf(od);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let ai = 0;
    let bi = 0;
    for (let k = 0; k < rank; k++) {
      const c = Math.floor(i / os[k]) % od[k];
      if (ad[k] !== 1) ai += c * as[k];
      if (bd[k] !== 1) bi += c * bs[k];
    }
    out[i] = f(a.data[ai], b.data[bi]);
  }
  return { dims: od, data: out, isInt: a.isInt && b.isInt };
}

/** Evaluates a constant-foldable node (op in CONST_OPS) over constant inputs. */
export function evalConst(node: NodeProto, ins: (ConstTensor | undefined)[], where: string): ConstTensor {
  const x = ins[0] as ConstTensor;
  switch (node.opType) {
    case 'Identity':
    case 'Dropout':
      return x;
    case 'Cast': {
      const to = attrInt(node, 'to', DT.FLOAT);
      const isInt = to !== DT.FLOAT && to !== DT.DOUBLE && to !== DT.FLOAT16;
      return { dims: x.dims, data: isInt ? x.data.map(Math.trunc) : x.data, isInt };
    }
    case 'Reshape': {
      const spec = ins[1] ? Array.from(ins[1].data) : (attrInts(node, 'shape') ?? []);
      return { ...x, dims: reshapeDims(x.dims, spec, attrInt(node, 'allowzero', 0) === 1, where) };
    }
    case 'Flatten':
      return { ...x, dims: flattenDims(x.dims, attrInt(node, 'axis', 1), where) };
    case 'Unsqueeze': {
      const axes = ins[1] ? Array.from(ins[1].data) : (attrInts(node, 'axes') ?? []);
      const rank = x.dims.length + axes.length;
      const norm = axes.map((a) => normAxis(a, rank, where)).sort((a, b) => a - b);
      const dims = [...x.dims];
      for (const a of norm) dims.splice(a, 0, 1);
      return { ...x, dims };
    }
    case 'Squeeze': {
      const axes = ins[1] ? Array.from(ins[1].data) : attrInts(node, 'axes');
      const drop = new Set(
        axes
          ? axes.map((a) => normAxis(a, x.dims.length, where))
          : x.dims.flatMap((d, i) => (d === 1 ? [i] : [])),
      );
      return { ...x, dims: x.dims.filter((_, i) => !drop.has(i)) };
    }
    case 'Gather': {
      const idx = ins[1] as ConstTensor;
      const axis = normAxis(attrInt(node, 'axis', 0), x.dims.length, where);
      const outer = numelOf(x.dims.slice(0, axis));
      const inner = numelOf(x.dims.slice(axis + 1));
      const n = x.dims[axis];
      const dims = [...x.dims.slice(0, axis), ...idx.dims, ...x.dims.slice(axis + 1)];
      const data = new Float64Array(numelOf(dims));
      let o = 0;
      for (let a = 0; a < outer; a++) {
        for (const raw of idx.data) {
          const j = raw < 0 ? raw + n : raw;
          if (j < 0 || j >= n) throw new InputError(`${where}: Gather index ${raw} out of range`);
          for (let k = 0; k < inner; k++) data[o++] = x.data[(a * n + j) * inner + k];
        }
      }
      return { dims, data, isInt: x.isInt };
    }
    case 'Concat': {
      const parts = ins.filter((t): t is ConstTensor => t !== undefined);
      const rank = parts[0].dims.length;
      const axis = normAxis(attrInt(node, 'axis', 0), rank, where);
      const outer = numelOf(parts[0].dims.slice(0, axis));
      const dims = [...parts[0].dims];
      dims[axis] = parts.reduce((s, p) => s + p.dims[axis], 0);
      const data = new Float64Array(numelOf(dims));
      let o = 0;
      for (let a = 0; a < outer; a++) {
        for (const p of parts) {
          const chunk = numelOf(p.dims.slice(axis));
          data.set(p.data.subarray(a * chunk, (a + 1) * chunk), o);
          o += chunk;
        }
      }
      return { dims, data, isInt: parts.every((p) => p.isInt) };
    }
    case 'Transpose': {
      const rank = x.dims.length;
      const perm = attrInts(node, 'perm') ?? x.dims.map((_, i) => rank - 1 - i);
      const dims = perm.map((p) => x.dims[p]);
      const is = strides(x.dims);
      const os = strides(dims);
      const data = new Float64Array(x.data.length);
      for (let i = 0; i < data.length; i++) {
        let src = 0;
        for (let k = 0; k < rank; k++) src += (Math.floor(i / os[k]) % dims[k]) * is[perm[k]];
        data[i] = x.data[src];
      }
      return { dims, data, isInt: x.isInt };
    }
    case 'Add':
      return broadcast(x, ins[1] as ConstTensor, (a, b) => a + b, where);
    case 'Sub':
      return broadcast(x, ins[1] as ConstTensor, (a, b) => a - b, where);
    case 'Mul':
      return broadcast(x, ins[1] as ConstTensor, (a, b) => a * b, where);
    case 'Div': {
      const r = broadcast(x, ins[1] as ConstTensor, (a, b) => a / b, where);
      // Integer Div truncates (ONNX follows C semantics for integer types).
      return r.isInt ? { ...r, data: r.data.map(Math.trunc) } : r;
    }
    default:
      throw new UnsupportedOpError(`${where}: cannot fold ${node.opType} over constants`);
  }
}
