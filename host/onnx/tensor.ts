// ONNX TensorProto / attribute decoding and the constant evaluator the importer uses to
// fold every constant subgraph of an export (Constant nodes, weights passed through
// Identity, `x.view(x.size(0), -1)` exported as Shape→Gather→Unsqueeze→Concat→Reshape,
// weights stored transposed, nn.ZeroPad2d's pads computed by ConstantOfShape, Concat,
// Reshape, Slice, Transpose and Cast, ...).
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
//
// Every node whose inputs are all constants is evaluated at import (the importer folds
// constant subgraphs generally, whatever pattern an exporter wrote: PyTorch's
// nn.ZeroPad2d, for one, exports its pads as ConstantOfShape, Concat, Reshape, Slice,
// Transpose and Cast when exported without constant folding). CONST_OPS lists what the
// evaluator implements; shapes are small, so plain loops over Float64Array are enough.

const UNARY: Record<string, (x: number) => number> = {
  Neg: (x) => -x,
  Abs: Math.abs,
  Sqrt: Math.sqrt,
  Exp: Math.exp,
  Log: Math.log,
  Floor: Math.floor,
  Ceil: Math.ceil,
  Round: (x) => {
    const r = Math.round(x);
    return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r; // half to even
  },
  Reciprocal: (x) => 1 / x,
  Sign: Math.sign,
  Relu: (x) => Math.max(x, 0),
  Sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  Tanh: Math.tanh,
  Not: (x) => (x === 0 ? 1 : 0),
};

const BINARY: Record<string, (a: number, b: number) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => a / b,
  Pow: (a, b) => a ** b,
  Mod: (a, b) => a - b * Math.floor(a / b),
  Min: Math.min,
  Max: Math.max,
  Equal: (a, b) => (a === b ? 1 : 0),
  Less: (a, b) => (a < b ? 1 : 0),
  LessOrEqual: (a, b) => (a <= b ? 1 : 0),
  Greater: (a, b) => (a > b ? 1 : 0),
  GreaterOrEqual: (a, b) => (a >= b ? 1 : 0),
  And: (a, b) => (a !== 0 && b !== 0 ? 1 : 0),
  Or: (a, b) => (a !== 0 || b !== 0 ? 1 : 0),
  Xor: (a, b) => ((a !== 0) !== (b !== 0) ? 1 : 0),
};
const BOOL_RESULT = new Set([
  'Equal',
  'Less',
  'LessOrEqual',
  'Greater',
  'GreaterOrEqual',
  'And',
  'Or',
  'Xor',
  'Not',
]);

const REDUCE: Record<string, { init: number; f: (a: number, b: number) => number }> = {
  ReduceSum: { init: 0, f: (a, b) => a + b },
  ReduceMean: { init: 0, f: (a, b) => a + b },
  ReduceProd: { init: 1, f: (a, b) => a * b },
  ReduceMin: { init: Infinity, f: Math.min },
  ReduceMax: { init: -Infinity, f: Math.max },
};

