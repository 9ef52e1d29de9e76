// `nnfpga info MODEL --board B | --config sim8`: the layer table of `info`, plus whether
// the model fits the configuration (memory per space against its sizes) and each
// layer's estimated cycles and bound (host/compiler/estimate.ts), and one inference's
// wire and compute time. Nothing here needs hardware: it is the compiler's view.
import { BOARDS, deviceConfig as boardDeviceConfig, lookupBoard } from './board/boards.ts';
import { SIM_CONFIG } from './compiler/configs.ts';
import {
  estimateImage,
  wireBytes,
  wireFigures,
  type Bound,
  type LayerBoundFigures,
  type LinkSpec,
  type WireFigures,
} from './compiler/estimate.ts';
import { fitCheck, type FitReport } from './compiler/fit.ts';
import type { DeviceConfig } from './compiler/types.ts';
import { readSamples } from './data/npy.ts';
import { InputError } from './errors.ts';
import { floatModelInfo, qModelInfo, type LayerInfo, type ModelInfo } from './info.ts';
import type { FloatModel } from './ir.ts';
import { numel } from './ir.ts';
import { loadModel } from './model.ts';
import { calibrate, quantizeModel } from './quant/quantize.ts';
import type { QModel } from './quant/types.ts';
import { SIM_BOARD_PARAMS } from './sim/board.ts';

/** A configuration to check a model against: its memories and its link. */
export interface TargetConfig {
  /** 'icebreaker', 'hx8k' or 'sim8'. */
  name: string;
  config: DeviceConfig;
  link: LinkSpec;
}

export const CONFIG_NAMES = ['sim8'] as const;

/** --board B (a board's core and UART) or --config sim8 (the simulated board). */
export function resolveTarget(board?: string, config?: string): TargetConfig {
  if (board !== undefined && config !== undefined)
    throw new InputError('give either --board or --config, not both');
  if (board !== undefined) {
    const b = lookupBoard(board);
    const clockHz = b.targetMhz * 1e6;
    return {
      name: b.name,
      config: boardDeviceConfig(b),
      link: { maxPayload: b.core.maxPayload, clocksPerBit: Math.round(clockHz / b.baud), clockHz },
    };
  }
  if (config === 'sim8' || config === undefined) {
    return {
      name: 'sim8',
      config: SIM_CONFIG,
      link: {
        maxPayload: SIM_BOARD_PARAMS.MaxPayload,
        clocksPerBit: SIM_BOARD_PARAMS.ClksPerBit,
        clockHz: SIM_BOARD_PARAMS.ClockHz,
      },
    };
  }
  throw new InputError(
    `unknown configuration '${config}': choose sim8, or --board ${Object.keys(BOARDS).join('|')}`,
  );
}

/** A layer of `info --board`: the info row plus the estimate (null for layers the device does not run). */
export interface BoardLayerInfo extends LayerInfo {
  estimated_cycles: number | null;
  bound: Bound | null;
  /** The on-chip limit (the bound without the wire). */
  compute_bound: Exclude<Bound, 'wire'> | null;
  ideal_cycles: number | null;
  bounds: LayerBoundFigures | null;
  /**
   * Bytes this layer needs per space: AMEM for the activations alive while it runs (its
   * inputs, outputs and temporaries, and the tensors kept for later layers), WMEM for its
   * weights and parameters, DMEM for its descriptors.
   */
  memory: { AMEM: number; WMEM: number; DMEM: number } | null;
}

export interface BoardInfo extends Omit<ModelInfo, 'layers'> {
  target: string;
  array: string;
  fits: boolean;
  fit_reason: string | null;
  memory: FitReport['memory'];
  layers: BoardLayerInfo[];
  estimated_run_cycles: number;
  /** One inference over the configuration's UART, from the frames the host sends. */
  inference: WireFigures & { clock_hz: number; clocks_per_bit: number };
  /** How the requantizer steps were found: the model's own calibration or a synthetic one. */
  calibration: string;
}

/**
 * A QModel to estimate with: a quantized model as it is; an ONNX model quantized on
 * `calibPath`, or else on a fixed synthetic set (uniform [0, 1) inputs), which is
 * enough for the memory sizes and, nearly always, the requantizer's steps.
 */
export function modelForEstimate(
  path: string,
  calibPath: string | undefined,
  warn: (m: string) => void,
): { q: QModel; info: ModelInfo; float: FloatModel | null; calibration: string } {
  const m = loadModel(path);
  if (m.kind === 'qmodel')
    return { q: m.q, info: qModelInfo(m.q, path), float: m.float, calibration: m.q.source.calibration };
  let data: Float32Array;
  let count: number;
  let calibration: string;
  if (calibPath) {
    const s = readSamples(calibPath, m.float.input, 'calibration data');
    data = s.data;
    count = s.count;
    calibration = calibPath;
  } else {
    count = 8;
    const size = numel(m.float.input);
    data = new Float32Array(count * size);
    let seed = 12345;
    for (let i = 0; i < data.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      data[i] = (seed >>> 8) / 2 ** 24;
    }
    calibration = 'synthetic (8 uniform [0, 1) inputs)';
    warn('note: no --calib given: quantized on 8 synthetic uniform [0, 1) inputs for the estimate');
  }
  const q = quantizeModel(m.float, calibrate(m.float, data, count), { model: path, calibration });
  return { q, info: floatModelInfo(m.float), float: m.float, calibration };
}

/** The fit check and estimates of a model for a configuration. */
export function boardInfo(q: QModel, info: ModelInfo, target: TargetConfig, calibration: string): BoardInfo {
  const fit = fitCheck(q, target.config, target.name);
  const est = estimateImage(fit.image);
  const n = target.config.dim;
  // Info rows that the device runs, in order, are the QModel's layers (reshapes are not).
  const byName = new Map(est.layers.map((l, i) => [l.name, { est: l, mem: fit.layers[i] }]));
  const first = est.layers[0]?.name;
  const last = est.layers.at(-1)?.name;
  const bytes = wireBytes(fit.image, target.link);
  const wire = wireFigures(bytes.out, bytes.in, est.run_cycles, target.link);
  const layers = info.layers.map((row): BoardLayerInfo => {
    const e = byName.get(row.name);
    if (!e)
      return {
        ...row,
        estimated_cycles: null,
        bound: null,
        compute_bound: null,
        ideal_cycles: null,
        bounds: null,
        memory: null,
      };
    const cycles = e.est.estimated_cycles;
    // The first layer waits for its input, the last one's output waits for the wire.
    const wireBound =
      (row.name === first && wire.wire_out_cycles > cycles) ||
      (row.name === last && wire.wire_in_cycles > cycles);
    return {
      ...row,
      estimated_cycles: cycles,
      bound: wireBound ? 'wire' : e.est.compute_bound,
      compute_bound: e.est.compute_bound,
      ideal_cycles: e.est.ideal_cycles,
      bounds: e.est.bounds,
      memory: { AMEM: e.mem.amem, WMEM: e.mem.wmem, DMEM: e.mem.dmem },
    };
  });
  return {
    ...info,
    target: target.name,
    array: `${n}x${n}`,
    fits: fit.fits,
    fit_reason: fit.fit_reason,
    memory: fit.memory,
    layers,
    estimated_run_cycles: est.run_cycles,
    inference: { ...wire, clock_hz: target.link.clockHz, clocks_per_bit: target.link.clocksPerBit },
    calibration,
  };
}
