// The quantized model file ("nnfpga-qmodel", version 2: a graph; version 1 chains still
// load, as graphs whose layers each read the one before): JSON whose typed arrays are
// stored as {"dtype": "int8" | "int32" | "float64", "length": n, "base64": "..."}
// (little-endian bytes), so the file is self-describing and round-trips exactly.
// Loading validates everything the integer reference and the compiler rely on (every
// layer's inputs, their shapes and quantization, and an output shape that follows from the
// layer's parameters), so a corrupt or hand-edited file gets one clear line instead of a
// crash later.
import { readFileSync, writeFileSync } from 'node:fs';
import { InputError } from '../errors.ts';
import type { HostStep, InputTransform } from '../ir.ts';
import { formatShape } from '../ir.ts';
import type { ActQuant, Multiplier, QLayer, QModel, Shape } from './types.ts';
import { MODEL_INPUT } from './types.ts';

export const QMODEL_FORMAT = 'nnfpga-qmodel';
export const QMODEL_VERSION = 2;

type Typed = Int8Array | Int32Array | Float64Array;
interface Encoded {
  dtype: 'int8' | 'int32' | 'float64';
  length: number;
  base64: string;
}

function encodeTyped(a: Typed): Encoded {
  const dtype = a instanceof Int8Array ? 'int8' : a instanceof Int32Array ? 'int32' : 'float64';
  // Typed arrays are little-endian on every platform Node runs on (x86, ARM).
  return {
    dtype,
    length: a.length,
    base64: Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64'),
  };
}

export function serializeQModel(model: QModel): string {
  return JSON.stringify(
    model,
    (_key, value: unknown) =>
      value instanceof Int8Array || value instanceof Int32Array || value instanceof Float64Array
        ? encodeTyped(value)
        : value,
    1,
  );
}

export function saveQModel(path: string, model: QModel): void {
  try {
    writeFileSync(path, serializeQModel(model) + '\n');
  } catch (err) {
    throw new InputError(
      `${path}: cannot write the quantized model (${(err as NodeJS.ErrnoException).code ?? err})`,
    );
  }
}

/** True when the bytes look like a JSON document (a quantized model) rather than ONNX protobuf. */
export function looksLikeJson(bytes: Uint8Array): boolean {
  for (const b of bytes) {
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) continue;
    return b === 0x7b; // '{'
  }
  return false;
}

