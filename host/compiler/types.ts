// What the compiler (host/compiler) hands to whoever loads a device: the memory
// images of docs/ARCHITECTURE.md section 3 and where the input and outputs live.
// All addresses and images are in 32-bit host-bus words (ARCHITECTURE section 3).

export interface DeviceConfig {
  dim: number; // N, array side
  amemWords: number; // sizes in 32-bit host words
  /**
   * AMEM host words [amemWords, amemWords + amemExtWords) that are WMEM's upper half (the
   * AMEM extension, ARCHITECTURE section 3): usable by a program whose weights fit the
   * lower half and that never reads and writes it in one descriptor. 0 or absent: none.
   */
  amemExtWords?: number;
  /**
   * Requantizer Booth units (npu_requant's RqUnits, ARCHITECTURE section 2): with 2 the
   * output vectors go one per max(ceil(Steps / 2), N) cycles instead of max(Steps, N).
   * 1 or absent: one. A program compiled for 1 runs on a core with 2 (a longer interval
   * is always safe), not the other way round.
   */
  requantUnits?: number;
  /**
   * Requantizer pipelines (npu_core's RqPipes, ARCHITECTURE section 2), each of
   * requantUnits Booth units, taking the output vectors in turn: with 2 a layer with fewer
   * weight tiles per pixel than N (K < N) slides its window by up to two pixels a period.
   * 1 or absent: one. A program compiled for 1 runs on a core with 2.
   */
  requantPipes?: number;
  /**
   * The core takes descriptor word 0's output shift (npu_core's OutShift = 1, ARCHITECTURE
   * section 4), which pixel-packed inputs of more than one phase need. Absent: it does not
   * (the boards); their phase descriptors then keep to one phase.
   */
  outputShift?: boolean;
  /**
   * The block schedule (npu_core's Block = 1, ARCHITECTURE section 1): descriptors with
   * word 0 bits 15:12 = 1 run blocks of B pixels through every weight tile in turn, their
   * outputs going to a requantizer that takes one vector a cycle (it replaces the Booth
   * pipelines). Absent: the sliding window only (the boards).
   */
  blockSchedule?: boolean;
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
  /**
   * The model input written pixel-packed (layout.ts deviceInput): `pixels` columns of the
   * model's [C, H, W] in each memory word, `shape` being the device tensor's.
   */
  pixelPack?: { pixels: number; modelShape: [number, number, number] };
}

/** A QModel layer as compiled: the descriptors that run it and where its output is. */
export interface CompiledLayer {
  name: string;
  kind: string;
  /** Where the layer's output is right after its last descriptor (later ones may reuse it). */
  output: TensorPlacement;
  macs: number; // useful MACs of this layer
  /** Its descriptors: program steps first .. first + count - 1. */
  steps: { first: number; count: number };
}

/** AMEM, WMEM and DMEM needs of a layer, and of the whole model, in bytes (plan()). */
export interface MemoryNeeds {
  layers: {
    name: string;
    /** Activations alive while the layer runs (its inputs, outputs, temporaries, and
     * tensors kept for later layers), at the worst of its descriptors. */
    amem: number;
    /** Its weights and per-channel parameters. */
    wmem: number;
    /** Its descriptors (16 words each; a program runs MaxLayers of them per RUN). */
    descriptors: number;
  }[];
  peak: { amem: number; wmem: number; dmem: number };
}

export interface DeviceImage {
  config: DeviceConfig;
  /** The first program segment (all of the program when it has at most MaxLayers steps). */
  dmem: Uint32Array;
  /**
   * The program in segments of at most MaxLayers descriptors, each ended by END unless
   * full: the host runs them one after another (write the segment to DMEM, RUN).
   */
  segments: Uint32Array[];
  wmem: Uint32Array; // from WMEM word 0
  amemWordsUsed: number;
  input: TensorPlacement;
  output: TensorPlacement;
  layers: CompiledLayer[];
  /** Every descriptor of the program, 16 words each, in order (no END). */
  descriptors: Uint32Array;
  /** Per descriptor: the QModel layer it belongs to (index into layers). */
  stepLayers: number[];
  needs: MemoryNeeds;
}
