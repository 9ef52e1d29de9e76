// Quantization error per layer: the integer reference's output of every layer,
// dequantized, against the float reference's output of the same layer, over a set of
// inputs (each reference runs end to end, so errors accumulate as they do on the device):
//
//   SQNR (dB) = 10 log10( sum f^2 / sum (f - s (q - zp))^2 )
//   max error (output LSBs) = max |f / s + zp - q|
//
// Each layer is also measured alone (layer_sqnr_db): its int8 computation on the float
// reference's inputs to it (every tensor it reads, each quantized as the layer reads it),
// against its float output, so the error that comes in from earlier layers is left out.
// The layer that loses the most is the one with the lowest SQNR alone. A layer's loss is
// the SQNR of the worst tensor it reads minus its own. The input is compared after the
// model's input normalization (what is quantized); host steps run in float on the
// output and add no quantization error of their own.
import type { FloatModel } from '../ir.ts';
import { runFloat, transformInput } from '../ref/float.ts';
import { quantizeInput, runInt, runLayer } from './intref.ts';
import { MODEL_INPUT, type ActQuant, type QLayer, type QModel } from './types.ts';

export interface LayerSqnr {
  name: string;
  /** null when int8 equals float exactly on every element (infinite SQNR). */
  sqnr_db: number | null;
  max_error_lsb: number;
  /** SQNR lost in this layer: its input's SQNR minus its own (null when either is infinite). */
  loss_db: number | null;
  /** This layer alone: int8 on the quantized float input against its float output. */
  layer_sqnr_db: number | null;
  layer_max_error_lsb: number;
}

export interface SqnrReport {
  samples: number;
  input_sqnr_db: number | null;
  layers: LayerSqnr[];
  /** The layer with the lowest SQNR alone (layer_sqnr_db). */
  worst_layer: string | null;
}

/** q = clamp(round(x / s) + zp) with ties to even, as the input is quantized. */
function quantize(x: ArrayLike<number>, quant: ActQuant): Int8Array {
  const q = new Int8Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i] / quant.scale;
    let r = Math.round(v);
    if (r - v === 0.5 && (r & 1) !== 0) r -= 1;
    q[i] = Math.max(-128, Math.min(127, r + quant.zeroPoint));
  }
  return q;
}

class Acc {
  signal = 0;
  noise = 0;
  maxLsb = 0;
  add(f: ArrayLike<number>, q: Int8Array, quant: ActQuant): void {
    for (let i = 0; i < q.length; i++) {
      const d = quant.scale * (q[i] - quant.zeroPoint);
      const e = f[i] - d;
      this.signal += f[i] * f[i];
      this.noise += e * e;
      const lsb = Math.abs(e) / quant.scale;
      if (lsb > this.maxLsb) this.maxLsb = lsb;
    }
  }
  db(): number | null {
    if (this.noise === 0) return null;
    return 10 * Math.log10(this.signal / this.noise);
  }
}

/** The quantization of each tensor a layer reads, in the order of its inputs. */
function inputQuants(l: QLayer): ActQuant[] {
  if (l.kind === 'add') return [l.inQ, l.inQB];
  if (l.kind === 'concat') return l.inQs;
  return [l.inQ];
}

/** Per-layer SQNR of `q` against `float` over `count` samples stored back to back in `data`. */
export function layerSqnr(q: QModel, float: FloatModel, data: Float32Array, count: number): SqnrReport {
  const size = q.input.reduce((a, b) => a * b, 1);
  // the float model's layer of each QModel layer (the QModel drops reshapes, which move no data)
  const floatIndex = new Map(float.layers.map((l, i) => [l.name, i]));
  const kept = q.layers.map((l) => floatIndex.get(l.name)!);
  const accs = q.layers.map(() => new Acc());
  const alone = q.layers.map(() => new Acc());
  const input = new Acc();
  for (let s = 0; s < count; s++) {
    const x = data.subarray(s * size, (s + 1) * size);
    // what the model quantizes: the input after its normalization
    const xt = transformInput(q.inputTransform, x);
    const xq = quantizeInput(q, x);
    input.add(xt, xq, q.inQ);
    const ints = runInt(q, xq);
    const floats = runFloat(float, x);
    q.layers.forEach((l, i) => {
      accs[i].add(floats[kept[i]], ints[i], l.outQ);
      const quants = inputQuants(l);
      const fins = l.inputs.map((t, k) => quantize(t === MODEL_INPUT ? xt : floats[kept[t]], quants[k]));
      alone[i].add(floats[kept[i]], runLayer(l, fins), l.outQ);
    });
  }
  const dbs = accs.map((a) => a.db());
  const inputDb = input.db();
  let worst: { name: string; db: number } | null = null;
  const layers = q.layers.map((l, i): LayerSqnr => {
    const db = dbs[i];
    // what comes in: the worst of the tensors it reads (null: every one exact)
    const ins = l.inputs
      .map((t) => (t === MODEL_INPUT ? inputDb : dbs[t]))
      .filter((v): v is number => v !== null);
    const prev = ins.length > 0 ? Math.min(...ins) : null;
    const loss = db !== null && prev !== null ? prev - db : null;
    const own = alone[i].db();
    if (own !== null && (worst === null || own < worst.db)) worst = { name: l.name, db: own };
    return {
      name: l.name,
      sqnr_db: db,
      max_error_lsb: accs[i].maxLsb,
      loss_db: loss,
      layer_sqnr_db: own,
      layer_max_error_lsb: alone[i].maxLsb,
    };
  });
  return {
    samples: count,
    input_sqnr_db: inputDb,
    layers,
    worst_layer: (worst as { name: string } | null)?.name ?? null,
  };
}

export function formatSqnr(r: SqnrReport): string {
  const f = (v: number | null, d = 1) => (v === null ? 'exact' : v.toFixed(d));
  const w = Math.max(5, ...r.layers.map((l) => l.name.length));
  const lines = [
    `${''.padEnd(w)}  from the input          this layer alone`,
    `${'layer'.padEnd(w)}  SQNR dB  max err LSB  SQNR dB  max err LSB`,
    `${'input'.padEnd(w)}  ${f(r.input_sqnr_db).padStart(7)}`,
    ...r.layers.map(
      (l) =>
        `${l.name.padEnd(w)}  ${f(l.sqnr_db).padStart(7)}  ${l.max_error_lsb.toFixed(2).padStart(11)}  ` +
        `${f(l.layer_sqnr_db).padStart(7)}  ${l.layer_max_error_lsb.toFixed(2).padStart(11)}`,
    ),
  ];
  if (r.worst_layer)
    lines.push(`most accuracy lost in: ${r.worst_layer} (int8 against float over ${r.samples} inputs)`);
  return lines.join('\n');
}
