// Bit-exact comparison of device outputs with the integer reference: no tolerance; a
// mismatch names the layer, the first differing index and both values.
import { expect } from 'vitest';
import { compile, type CompileOptions } from '../../host/compiler/compile.ts';
import type { DeviceConfig } from '../../host/compiler/types.ts';
import { runInt } from '../../host/quant/intref.ts';
import type { QModel } from '../../host/quant/types.ts';
import { runCore } from '../../host/sim/core.ts';
import { type ConvSpec, modelOf, randConv, randInt8, randQ, rng } from './random-models.ts';

export function firstMismatch(
  model: QModel,
  want: Int8Array[],
  got: (Int8Array | null)[],
  what = '',
): string | null {
  for (let l = 0; l < want.length; l++) {
    const w = want[l];
    const g = got[l];
    if (g === null) continue; // overwritten on the device (checked by the caller another way)
    if (g.length !== w.length)
      return `${what}layer ${l} '${model.layers[l].name}': ${g.length} outputs, reference has ${w.length}`;
    for (let i = 0; i < w.length; i++) {
      if (g[i] !== w[i]) {
        let n = 0;
        for (let k = i; k < w.length; k++) if (g[k] !== w[k]) n++;
        return `${what}layer ${l} '${model.layers[l].name}' (${model.layers[l].kind}): first difference at index ${i}: device ${g[i]}, reference ${w[i]} (${n} of ${w.length} differ)`;
      }
    }
  }
  return null;
}

/**
 * Every layer the device still holds must equal the reference. allLayers (default):
 * no layer may be missing; otherwise at least the last one must be there.
 */
export function expectBitExact(
  model: QModel,
  want: Int8Array[],
  got: (Int8Array | null)[],
  what = '',
  allLayers = true,
): void {
  const m = firstMismatch(model, want, got, what);
  expect(m, m ?? '').toBeNull();
  expect(got).toHaveLength(want.length);
  if (allLayers) expect(got.map((g) => g?.length)).toEqual(want.map((w) => w.length));
  else expect(got[got.length - 1]?.length).toBe(want[want.length - 1].length);
}

/**
 * One random conv layer of `spec` (seeded), compiled for `cfg` with `options` and run on
 * npu_core for two random inputs: every output element equal to the integer reference.
 * Returns the image and the first run's cycles per descriptor.
 */
export async function checkRandomConv(
  cfg: DeviceConfig,
  spec: ConvSpec,
  seed: number,
  options: CompileOptions,
  name: string,
): Promise<{ image: ReturnType<typeof compile>; cycles: number[] }> {
  const r = rng(seed);
  const inQ = randQ(r);
  const model = modelOf([randConv(r, spec, inQ, `${name}${seed}`)], inQ);
  const xs = [0, 1].map(() => randInt8(r, spec.c * spec.h * spec.w));
  const image = compile(model, cfg, options);
  const res = await runCore(image, xs, { inputZeroPoint: inQ.zeroPoint, name: `${name}${seed}` });
  res.inferences.forEach((inf, n) => expectBitExact(model, runInt(model, xs[n]), inf.layers, `input ${n}: `));
  return { image, cycles: res.inferences[0].stepCycles };
}