class Checker {
  constructor(private where: string) {}
  fail(what: string): never {
    throw new InputError(
      `${this.where}: corrupt quantized model (${what}); re-create it with 'nnfpga quantize'`,
    );
  }
  obj(v: unknown, what: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(`${what} is not an object`);
    return v as Record<string, unknown>;
  }
  num(v: unknown, what: string, int = false, lo = -Infinity, hi = Infinity): number {
    if (typeof v !== 'number' || !Number.isFinite(v) || (int && !Number.isInteger(v)) || v < lo || v > hi) {
      this.fail(`${what} = ${JSON.stringify(v)}`);
    }
    return v;
  }
  shape(v: unknown, what: string): Shape {
    if (!Array.isArray(v) || v.length < 1) this.fail(`${what} is not a shape`);
    return v.map((d, i) => this.num(d, `${what}[${i}]`, true, 1));
  }
  pair(v: unknown, what: string, lo: number): [number, number] {
    if (!Array.isArray(v) || v.length !== 2) this.fail(`${what} is not a pair`);
    return [this.num(v[0], what, true, lo), this.num(v[1], what, true, lo)];
  }
  pads(v: unknown, what: string): [number, number, number, number] {
    if (!Array.isArray(v) || v.length !== 4) this.fail(`${what} is not 4 pads`);
    return v.map((p) => this.num(p, what, true, 0)) as [number, number, number, number];
  }
  act(v: unknown, what: string): ActQuant {
    const o = this.obj(v, what);
    return {
      scale: this.num(o.scale, `${what}.scale`, false, Number.MIN_VALUE),
      zeroPoint: this.num(o.zeroPoint, `${what}.zeroPoint`, true, -128, 127),
    };
  }
  mult(v: unknown, what: string, m0Bits: number): Multiplier {
    const o = this.obj(v, what);
    const m0 = this.num(o.m0, `${what}.m0`, true, 0, 2 ** 31 - 1);
    if (m0 !== 0 && m0 < 2 ** 30) this.fail(`${what}.m0 = ${m0} is outside [2^30, 2^31)`);
    if (m0 % 2 ** (31 - m0Bits) !== 0)
      this.fail(`${what}.m0 = ${m0} has more than ${m0Bits} significant bits`);
    return { m0, s: this.num(o.s, `${what}.s`, true, 1, 62) };
  }
  transform(v: unknown, input: Shape): InputTransform {
    const o = this.obj(v, 'inputTransform');
    const arr = (x: unknown, what: string) => {
      if (!Array.isArray(x) || x.length !== input[0])
        this.fail(`inputTransform.${what} needs ${input[0]} values`);
      return (x as unknown[]).map((e) => this.num(e, `inputTransform.${what}`));
    };
    return { scale: arr(o.scale, 'scale'), offset: arr(o.offset, 'offset') };
  }
  hostStep(v: unknown, out: Shape): HostStep {
    const o = this.obj(v, 'hostStep');
    if (o.op !== 'Softmax' && o.op !== 'LogSoftmax' && o.op !== 'Sigmoid')
      this.fail(`hostStep.op = ${JSON.stringify(o.op)}`);
    if (typeof o.flatten !== 'boolean') this.fail('hostStep.flatten');
    return { op: o.op, axis: this.num(o.axis, 'hostStep.axis', true, 0, out.length - 1), flatten: o.flatten };
  }
  typed<T extends Typed>(v: unknown, what: string, dtype: Encoded['dtype'], length: number): T {
    const o = this.obj(v, what);
    if (o.dtype !== dtype) this.fail(`${what} has dtype ${JSON.stringify(o.dtype)}, expected ${dtype}`);
    if (o.length !== length) this.fail(`${what} has ${JSON.stringify(o.length)} values, expected ${length}`);
    if (typeof o.base64 !== 'string') this.fail(`${what} has no data`);
    const bytes = Buffer.from(o.base64, 'base64');
    const size = dtype === 'int8' ? 1 : dtype === 'int32' ? 4 : 8;
    if (bytes.length !== length * size)
      this.fail(`${what} holds ${bytes.length} bytes for ${length} ${dtype} values`);
    const copy = new Uint8Array(bytes); // aligned copy
    const arr =
      dtype === 'int8'
        ? new Int8Array(copy.buffer)
        : dtype === 'int32'
          ? new Int32Array(copy.buffer)
          : new Float64Array(copy.buffer);
    if (arr instanceof Int8Array && arr.some((x) => x < -127))
      this.fail(`${what} holds -128 (weights are in [-127, 127])`);
    return arr as T;
  }
}

const size = (s: Shape): number => s.reduce((a, b) => a * b, 1);

/** What a layer's output shape must be, from its input shapes and parameters. */
export function expectedOutput(l: QLayer, inputShapes: Shape[]): Shape {
  const out = (n: number, k: number, s: number, p0: number, p1: number) =>
    Math.floor((n + p0 + p1 - k) / s) + 1;
  switch (l.kind) {
    case 'conv':
    case 'maxpool':
    case 'avgpool': {
      const [c, h, w] = l.input;
      const oc = l.kind === 'conv' ? l.output[0] : c;
      return [
        oc,
        out(h, l.kernel[0], l.stride[0], l.pads[0], l.pads[2]),
        out(w, l.kernel[1], l.stride[1], l.pads[1], l.pads[3]),
      ];
    }
    case 'dense':
      return [l.output[0]];
    case 'add':
      return [...l.input];
    case 'concat': {
      const o = [...inputShapes[0]];
      o[0] = inputShapes.reduce((a, s) => a + s[0], 0);
      return o;
    }
    case 'pad':
      return [l.input[0], l.input[1] + l.pads[0] + l.pads[2], l.input[2] + l.pads[1] + l.pads[3]];
  }
}

