// Shared test helpers: fixture paths, a seeded RNG, and an ONNX model builder on
// onnx-proto (the same package the importer decodes with), so tests generate the
// models they need instead of committing binaries.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildModel, type GraphSpec } from '../../host/onnx/build.ts';

export {
  attr,
  buildModel,
  floatTensor,
  int64Tensor,
  node,
  rawFloatTensor,
  type GraphSpec,
} from '../../host/onnx/build.ts';
export { randomArray, rng } from '../../host/data/random.ts';

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

export function writeModel(dir: string, name: string, spec: GraphSpec): string {
  const path = join(dir, `${name}.onnx`);
  writeFileSync(path, buildModel(spec));
  return path;
}
