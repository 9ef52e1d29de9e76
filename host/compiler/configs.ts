// The two device configurations of docs/ARCHITECTURE.md section 3. DeviceConfig sizes are
// in 32-bit host words; coreParams() gives npu_core's Verilog parameters (memory words of
// dim bytes).

import type { DeviceConfig } from './types.ts';

/** iCEBreaker (iCE40UP5K): 4x4 array, WMEM in SPRAM, AMEM/accumulators in EBR. */
export const BOARD_CONFIG: DeviceConfig = Object.freeze({
  dim: 4,
  amemWords: 2560,
  wmemWords: 32768,
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
    WmemWords: config.wmemWords / sub,
    DmemWords: config.dmemWords,
    AccDepth: config.accDepth,
    MaxLayers: config.maxLayers,
  };
}
