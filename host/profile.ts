// `nnfpga run ... --profile`: after the inputs have run, one more inference of the last
// input, whose link traffic and RUN/INFER cycle count give one inference's split into
// wire out, compute and wire in (cycles of the device clock: bytes on the wire x 10 x
// clocks per bit), and whose per-layer counters (CNT space, ARCHITECTURE section 3) are
// read back (a program of several segments runs once more, reading CNT after each
// segment, so every layer is counted): measured cycles beside the compiler's estimate
// (host/compiler/estimate.ts) and the ideal (MACs / N^2), utilization = ideal /
// measured. Quantization error per layer (host/quant/sqnr.ts) over the inputs run.
import { estimateImage, wireFigures, type Bound, type WireFigures } from './compiler/estimate.ts';
import { readSamples } from './data/npy.ts';
import type { FloatModel } from './ir.ts';
import { loadModel } from './model.ts';
import type { QModel } from './quant/types.ts';
import { layerSqnr, type SqnrReport } from './quant/sqnr.ts';
import type { BackendFactory, InferenceBackend } from './run.ts';
import { DeviceBackend } from './target.ts';

export interface ProfileLayer {
  name: string;
  kind: string;
  macs: number;
  /** Measured: the device's CNT word 2l. */
  cycles: number;
  estimated_cycles: number;
  ideal_cycles: number;
  /** ideal / measured */
  utilization: number;
  /** Cycles an activation vector entered the array (CNT word 2l+1). */
  array_busy_cycles: number;
  /** The estimate's on-chip bound. */
  bound: Exclude<Bound, 'wire'>;
  sqnr_db: number | null;
  max_error_lsb: number;
  layer_sqnr_db: number | null;
}

export interface Profile extends WireFigures {
  target: string;
  array: string;
  clocks_per_bit: number;
  clock_hz: number;
  layers: ProfileLayer[];
  estimated_run_cycles: number;
  /** Input SQNR and the layer that loses the most accuracy (lowest SQNR alone). */
  input_sqnr_db: number | null;
  worst_layer: string | null;
  sqnr_samples: number;
}

/** What the profiled device gave: counters and link traffic of one inference. */
export interface DeviceProfile {
  backend: DeviceBackend;
  model: QModel;
  layerCycles: number[];
  layerBusy: number[];
  bytesOut: number;
  bytesIn: number;
  cycles: number;
}

/**
 * Wraps a backend factory: the backend it opens measures one more inference of the last
 * input just before it closes. `result()` is null when no device was opened (no TARGET).
 */
export function profiling(factory: BackendFactory): {
  factory: BackendFactory;
  result(): DeviceProfile | null;
} {
  let got: DeviceProfile | null = null;
  const wrapped: BackendFactory = async (model: QModel) => {
    const inner = await factory(model);
    if (!inner) return null;
    if (!(inner instanceof DeviceBackend)) return inner;
    let last: Int8Array | null = null;
    const b: InferenceBackend = {
      infer: (xq) => {
        last = xq;
        return inner.infer(xq);
      },
      inferMany: (xs: Int8Array[]) => {
        last = xs.at(-1) ?? last;
        return inner.inferMany(xs);
      },
      layerActivations: (xq) => inner.layerActivations(xq),
      get linkStats() {
        return inner.linkStats;
      },
      close: async () => {
        try {
          if (last) {
            const s0 = { ...inner.linkStats };
            const r = await inner.infer(last);
            const bytesOut = inner.linkStats.bytesOut - s0.bytesOut;
            const bytesIn = inner.linkStats.bytesIn - s0.bytesIn;
            // a program of several segments: once more, reading the counters after each
            const cnt =
              inner.image.segments.length > 1
                ? (await inner.inferWithCounters(last)).counters
                : await inner.counters();
            got = {
              backend: inner,
              model,
              layerCycles: cnt.layers.map((l) => l.cycles),
              layerBusy: cnt.layers.map((l) => l.activeCycles),
              bytesOut,
              bytesIn,
              cycles: r.cycles,
            };
          }
        } finally {
          await inner.close();
        }
      },
    };
    return b;
  };
  return { factory: wrapped, result: () => got };
}