/** Ops the importer folds when all their inputs are constants. */
export const CONST_OPS = new Set([
  'Identity',
  'Dropout',
  'Cast',
  'CastLike',
  'Reshape',
  'Flatten',
  'Unsqueeze',
  'Squeeze',
  'Gather',
  'Concat',
  'Transpose',
  'Slice',
  'Split',
  'Shape',
  'Size',
  'ConstantOfShape',
  'Range',
  'Expand',
  'Tile',
  'Where',
  'Clip',
  'MatMul',
  ...Object.keys(UNARY),
  ...Object.keys(BINARY),
  ...Object.keys(REDUCE),
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

/** numpy broadcasting of the output shape. */
function broadcastDims(all: number[][], where: string): number[] {
  const rank = Math.max(...all.map((d) => d.length));
  const out = new Array<number>(rank).fill(1);
  for (const d of all) {
    const p = [...new Array<number>(rank - d.length).fill(1), ...d];
    p.forEach((x, i) => {
      if (x !== 1 && out[i] !== 1 && x !== out[i]) {
        throw new InputError(
          `${where}: shapes ${all.map((s) => `[${s.join(', ')}]`).join(' and ')} do not broadcast`,
        );
      }
      if (x !== 1) out[i] = x;
    });
  }
  return out;
}

/** Index of element `i` of the broadcast output in tensor `t`. */
function broadcastIndexer(t: ConstTensor, od: number[]): (i: number) => number {
  const rank = od.length;
  const td = [...new Array<number>(rank - t.dims.length).fill(1), ...t.dims];
  const ts = strides(td);
  const os = strides(od);
  return (i) => {
    let ti = 0;
    for (let k = 0; k < rank; k++) if (td[k] !== 1) ti += (Math.floor(i / os[k]) % od[k]) * ts[k];
    return ti;
  };
}

function elementwise(
  ts: ConstTensor[],
  f: (...v: number[]) => number,
  isInt: boolean,
  where: string,
): ConstTensor {
  const od = broadcastDims(
    ts.map((t) => t.dims),
    where,
  );
  const idx = ts.map((t) => broadcastIndexer(t, od));
  const n = numelOf(od);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = f(...ts.map((t, k) => t.data[idx[k](i)]));
  return { dims: od, data, isInt };
}

const ints = (t: ConstTensor | undefined): number[] | undefined => (t ? Array.from(t.data) : undefined);

/**
 * Evaluates a constant-foldable node (op in CONST_OPS) over constant inputs; returns one
 * tensor per output.
 */
export function evalConst(node: NodeProto, ins: (ConstTensor | undefined)[], where: string): ConstTensor[] {
  const x = ins[0] as ConstTensor;
  const op = node.opType ?? '';
  if (op in UNARY) {
    const f = UNARY[op];
    return [{ dims: x.dims, data: x.data.map(f), isInt: x.isInt || BOOL_RESULT.has(op) }];
  }
  if (op in BINARY) {
    const f = BINARY[op];
    const parts = ins.filter((t): t is ConstTensor => t !== undefined);
    const isInt = BOOL_RESULT.has(op) || parts.every((p) => p.isInt);
    // Min/Max are variadic; the others take two inputs.
    let r = elementwise(parts.slice(0, 2), f, isInt, where);
    for (const p of parts.slice(2)) r = elementwise([r, p], f, isInt, where);
    // Integer Div truncates (ONNX follows C semantics for integer types).
    if (op === 'Div' && isInt) r.data = r.data.map(Math.trunc);
    return [r];
  }
  if (op in REDUCE) {
    const { init, f } = REDUCE[op];
    const rank = x.dims.length;
    const axesList = ins[1] ? ints(ins[1]) : attrInts(node, 'axes');
    const noop = attrInt(node, 'noop_with_empty_axes', 0) === 1;
    if ((!axesList || axesList.length === 0) && noop) return [x];
    const axes = new Set(
      axesList && axesList.length > 0
        ? axesList.map((a) => normAxis(a, rank, where))
        : x.dims.map((_, i) => i),
    );
    const keep = attrInt(node, 'keepdims', 1) === 1;
    const od = x.dims.map((d, i) => (axes.has(i) ? 1 : d));
    const out = new Float64Array(numelOf(od)).fill(init);
    const count = new Float64Array(out.length);
    const is = strides(x.dims);
    const os = strides(od);
    for (let i = 0; i < x.data.length; i++) {
      let o = 0;
      for (let k = 0; k < rank; k++) if (!axes.has(k)) o += (Math.floor(i / is[k]) % x.dims[k]) * os[k];
      out[o] = f(out[o], x.data[i]);
      count[o]++;
    }
    if (op === 'ReduceMean') for (let i = 0; i < out.length; i++) out[i] /= count[i];
    return [{ dims: keep ? od : x.dims.filter((_, i) => !axes.has(i)), data: out, isInt: x.isInt }];
  }
  switch (op) {
    case 'Identity':
    case 'Dropout':
      return [x];
    case 'Shape': {
      const start = attrInt(node, 'start', 0);
      const n = x.dims.length;
      const end = hasAttr(node, 'end') ? attrInt(node, 'end', n) : n;
      const sel = x.dims.slice(start < 0 ? start + n : start, end < 0 ? end + n : end);
      return [{ dims: [sel.length], data: Float64Array.from(sel), isInt: true }];
    }
    case 'Size':
      return [{ dims: [], data: Float64Array.of(x.data.length), isInt: true }];
    case 'Cast':
    case 'CastLike': {
      const to = op === 'Cast' ? attrInt(node, 'to', DT.FLOAT) : ins[1]!.isInt ? DT.INT64 : DT.FLOAT;
      const isInt = to !== DT.FLOAT && to !== DT.DOUBLE && to !== DT.FLOAT16 && to !== DT.BFLOAT16;
      const data =
        to === DT.BOOL ? x.data.map((v) => (v !== 0 ? 1 : 0)) : isInt ? x.data.map(Math.trunc) : x.data;
      return [{ dims: x.dims, data, isInt }];
    }
    case 'Reshape': {
      const spec = ins[1] ? Array.from(ins[1].data) : (attrInts(node, 'shape') ?? []);
      return [{ ...x, dims: reshapeDims(x.dims, spec, attrInt(node, 'allowzero', 0) === 1, where) }];
    }
    case 'Flatten':
      return [{ ...x, dims: flattenDims(x.dims, attrInt(node, 'axis', 1), where) }];
    case 'Unsqueeze': {
      const axes = ins[1] ? Array.from(ins[1].data) : (attrInts(node, 'axes') ?? []);
      const rank = x.dims.length + axes.length;
      const norm = axes.map((a) => normAxis(a, rank, where)).sort((a, b) => a - b);
      const dims = [...x.dims];
      for (const a of norm) dims.splice(a, 0, 1);
      return [{ ...x, dims }];
    }
    case 'Squeeze': {
      const axes = ins[1] ? Array.from(ins[1].data) : attrInts(node, 'axes');
      const drop = new Set(
        axes
          ? axes.map((a) => normAxis(a, x.dims.length, where))
          : x.dims.flatMap((d, i) => (d === 1 ? [i] : [])),
      );
      return [{ ...x, dims: x.dims.filter((_, i) => !drop.has(i)) }];
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
      return [{ dims, data, isInt: x.isInt }];
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
      return [{ dims, data, isInt: parts.every((p) => p.isInt) }];
    }
    case 'Split': {
      const rank = x.dims.length;
      const axis = normAxis(attrInt(node, 'axis', 0), rank, where);
      const nOut = (node.output ?? []).length;
      const n = x.dims[axis];
      const sizes =
        ints(ins[1]) ??
        attrInts(node, 'split') ??
        Array.from({ length: nOut }, (_, i) => {
          const per = Math.ceil(n / nOut);
          return Math.max(0, Math.min(per, n - i * per));
        });
      const outer = numelOf(x.dims.slice(0, axis));
      const inner = numelOf(x.dims.slice(axis + 1));
      let start = 0;
      return sizes.map((sz) => {
        const dims = [...x.dims];
        dims[axis] = sz;
        const data = new Float64Array(numelOf(dims));
        let o = 0;
        for (let a = 0; a < outer; a++)
          for (let k = start; k < start + sz; k++)
            for (let j = 0; j < inner; j++) data[o++] = x.data[(a * n + k) * inner + j];
        start += sz;
        return { dims, data, isInt: x.isInt };
      });
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
      return [{ dims, data, isInt: x.isInt }];
    }
    case 'Slice': {
      // opset >= 10: starts, ends, axes, steps are inputs; before: attributes.
      const rank = x.dims.length;
      const starts = ints(ins[1]) ?? attrInts(node, 'starts') ?? [];
      const ends = ints(ins[2]) ?? attrInts(node, 'ends') ?? [];
      const axes = ints(ins[3]) ?? attrInts(node, 'axes') ?? starts.map((_, i) => i);
      const steps = ints(ins[4]) ?? starts.map(() => 1);
      const begin = x.dims.map(() => 0);
      const step = x.dims.map(() => 1);
      const count = [...x.dims];
      axes.forEach((a0, i) => {
        const a = normAxis(a0, rank, where);
        const d = x.dims[a];
        const st = steps[i];
        if (st === 0) throw new InputError(`${where}: Slice step 0`);
        const clampIdx = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v < 0 ? v + d : v));
        let s: number;
        let e: number;
        if (st > 0) {
          s = clampIdx(starts[i], 0, d);
          e = clampIdx(ends[i], 0, d);
          count[a] = Math.max(0, Math.ceil((e - s) / st));
        } else {
          s = clampIdx(starts[i], -1, d - 1);
          e = clampIdx(ends[i], -1, d - 1);
          count[a] = Math.max(0, Math.ceil((s - e) / -st));
        }
        begin[a] = s;
        step[a] = st;
      });
      const is = strides(x.dims);
      const os = strides(count);
      const data = new Float64Array(numelOf(count));
      for (let i = 0; i < data.length; i++) {
        let src = 0;
        for (let k = 0; k < rank; k++)
          src += (begin[k] + (Math.floor(i / os[k]) % count[k]) * step[k]) * is[k];
        data[i] = x.data[src];
      }
      return [{ dims: count, data, isInt: x.isInt }];
    }
    case 'ConstantOfShape': {
      const dims = Array.from(x.data);
      const a = (node.attribute ?? []).find((t) => t.name === 'value');
      const v = a?.t ? decodeTensor(a.t as TensorProto, where) : { data: Float64Array.of(0), isInt: false };
      return [{ dims, data: new Float64Array(numelOf(dims)).fill(v.data[0] ?? 0), isInt: v.isInt }];
    }
    case 'Range': {
      const [start, limit, delta] = ins.map((t) => (t as ConstTensor).data[0]);
      const n = Math.max(Math.ceil((limit - start) / delta), 0);
      return [
        {
          dims: [n],
          data: Float64Array.from({ length: n }, (_, i) => start + i * delta),
          isInt: ins.every((t) => t?.isInt),
        },
      ];
    }
    case 'Expand': {
      const shape = Array.from((ins[1] as ConstTensor).data);
      const od = broadcastDims([x.dims, shape], where);
      const idx = broadcastIndexer(x, od);
      return [
        {
          dims: od,
          data: Float64Array.from({ length: numelOf(od) }, (_, i) => x.data[idx(i)]),
          isInt: x.isInt,
        },
      ];
    }
    case 'Tile': {
      const reps = Array.from((ins[1] as ConstTensor).data);
      const dims = x.dims.map((d, i) => d * reps[i]);
      const is = strides(x.dims);
      const os = strides(dims);
      const data = new Float64Array(numelOf(dims));
      for (let i = 0; i < data.length; i++) {
        let src = 0;
        for (let k = 0; k < dims.length; k++) src += ((Math.floor(i / os[k]) % dims[k]) % x.dims[k]) * is[k];
        data[i] = x.data[src];
      }
      return [{ dims, data, isInt: x.isInt }];
    }
    case 'Where': {
      const [c, a, b] = ins as ConstTensor[];
      return [elementwise([c, a, b], (cv, av, bv) => (cv !== 0 ? av : bv), a.isInt && b.isInt, where)];
    }
    case 'Clip': {
      const lo = ins[1]?.data[0] ?? attrFloat(node, 'min', -Infinity);
      const hi = ins[2]?.data[0] ?? attrFloat(node, 'max', Infinity);
      return [{ dims: x.dims, data: x.data.map((v) => Math.min(Math.max(v, lo), hi)), isInt: x.isInt }];
    }
    case 'MatMul': {
      const b = ins[1] as ConstTensor;
      if (x.dims.length !== 2 || b.dims.length !== 2 || x.dims[1] !== b.dims[0]) {
        throw new UnsupportedOpError(`${where}: constant MatMul is folded only for 2-D operands`);
      }
      const [m, k] = x.dims;
      const n = b.dims[1];
      const data = new Float64Array(m * n);
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let t = 0; t < k; t++) s += x.data[i * k + t] * b.data[t * n + j];
          data[i * n + j] = s;
        }
      return [{ dims: [m, n], data, isInt: x.isInt && b.isInt }];
    }
    default:
      throw new UnsupportedOpError(`${where}: cannot fold ${node.opType} over constants`);
  }
}
