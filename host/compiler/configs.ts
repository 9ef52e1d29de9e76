// The two device configurations of docs/ARCHITECTURE.md section 3. DeviceConfig sizes are
// in 32-bit host words; coreParams() gives npu_core's Verilog parameters (memory words of
// dim bytes).

import type { DeviceConfig } from './types.ts';

/**
 * iCEBreaker (iCE40UP5K): 4x4 array, WMEM in SPRAM, AMEM/accumulators in EBR. AMEM 2560
 * words is all of its 20 EBRs (5 x 512 deep, 4 byte lanes); cnn_a needs 2352 (conv1's
 * 784-word input beside its 1568-word output), past the 2304 that 18 EBRs hold. AMEM
 * words 2560..8191 are the extension in the upper SPRAM pair (WMEM words 16384 + a mod
 * 16384), for programs whose weights fit the lower 64 KiB (KWS DS-CNN: 16,000 live bytes).
 * accDepth 256: the accumulator memory is 128 bits wide, 8 EBRs at any depth up to 256
 * (and 128 gives cnn_a and mlp the same cycle counts). Equals BOARDS.icebreaker.core.
 */
export const BOARD_CONFIG: DeviceConfig = Object.freeze({
  dim: 4,
  amemWords: 2560,
  amemExtWords: 5632,
  wmemWords: 32768,
  dmemWords: 256,
  accDepth: 256,
  maxLayers: 16,
});

/**
 * iCE40-HX8K breakout: no SPRAM, every memory in its 32 EBRs (AMEM 8, WMEM 8, accumulators
 * 8, DMEM 2, CNT 2, frame buffer 1 = 29). 4 KiB of weights: runs small models only (mlp
 * needs 109 KiB of weights, cnn_a 11 KiB of weights and 9.2 KiB of activations). Equals
 * BOARDS.hx8k.core.
 */
export const HX8K_CONFIG: DeviceConfig = Object.freeze({
  dim: 4,
  amemWords: 1024,
  wmemWords: 1024,
  dmemWords: 256,
  accDepth: 256,
  maxLayers: 16,
});

/** Simulation (sim8): 8x8 array with larger memories. */
export const SIM_CONFIG: DeviceConfig = Object.freeze({
  dim: 8,
  amemWords: 16384 * 2,
  wmemWords: 65536 * 2,
  dmemWords: 256,
  accDepth: 1024,
  maxLayers: 16,
});

/** npu_core parameters for a configuration. */
export function coreParams(config: DeviceConfig): Record<string, number> {
  const sub = config.dim / 4;
  return {
    Dim: config.dim,
    AmemWords: config.amemWords / sub,
    // only configurations with the extension set it (the parameter defaults to 0)
    ...(config.amemExtWords ? { AmemExtWords: config.amemExtWords / sub } : {}),
    WmemWords: config.wmemWords / sub,
    DmemWords: config.dmemWords,
    AccDepth: config.accDepth,
    MaxLayers: config.maxLayers,
  };
}
