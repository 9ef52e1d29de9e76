// Will a model fit a configuration? Memory per space (ARCHITECTURE section 3) that the
// compiler needs for the model, against what the configuration has, and the one-line
// reason when it does not fit. memoryNeeds() is the one place that asks the compiler
// for its needs: it compiles for a configuration of the same array with unbounded
// memories and the tightest AMEM allocation, and reads the sizes off the image.
import { NnfpgaError } from '../errors.ts';
import type { QModel } from '../quant/types.ts';
import { compile, DESC_WORDS, OP_CONV } from './compile.ts';
import { tensorHostWords } from './layout.ts';
import type { DeviceConfig, DeviceImage } from './types.ts';

export type Space = 'AMEM' | 'WMEM' | 'DMEM';

export interface MemoryNeeds {
  /** Bytes the model needs in each space (AMEM: at the peak of the tightest allocation). */
  needed: Record<Space, number>;
  /** Per layer: AMEM bytes live while it runs (its input and output), its WMEM and DMEM bytes. */
  layers: { name: string; amem: number; wmem: number; dmem: number }[];
  /** The image compiled with unbounded memories (for estimates when the model does not fit). */
  image: DeviceImage;
}

const BYTES = 4; // host words are 32-bit

export function memoryNeeds(model: QModel, config: DeviceConfig): MemoryNeeds {
  const unbounded: DeviceConfig = {
    ...config,
    amemWords: 1 << 24,
    wmemWords: 1 << 26,
    dmemWords: DESC_WORDS * (model.layers.length + 1),
    maxLayers: model.layers.length,
  };
  const image = compile(model, unbounded, { allocation: 'pingpong' });
  const n = config.dim;
  const isConv = (i: number) => (image.dmem[i * DESC_WORDS] & 0xf) === OP_CONV;
  const wBase = (i: number) => image.dmem[i * DESC_WORDS + 8];
  const layers = image.layers.map((l, i) => {
    // A CONV layer's WMEM runs from its w_base to the next CONV layer's (or the end).
    let wmem = 0;
    if (isConv(i)) {
      let end = image.wmem.length / (n / 4);
      for (let j = i + 1; j < image.layers.length; j++)
        if (isConv(j)) {
          end = wBase(j);
          break;
        }
      wmem = (end - wBase(i)) * n;
    }
    const input = i === 0 ? image.input.shape : image.layers[i - 1].output.shape;
    const amem = (tensorHostWords(input, n) + l.output.words) * BYTES;
    return { name: l.name, amem, wmem, dmem: DESC_WORDS * BYTES };
  });
  return {
    needed: {
      AMEM: image.amemWordsUsed * BYTES,
      WMEM: image.wmem.length * BYTES,
      // END may be left out when the program fills DMEM
      DMEM: DESC_WORDS * image.layers.length * BYTES,
    },
    layers,
    image,
  };
}

export interface FitReport {
  fits: boolean;
  fit_reason: string | null;
  memory: Record<Space, { needed: number; available: number }>;
  layers: MemoryNeeds['layers'];
  /** The image for this configuration when it fits, else the unbounded one. */
  image: DeviceImage;
}

const SPACE_WHAT: Record<Space, string> = {
  AMEM: 'activations',
  WMEM: 'weights and parameters',
  DMEM: 'descriptors',
};

const fmt = (v: number) => v.toLocaleString('en-US');

/** Fits or not, with the reason in one line when not (`target` names the configuration). */
export function fitCheck(model: QModel, config: DeviceConfig, target: string): FitReport {
  const needs = memoryNeeds(model, config);
  const available: Record<Space, number> = {
    AMEM: config.amemWords * BYTES,
    WMEM: config.wmemWords * BYTES,
    DMEM: config.dmemWords * BYTES,
  };
  const memory = Object.fromEntries(
    (['AMEM', 'WMEM', 'DMEM'] as Space[]).map((s) => [
      s,
      { needed: needs.needed[s], available: available[s] },
    ]),
  ) as FitReport['memory'];
  const over = (['AMEM', 'WMEM', 'DMEM'] as Space[]).filter((s) => needs.needed[s] > available[s]);
  let reason: string | null = null;
  if (over.length > 0) {
    reason =
      `does not fit ${target}: ` +
      over
        .map(
          (s) =>
            `${s} (${SPACE_WHAT[s]}) needs ${fmt(needs.needed[s])} bytes, ${fmt(available[s])} available`,
        )
        .join('; ');
  } else if (model.layers.length > config.maxLayers) {
    reason = `does not fit ${target}: ${model.layers.length} layers, the device runs at most ${config.maxLayers}`;
  }
  let image = needs.image;
  if (!reason) {
    try {
      image = compile(model, config);
    } catch (err) {
      if (!(err instanceof NnfpgaError)) throw err;
      reason = `does not fit ${target}: ${err.message}`;
    }
  }
  return { fits: reason === null, fit_reason: reason, memory, layers: needs.layers, image };
}