/** Parses and validates a quantized model; `where` names the file in errors. */
export function parseQModel(text: string, where: string): QModel {
  const c = new Checker(where);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${where}: corrupt quantized model (not valid JSON: ${(err as Error).message})`);
  }
  const o = c.obj(raw, 'the document');
  if (o.format !== QMODEL_FORMAT) {
    throw new InputError(
      `${where}: not an nnfpga quantized model (format ${JSON.stringify(o.format)}, expected "${QMODEL_FORMAT}")`,
    );
  }
  if (o.version !== QMODEL_VERSION && o.version !== 1) {
    throw new InputError(
      `${where}: quantized model version ${JSON.stringify(o.version)} is not supported (this build reads versions 1 and ${QMODEL_VERSION}); re-run 'nnfpga quantize' on the ONNX model`,
    );
  }
  if (o.m0Bits !== undefined && o.m0Bits !== 16 && o.m0Bits !== 31)
    c.fail(`m0Bits = ${JSON.stringify(o.m0Bits)}`);
  const m0Bits = (o.m0Bits as 16 | 31 | undefined) ?? 31;
  // Version 1 models are chains: layer i reads layer i - 1, convolutions have group 1.
  const v1 = o.version === 1;
  const src = c.obj(o.source, 'source');
  const source = {
    model: typeof src.model === 'string' ? src.model : c.fail('source.model'),
    calibration: typeof src.calibration === 'string' ? src.calibration : c.fail('source.calibration'),
    calibrationSamples: c.num(src.calibrationSamples, 'source.calibrationSamples', true, 0),
  };
  if (!Array.isArray(o.layers) || o.layers.length === 0) c.fail('no layers');
  const input = c.shape(o.input, 'input');
  const inQ = c.act(o.inQ, 'inQ');
  const layers: QLayer[] = [];
  (o.layers as unknown[]).forEach((lv: unknown, i: number) => {
    const w = `layer ${i}`;
    const l = c.obj(lv, w);
    const name = typeof l.name === 'string' ? l.name : c.fail(`${w}.name`);
    const wn = `layer ${i} '${name}'`;
    let inputs: number[];
    if (v1) inputs = [i - 1];
    else {
      if (!Array.isArray(l.inputs) || l.inputs.length === 0) c.fail(`${wn}.inputs`);
      inputs = (l.inputs as unknown[]).map((k) => c.num(k, `${wn}.inputs`, true, MODEL_INPUT, i - 1));
    }
    const shapeOf = (k: number): Shape => (k === MODEL_INPUT ? input : layers[k].output);
    const quantOf = (k: number): ActQuant => (k === MODEL_INPUT ? inQ : layers[k].outQ);
    const base = {
      name,
      inputs,
      input: c.shape(l.input, `${wn}.input`),
      output: c.shape(l.output, `${wn}.output`),
      inQ: c.act(l.inQ, `${wn}.inQ`),
      outQ: c.act(l.outQ, `${wn}.outQ`),
      lo: c.num(l.lo, `${wn}.lo`, true, -128, 127),
      hi: c.num(l.hi, `${wn}.hi`, true, -128, 127),
    };
    if (base.lo > base.hi) c.fail(`${wn}: lo > hi`);
    // The first input is the producer's tensor: its shape (v1 chains only had to agree in
    // size) and quantization.
    const prod = shapeOf(inputs[0]);
    if (v1 ? size(prod) !== size(base.input) : prod.join() !== base.input.join())
      c.fail(`${wn} reads ${formatShape(base.input)}, its input is ${formatShape(prod)}`);
    const pq = quantOf(inputs[0]);
    if (pq.scale !== base.inQ.scale || pq.zeroPoint !== base.inQ.zeroPoint)
      c.fail(`${wn}.inQ differs from its input's quantization`);
    const nOut = base.output[0];
    const mults = (v: unknown): Multiplier[] => {
      if (!Array.isArray(v) || v.length !== nOut) c.fail(`${wn}.mult needs ${nOut} entries`);
      return (v as unknown[]).map((m, k) => c.mult(m, `${wn}.mult[${k}]`, m0Bits));
    };
    const image = (what: string) => {
      if (base.input.length !== 3 || base.output.length !== 3)
        c.fail(`${wn}: ${what} shapes must be [C, H, W]`);
    };
    const one = () => {
      if (inputs.length !== 1) c.fail(`${wn} reads ${inputs.length} tensors, expected 1`);
    };
    let q: QLayer;
    switch (l.kind) {
      case 'conv': {
        image('conv');
        one();
        const kernel = c.pair(l.kernel, `${wn}.kernel`, 1);
        const group = v1 ? 1 : c.num(l.group, `${wn}.group`, true, 1);
        if (base.input[0] % group !== 0 || nOut % group !== 0)
          c.fail(`${wn}: group ${group} does not divide ${base.input[0]} input and ${nOut} output channels`);
        q = {
          ...base,
          kind: 'conv',
          kernel,
          stride: c.pair(l.stride, `${wn}.stride`, 1),
          pads: c.pads(l.pads, `${wn}.pads`),
          group,
          weights: c.typed<Int8Array>(
            l.weights,
            `${wn}.weights`,
            'int8',
            (nOut * base.input[0] * kernel[0] * kernel[1]) / group,
          ),
          bias: c.typed<Int32Array>(l.bias, `${wn}.bias`, 'int32', nOut),
          weightScale: c.typed<Float64Array>(l.weightScale, `${wn}.weightScale`, 'float64', nOut),
          mult: mults(l.mult),
        };
        break;
      }
      case 'dense':
        one();
        if (base.output.length !== 1) c.fail(`${wn}: dense output must be [N]`);
        q = {
          ...base,
          kind: 'dense',
          weights: c.typed<Int8Array>(l.weights, `${wn}.weights`, 'int8', nOut * size(base.input)),
          bias: c.typed<Int32Array>(l.bias, `${wn}.bias`, 'int32', nOut),
          weightScale: c.typed<Float64Array>(l.weightScale, `${wn}.weightScale`, 'float64', nOut),
          mult: mults(l.mult),
        };
        break;
      case 'maxpool':
      case 'avgpool':
        image('pool');
        one();
        q = {
          ...base,
          kind: l.kind,
          kernel: c.pair(l.kernel, `${wn}.kernel`, 1),
          stride: c.pair(l.stride, `${wn}.stride`, 1),
          pads: c.pads(l.pads, `${wn}.pads`),
          ...(l.kind === 'avgpool' ? { mult: c.mult(l.mult, `${wn}.mult`, m0Bits) } : {}),
          ...(l.kind === 'avgpool' && l.excludePad === true ? { excludePad: true } : {}),
        };
        if (
          q.kind === 'avgpool' &&
          q.excludePad &&
          (q.pads[0] >= q.kernel[0] ||
            q.pads[2] >= q.kernel[0] ||
            q.pads[1] >= q.kernel[1] ||
            q.pads[3] >= q.kernel[1])
        )
          c.fail(`${wn}: a window entirely in the padding has no in-bounds values to average`);
        break;
      case 'add': {
        if (inputs.length !== 2) c.fail(`${wn} reads ${inputs.length} tensors, expected 2`);
        if (shapeOf(inputs[1]).join() !== base.input.join())
          c.fail(`${wn}: adds tensors of different shapes`);
        const inQB = c.act(l.inQB, `${wn}.inQB`);
        const bq = quantOf(inputs[1]);
        if (bq.scale !== inQB.scale || bq.zeroPoint !== inQB.zeroPoint)
          c.fail(`${wn}.inQB differs from its input's quantization`);
        if (!Array.isArray(l.weights) || l.weights.length !== 2) c.fail(`${wn}.weights must be two integers`);
        const ws = (l.weights as unknown[]).map((x) => c.num(x, `${wn}.weights`, true, -127, 127));
        q = {
          ...base,
          kind: 'add',
          inQB,
          weights: [ws[0], ws[1]],
          mult: c.mult(l.mult, `${wn}.mult`, m0Bits),
        };
        break;
      }
      case 'concat': {
        const n = inputs.length;
        if (!Array.isArray(l.inQs) || l.inQs.length !== n) c.fail(`${wn}.inQs needs ${n} entries`);
        if (!Array.isArray(l.mults) || l.mults.length !== n) c.fail(`${wn}.mults needs ${n} entries`);
        if (!Array.isArray(l.inputShapes) || l.inputShapes.length !== n)
          c.fail(`${wn}.inputShapes needs ${n} entries`);
        const inputShapes = (l.inputShapes as unknown[]).map((s, k) => c.shape(s, `${wn}.inputShapes[${k}]`));
        const inQs = (l.inQs as unknown[]).map((s, k) => c.act(s, `${wn}.inQs[${k}]`));
        inputs.forEach((k, j) => {
          if (shapeOf(k).join() !== inputShapes[j].join())
            c.fail(`${wn}: input ${j} is ${formatShape(shapeOf(k))}, not ${formatShape(inputShapes[j])}`);
          if (
            inputShapes[j].length !== base.output.length ||
            inputShapes[j].some((d, a) => a > 0 && d !== base.output[a])
          )
            c.fail(
              `${wn}: input ${j} ${formatShape(inputShapes[j])} differs from the output outside the channels`,
            );
          if (quantOf(k).scale !== inQs[j].scale || quantOf(k).zeroPoint !== inQs[j].zeroPoint)
            c.fail(`${wn}.inQs[${j}] differs from its input's quantization`);
        });
        q = {
          ...base,
          kind: 'concat',
          inputShapes,
          inQs,
          mults: (l.mults as unknown[]).map((m, k) => c.mult(m, `${wn}.mults[${k}]`, m0Bits)),
        };
        break;
      }
      case 'pad':
        image('pad');
        one();
        q = { ...base, kind: 'pad', pads: c.pads(l.pads, `${wn}.pads`) };
        break;
      default:
        return c.fail(`${wn}.kind = ${JSON.stringify(l.kind)}`);
    }
    if (
      (q.kind === 'maxpool' || q.kind === 'avgpool' || q.kind === 'pad') &&
      (q.outQ.scale !== q.inQ.scale || q.outQ.zeroPoint !== q.inQ.zeroPoint)
    )
      c.fail(`${wn}: ${q.kind} must keep its input's quantization`);
    const want = expectedOutput(q, inputs.map(shapeOf));
    if (want.join() !== q.output.join() || want.some((d) => !(d >= 1)))
      c.fail(
        `${wn}: output ${formatShape(q.output)} does not follow from its input ${formatShape(q.input)} and parameters (expected ${formatShape(want)})`,
      );
    layers.push(q);
  });
  const model: QModel = {
    format: QMODEL_FORMAT,
    version: QMODEL_VERSION,
    source,
    ...(o.m0Bits === undefined ? {} : { m0Bits }),
    input,
    inQ,
    ...(o.inputTransform !== undefined ? { inputTransform: c.transform(o.inputTransform, input) } : {}),
    layers,
    output: c.shape(o.output, 'output'),
    outQ: c.act(o.outQ, 'outQ'),
    ...(o.hostStep !== undefined
      ? { hostStep: c.hostStep(o.hostStep, layers[layers.length - 1].output) }
      : {}),
  };
  const last = layers[layers.length - 1];
  if (size(last.output) !== size(model.output)) c.fail('output shape does not match the last layer');
  if (last.outQ.scale !== model.outQ.scale || last.outQ.zeroPoint !== model.outQ.zeroPoint)
    c.fail('outQ does not match the last layer');
  return model;
}

export function loadQModel(path: string): QModel {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(
      code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read (${code ?? String(err)})`,
    );
  }
  return parseQModel(text, path);
}
