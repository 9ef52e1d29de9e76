// Will a model fit a configuration? Memory per space (ARCHITECTURE section 3) that the
// compiler needs for the model, against what the configuration has, and the one-line
// reason when it does not fit. The needs are the compiler's own (plan() in compile.ts):
// AMEM at the peak of the liveness allocation, WMEM for every weight and parameter,
// DMEM for the largest program segment; per layer the activations alive while it runs,
// its weights and its descriptors.
import { NnfpgaError } from '../errors.ts';
import type { QModel } from '../quant/types.ts';
import { compile, DESC_WORDS, plan } from './compile.ts';
import type { DeviceConfig, DeviceImage } from './types.ts';

export type Space = 'AMEM' | 'WMEM' | 'DMEM';

export interface LayerMemory {
  name: string;
  /** AMEM bytes alive while it runs: its inputs, outputs, temporaries and the tensors kept for later layers. */
  amem: number;
  /** WMEM bytes of its weights and per-channel parameters. */
  wmem: number;
  /** DMEM bytes of its descriptors (16 words each). */
  dmem: number;
  descriptors: number;
}

export interface FitReport {
  fits: boolean;
  fit_reason: string | null;
  memory: Record<Space, { needed: number; available: number }>;
  layers: LayerMemory[];
  /** The image for this configuration when it fits, else one compiled with unbounded memories (for estimates). */
  image: DeviceImage;
}

const SPACES: Space[] = ['AMEM', 'WMEM', 'DMEM'];

const SPACE_WHAT: Record<Space, string> = {
  AMEM: 'activations',
  WMEM: 'weights and parameters',
  DMEM: 'descriptors',
};

const fmt = (v: number) => v.toLocaleString('en-US');

/** Fits or not, with the reason in one line when not (`target` names the configuration). */
export function fitCheck(model: QModel, config: DeviceConfig, target: string): FitReport {
  const p = plan(model, config);
  const needed: Record<Space, number> = { AMEM: p.peak.amem, WMEM: p.peak.wmem, DMEM: p.peak.dmem };
  const available: Record<Space, number> = {
    AMEM: p.available.amem,
    WMEM: p.available.wmem,
    DMEM: p.available.dmem,
  };
  const memory = Object.fromEntries(
    SPACES.map((s) => [s, { needed: needed[s], available: available[s] }]),
  ) as FitReport['memory'];
  const over = SPACES.filter((s) => needed[s] > available[s]);
  let reason: string | null = null;
  if (over.length > 0) {
    // AMEM peaks while one layer runs: name it
    const peak = p.layers.reduce((a, l) => (l.amem > a.amem ? l : a), p.layers[0]);
    const what = (s: Space) => (s === 'AMEM' ? `activations, most while '${peak.name}' runs` : SPACE_WHAT[s]);
    reason =
      `does not fit ${target}: ` +
      over
        .map((s) => `${s} (${what(s)}) needs ${fmt(needed[s])} bytes, ${fmt(available[s])} available`)
        .join('; ');
  } else if (!p.fits) {
    reason = `does not fit ${target}: ${p.fitReason}`;
  }
  let image: DeviceImage | null = null;
  if (!reason) {
    try {
      image = compile(model, config);
    } catch (err) {
      if (!(err instanceof NnfpgaError)) throw err;
      reason = `does not fit ${target}: ${err.message}`;
    }
  }
  // Too large: the same program with memories large enough, for the estimates.
  const enough = (have: number, bytes: number) => Math.max(have, 2 ** Math.ceil(Math.log2(bytes / 4 + 1)));
  image ??= compile(model, {
    ...config,
    amemWords: enough(config.amemWords, p.peak.amem),
    wmemWords: enough(config.wmemWords, p.peak.wmem),
  });
  const layers = p.layers.map((l) => ({
    name: l.name,
    amem: l.amem,
    wmem: l.wmem,
    dmem: l.descriptors * DESC_WORDS * 4,
    descriptors: l.descriptors,
  }));
  return { fits: reason === null, fit_reason: reason, memory, layers, image };
}
