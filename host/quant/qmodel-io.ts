// The quantized model file ("nnfpga-qmodel", version 1): JSON whose typed arrays are
// stored as {"dtype": "int8" | "int32" | "float64", "length": n, "base64": "..."}
// (little-endian bytes), so the file is self-describing and round-trips exactly.
// Loading validates everything the integer reference and the compiler rely on, so a
// corrupt or hand-edited file gets one clear line instead of a crash later.
import { readFileSync, writeFileSync } from 'node:fs';
import { InputError } from '../errors.ts';
import type { ActQuant, Multiplier, QLayer, QModel, Shape } from './types.ts';

export const QMODEL_FORMAT = 'nnfpga-qmodel';
export const QMODEL_VERSION = 1;

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
  if (o.version !== QMODEL_VERSION) {
    throw new InputError(
      `${where}: quantized model version ${JSON.stringify(o.version)} is not supported (this build reads version ${QMODEL_VERSION}); re-run 'nnfpga quantize' on the ONNX model`,
    );
  }
  if (o.m0Bits !== undefined && o.m0Bits !== 16 && o.m0Bits !== 31)
    c.fail(`m0Bits = ${JSON.stringify(o.m0Bits)}`);
  const m0Bits = (o.m0Bits as 16 | 31 | undefined) ?? 31;
  const src = c.obj(o.source, 'source');
  const source = {
    model: typeof src.model === 'string' ? src.model : c.fail('source.model'),
    calibration: typeof src.calibration === 'string' ? src.calibration : c.fail('source.calibration'),
    calibrationSamples: c.num(src.calibrationSamples, 'source.calibrationSamples', true, 0),
  };
  if (!Array.isArray(o.layers) || o.layers.length === 0) c.fail('no layers');
  const layers: QLayer[] = (o.layers as unknown[]).map((lv: unknown, i: number): QLayer => {
    const w = `layer ${i}`;
    const l = c.obj(lv, w);
    const base = {
      name: typeof l.name === 'string' ? l.name : c.fail(`${w}.name`),
      input: c.shape(l.input, `${w}.input`),
      output: c.shape(l.output, `${w}.output`),
      inQ: c.act(l.inQ, `${w}.inQ`),
      outQ: c.act(l.outQ, `${w}.outQ`),
      lo: c.num(l.lo, `${w}.lo`, true, -128, 127),
      hi: c.num(l.hi, `${w}.hi`, true, -128, 127),
    };
    if (base.lo > base.hi) c.fail(`${w}: lo > hi`);
    const nOut = base.output[0];
    const mults = (v: unknown): Multiplier[] => {
      if (!Array.isArray(v) || v.length !== nOut) c.fail(`${w}.mult needs ${nOut} entries`);
      return (v as unknown[]).map((m, k) => c.mult(m, `${w}.mult[${k}]`, m0Bits));
    };
    switch (l.kind) {
      case 'conv': {
        if (base.input.length !== 3 || base.output.length !== 3)
          c.fail(`${w}: conv shapes must be [C, H, W]`);
        const kernel = c.pair(l.kernel, `${w}.kernel`, 1);
        return {
          ...base,
          kind: 'conv',
          kernel,
          stride: c.pair(l.stride, `${w}.stride`, 1),
          pads: c.pads(l.pads, `${w}.pads`),
          weights: c.typed<Int8Array>(
            l.weights,
            `${w}.weights`,
            'int8',
            nOut * base.input[0] * kernel[0] * kernel[1],
          ),
          bias: c.typed<Int32Array>(l.bias, `${w}.bias`, 'int32', nOut),
          weightScale: c.typed<Float64Array>(l.weightScale, `${w}.weightScale`, 'float64', nOut),
          mult: mults(l.mult),
        };
      }
      case 'dense':
        if (base.output.length !== 1) c.fail(`${w}: dense output must be [N]`);
        return {
          ...base,
          kind: 'dense',
          weights: c.typed<Int8Array>(l.weights, `${w}.weights`, 'int8', nOut * size(base.input)),
          bias: c.typed<Int32Array>(l.bias, `${w}.bias`, 'int32', nOut),
          weightScale: c.typed<Float64Array>(l.weightScale, `${w}.weightScale`, 'float64', nOut),
          mult: mults(l.mult),
        };
      case 'maxpool':
      case 'avgpool':
        if (base.input.length !== 3 || base.output.length !== 3)
          c.fail(`${w}: pool shapes must be [C, H, W]`);
        return {
          ...base,
          kind: l.kind,
          kernel: c.pair(l.kernel, `${w}.kernel`, 1),
          stride: c.pair(l.stride, `${w}.stride`, 1),
          pads: c.pads(l.pads, `${w}.pads`),
          ...(l.kind === 'avgpool' ? { mult: c.mult(l.mult, `${w}.mult`, m0Bits) } : {}),
        };
      default:
        return c.fail(`${w}.kind = ${JSON.stringify(l.kind)}`);
    }
  });
  const model: QModel = {
    format: QMODEL_FORMAT,
    version: QMODEL_VERSION,
    source,
    ...(o.m0Bits === undefined ? {} : { m0Bits }),
    input: c.shape(o.input, 'input'),
    inQ: c.act(o.inQ, 'inQ'),
    layers,
    output: c.shape(o.output, 'output'),
    outQ: c.act(o.outQ, 'outQ'),
  };
  // The chain must connect: each layer reads as many values as the one before wrote.
  let prev = model.input;
  for (const [i, l] of layers.entries()) {
    if (size(l.input) !== size(prev))
      c.fail(`layer ${i} reads ${size(l.input)} values, the previous layer writes ${size(prev)}`);
    prev = l.output;
  }
  if (size(prev) !== size(model.output)) c.fail('output shape does not match the last layer');
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
