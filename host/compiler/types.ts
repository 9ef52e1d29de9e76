// What the compiler (host/compiler) hands to whoever loads a device: the memory
// images of docs/ARCHITECTURE.md section 3 and where the input and outputs live.
// All addresses and images are in 32-bit host-bus words (ARCHITECTURE section 3).

export interface DeviceConfig {
  dim: number; // N, array side
  amemWords: number; // sizes in 32-bit host words
  wmemWords: number;
  dmemWords: number;
  accDepth: number;
  maxLayers: number;
}

/** A tensor in AMEM, in the hardware layout (channel groups innermost). */
export interface TensorPlacement {
  addr: number; // AMEM host word address
  words: number; // host words it spans
  shape: number[]; // [C, H, W] or [M] as in the QModel
}

export interface CompiledLayer {
  name: string;
  kind: string;
  output: TensorPlacement;
  macs: number; // useful MACs of this layer
}

export interface DeviceImage {
  config: DeviceConfig;
  dmem: Uint32Array; // the descriptor program, from DMEM word 0
  wmem: Uint32Array; // from WMEM word 0
  amemWordsUsed: number;
  input: TensorPlacement;
  output: TensorPlacement;
  layers: CompiledLayer[];
}