/** The profile of `run MODEL --input X`: reads the float model and the inputs again. */
export function profileRun(dev: DeviceProfile, modelPath: string, inputPath: string): Profile {
  const m = loadModel(modelPath);
  const inputs = readSamples(inputPath, dev.model.input, 'inputs');
  return buildProfile(dev, dev.model, m.float, inputs);
}

/** The profile of a run: device figures, estimates and the quantization error over the inputs. */
export function buildProfile(
  dev: DeviceProfile,
  q: QModel,
  float: FloatModel | null,
  inputs: { data: Float32Array; count: number },
): Profile {
  const image = dev.backend.image;
  const info = dev.backend.device.info;
  const n = image.config.dim;
  const est = estimateImage(image);
  const sqnr: SqnrReport | null = float ? layerSqnr(q, float, inputs.data, inputs.count) : null;
  const layers = image.layers.map((l, i): ProfileLayer => {
    const cycles = dev.layerCycles[i];
    const ideal = l.macs / (n * n);
    const s = sqnr?.layers[i];
    return {
      name: l.name,
      kind: l.kind,
      macs: l.macs,
      cycles,
      estimated_cycles: est.layers[i].estimated_cycles,
      ideal_cycles: ideal,
      utilization: cycles > 0 ? ideal / cycles : 0,
      array_busy_cycles: dev.layerBusy[i],
      bound: est.layers[i].compute_bound,
      sqnr_db: s?.sqnr_db ?? null,
      max_error_lsb: s?.max_error_lsb ?? 0,
      layer_sqnr_db: s?.layer_sqnr_db ?? null,
    };
  });
  const link = { maxPayload: info.maxPayload, clocksPerBit: info.clocksPerBit, clockHz: info.clockHz };
  return {
    target: dev.backend.simBoard ? 'simulated board' : 'board',
    array: `${n}x${n}`,
    clocks_per_bit: info.clocksPerBit,
    clock_hz: info.clockHz,
    ...wireFigures(dev.bytesOut, dev.bytesIn, dev.cycles, link),
    layers,
    estimated_run_cycles: est.run_cycles,
    input_sqnr_db: sqnr?.input_sqnr_db ?? null,
    worst_layer: sqnr?.worst_layer ?? null,
    sqnr_samples: sqnr?.samples ?? 0,
  };
}

export function formatProfile(p: Profile): string {
  const n = (v: number) => Math.round(v).toLocaleString('en-US');
  const db = (v: number | null) => (v === null ? 'exact' : v.toFixed(1));
  const w = Math.max(5, ...p.layers.map((l) => l.name.length));
  const head = `${'layer'.padEnd(w)}  ${'cycles'.padStart(8)}  ${'estimate'.padStart(8)}  ${'ideal'.padStart(8)}  util.   bound        SQNR dB  max err LSB`;
  const rows = p.layers.map(
    (l) =>
      `${l.name.padEnd(w)}  ${n(l.cycles).padStart(8)}  ${n(l.estimated_cycles).padStart(8)}  ${n(l.ideal_cycles).padStart(8)}  ` +
      `${(100 * l.utilization).toFixed(1).padStart(5)}%  ${l.bound.padEnd(11)}  ${db(l.sqnr_db).padStart(7)}  ${l.max_error_lsb.toFixed(2).padStart(11)}`,
  );
  const total = p.wire_out_cycles + p.compute_cycles + p.wire_in_cycles;
  const pct = (v: number) => `${((100 * v) / total).toFixed(1)} %`;
  return [
    `profile (${p.target}, ${p.array} array, ${p.clocks_per_bit} clocks per UART bit):`,
    head,
    ...rows,
    `one inference: wire out ${n(p.wire_out_cycles)} cycles (${n(p.wire_bytes_out)} B, ${pct(p.wire_out_cycles)}), ` +
      `compute ${n(p.compute_cycles)} (${pct(p.compute_cycles)}; estimated ${n(p.estimated_run_cycles)}), ` +
      `wire in ${n(p.wire_in_cycles)} (${n(p.wire_bytes_in)} B, ${pct(p.wire_in_cycles)}): ${p.bound}-bound`,
    ...(p.worst_layer
      ? [`most accuracy lost in: ${p.worst_layer} (SQNR of the layer alone, over ${p.sqnr_samples} inputs)`]
      : []),
  ].join('\n');
}
