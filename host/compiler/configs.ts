// The two device configurations of docs/ARCHITECTURE.md section 3. DeviceConfig sizes are
// in 32-bit host words; coreParams() gives npu_core's Verilog parameters (memory words of
// dim bytes).

import type { DeviceConfig } from './types.ts';

/**
 * iCEBreaker (iCE40UP5K): 4x4 array, WMEM in SPRAM, AMEM/accumulators in EBR. AMEM words
 * 0..2047 are 16 EBRs (4 x 512 deep, 4 byte lanes), words 2048..4095 the extension in the
 * upper SPRAM pair (WMEM words 16384 + a mod 16384), for programs whose weights keep to
 * WMEM's rules for it (ARCHITECTURE section 3): a 12-bit AMEM address, in which AMEM word a
 * is in the extension when bit 11 is set. KWS DS-CNN (16,000 live bytes: two 8,000-byte
 * tensors) puts every other layer's output there, cnn_a its 784-word input (beside conv1's
 * 1568-word output). accDepth 256: the accumulator memory is 128 bits wide, 8 EBRs at any
 * depth up to 256 (and 128 gives cnn_a and mlp the same cycle counts). Equals
 * BOARDS.icebreaker.core.
 */
export const BOARD_CONFIG: DeviceConfig = Object.freeze({
  dim: 4,
  amemWords: 2048,
  amemExtWords: 2048,
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

/**
 * Simulation (sim8): 8x8 array with larger memories and the block schedule, whose
 * requantizer takes one output vector a cycle (a simulation has no logic-cell budget:
 * it stands for a part with multipliers to spare). Its sliding-window descriptors are
 * compiled as for two requantizer pipelines of two Booth units each (two slides a period,
 * word 9's interval), which the vector requantizer serves faster than they ask.
 */
export const SIM_CONFIG: DeviceConfig = Object.freeze({
  dim: 8,
  requantUnits: 2,
  requantPipes: 2,
  outputShift: true,
  blockSchedule: true,
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
    // likewise RqUnits (default 1)
    ...(config.requantUnits && config.requantUnits !== 1 ? { RqUnits: config.requantUnits } : {}),
    ...(config.requantPipes && config.requantPipes !== 1 ? { RqPipes: config.requantPipes } : {}),
    ...(config.outputShift ? { OutShift: 1 } : {}),
    ...(config.blockSchedule ? { Block: 1 } : {}),
  };
}
