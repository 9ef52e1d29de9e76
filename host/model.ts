// MODEL arguments: an ONNX file or a quantized model from `nnfpga quantize`; the format
// is detected from the content, not the file name.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { InputError } from './errors.ts';
import type { FloatModel } from './ir.ts';
import { importOnnx } from './onnx/import.ts';
import { looksLikeJson, parseQModel } from './quant/qmodel-io.ts';
import type { QModel } from './quant/types.ts';

export type LoadedModel =
  | { kind: 'onnx'; path: string; float: FloatModel }
  | {
      kind: 'qmodel';
      path: string;
      q: QModel;
      /** The source ONNX model when it can still be found (for the float reference). */
      float: FloatModel | null;
      /** Why `float` is null. */
      floatNote?: string;
    };

export function readModelFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(
      code === 'ENOENT'
        ? `${path}: no such file; give an .onnx model or a quantized model from 'nnfpga quantize'`
        : code === 'EISDIR'
          ? `${path}: is a directory, not a model file`
          : `${path}: cannot read (${code ?? String(err)})`,
    );
  }
}

/** The source model path recorded in a QModel is relative to the QModel's folder. */
export function sourceModelPath(qmodelPath: string, q: QModel): string {
  return isAbsolute(q.source.model) ? q.source.model : resolve(dirname(qmodelPath), q.source.model);
}

export function loadModel(path: string): LoadedModel {
  const bytes = readModelFile(path);
  if (bytes.length === 0)
    throw new InputError(`${path}: empty file; give an .onnx model or a quantized model`);
  if (!looksLikeJson(bytes)) return { kind: 'onnx', path, float: importOnnx(bytes, path) };
  const q = parseQModel(bytes.toString('utf8'), path);
  const src = sourceModelPath(path, q);
  if (!existsSync(src)) {
    return { kind: 'qmodel', path, q, float: null, floatNote: `source model ${src} not found` };
  }
  try {
    const float = importOnnx(readFileSync(src), src);
    const kept = float.layers.filter((l) => l.kind !== 'reshape');
    const same =
      kept.length === q.layers.length && kept.every((l, i) => l.output.join() === q.layers[i].output.join());
    if (!same)
      return { kind: 'qmodel', path, q, float: null, floatNote: `source model ${src} has different layers` };
    return { kind: 'qmodel', path, q, float };
  } catch (err) {
    return {
      kind: 'qmodel',
      path,
      q,
      float: null,
      floatNote: `source model ${src}: ${(err as Error).message}`,
    };
  }
}
