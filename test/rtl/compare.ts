// Bit-exact comparison of device outputs with the integer reference: no tolerance; a
// mismatch names the layer, the first differing index and both values.
import { expect } from 'vitest';
import type { QModel } from '../../host/quant/types.ts';

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
