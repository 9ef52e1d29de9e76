// The board table: everything the build and flash commands know about a board.
// Adding a board is one entry here, one constraints/NAME.pcf and one board top in
// rtl/boards/ (whose parameters are the `top.params` below, set with yosys chparam).

import type { DeviceConfig } from '../compiler/types.ts';
import { InputError } from '../errors.ts';

/** iCE40 device families nextpnr-ice40 knows by a flag (--up5k, --hx8k, ...). */
export type Ice40Device = 'up5k' | 'hx8k' | 'hx4k' | 'hx1k' | 'lp8k' | 'lp4k' | 'lp1k' | 'up3k';

/** Resource counts of a device, in nextpnr's report names (ICESTORM_*). */
export interface DeviceResources {
  logicCells: number;
  dsp: number; // SB_MAC16
  ebr: number; // 4 kbit block RAMs
  spram: number; // SB_SPRAM256KA, 16 k x 16 each
}

/** PLL dividers: Fout = Fin * (divf + 1) / ((divr + 1) * 2^divq), from `icepll -i Fin -o Fout`. */
export interface PllSettings {
  divr: number;
  divf: number;
  divq: number;
  filterRange: number;
}

/** The accelerator's configuration on a board (npu_top parameters, ARCHITECTURE section 3). */
export interface CoreConfig {
  dim: number; // N: the array is N x N PEs
  amemWords: number; // words of N bytes
  /** AMEM words after amemWords in WMEM's upper half (npu_core AmemExtWords; 0: none). */
  amemExtWords: number;
  wmemWords: number; // words of N bytes
  dmemWords: number; // 32-bit words
  accDepth: number;
  maxLayers: number;
  maxPayload: number; // link frame-buffer bank: a request's 4-byte header and payload (2 banks)
}

export interface BoardSpec {
  name: string;
  description: string;
  device: Ice40Device;
  package: string; // nextpnr --package
  pcf: string; // relative to the repository root
  top: string; // board top module, in rtl/boards/TOP.v
  clockPinMhz: number; // oscillator on the clock pin
  targetMhz: number; // PLL output = core clock = nextpnr --freq
  pll: PllSettings;
  baud: number; // UART rate the board top is built for (ClksPerBit = clock / baud)
  /**
   * Use the UP5K hard-block variants in rtl/ice40/ (SB_MAC16 array, SPRAM WMEM); every
   * board gets the EBR memory variant (host/board/build.ts: boardSources).
   */
  hardBlocks: boolean;
  core: CoreConfig;
  available: DeviceResources;
  /** openFPGALoader arguments that select the board's programmer. */
  programmer: string[];
}

export const BOARDS: Record<string, BoardSpec> = {
  icebreaker: {
    name: 'icebreaker',
    description: 'iCEBreaker v1.0, iCE40UP5K-SG48, 12 MHz oscillator, FT2232H UART',
    device: 'up5k',
    package: 'sg48',
    pcf: 'constraints/icebreaker.pcf',
    top: 'npu_board_icebreaker',
    clockPinMhz: 12,
    // The clock the design meets with margin (docs/README-boards.md "Measured": nextpnr and
    // icetime both above it). A bitstream built for a clock it does not meet would
    // misbehave on the board; the build gate in `make test` keeps this one.
    targetMhz: 30,
    pll: { divr: 0, divf: 79, divq: 5, filterRange: 1 }, // icepll -i 12 -o 30
    // The FT2232H's 3 Mbaud (its 12 MHz clock / 4, exact): 10 clocks per bit at 30 MHz.
    baud: 3_000_000,
    hardBlocks: true,
    // host/compiler/configs.ts BOARD_CONFIG: WMEM is the four SPRAMs (128 KiB); AMEM 16
    // EBRs, then 8 KiB of the upper SPRAM pair (a 12-bit AMEM address)
    core: {
      dim: 4,
      amemWords: 2048,
      amemExtWords: 2048,
      wmemWords: 32768,
      dmemWords: 256,
      accDepth: 256,
      maxLayers: 16,
      maxPayload: 256,
    },
    available: { logicCells: 5280, dsp: 8, ebr: 30, spram: 4 },
    // openFPGALoader 0.10 has no 'icebreaker' entry; its FT2232H channel A drives the SPI
    // flash exactly as on Lattice's boards, which 'ice40_generic' describes.
    programmer: ['-b', 'ice40_generic'],
  },
  hx8k: {
    name: 'hx8k',
    description: 'Lattice iCE40-HX8K breakout, iCE40HX8K-CT256, 12 MHz oscillator, FT2232H UART',
    device: 'hx8k',
    package: 'ct256',
    pcf: 'constraints/hx8k.pcf',
    top: 'npu_board_hx8k',
    clockPinMhz: 12,
    // Its best clock with margin: the design routes at 79.2 MHz.
    targetMhz: 72,
    pll: { divr: 0, divf: 47, divq: 3, filterRange: 1 }, // icepll -i 12 -o 72
    baud: 3_000_000, // the FT2232H's 3 Mbaud: 24 clocks per bit at 72 MHz
    hardBlocks: false,
    // No SPRAM and 32 EBRs (16 KiB) for every memory: accumulators 8, DMEM 2,
    // CNT 2, frame buffer 1, leaving AMEM 8 (4 KiB) and WMEM 8 (4 KiB) of the 32.
    core: {
      dim: 4,
      amemWords: 1024,
      amemExtWords: 0,
      wmemWords: 1024,
      dmemWords: 256,
      accDepth: 256,
      maxLayers: 16,
      maxPayload: 256,
    },
    available: { logicCells: 7680, dsp: 0, ebr: 32, spram: 0 },
    // The breakout's FT2232H drives the SPI flash like the iCEBreaker's (jumpers J6
    // horizontal, J7 open: flash programming, the default).
    programmer: ['-b', 'ice40_generic'],
  },
};

export function boardNames(): string[] {
  return Object.keys(BOARDS);
}

/** The board called `name`, or an InputError naming the boards there are. */
export function lookupBoard(name: string): BoardSpec {
  const board = BOARDS[name];
  if (!board) throw new InputError(`unknown board '${name}': choose one of ${boardNames().join(', ')}`);
  return board;
}

/** npu_board_* parameters for yosys chparam, from the table entry. */
export function topParams(board: BoardSpec): Record<string, number> {
  const c = board.core;
  return {
    Dim: c.dim,
    AmemWords: c.amemWords,
    // only the tops that have the extension declare it
    ...(c.amemExtWords > 0 ? { AmemExtWords: c.amemExtWords } : {}),
    WmemWords: c.wmemWords,
    DmemWords: c.dmemWords,
    AccDepth: c.accDepth,
    MaxLayers: c.maxLayers,
    MaxPayload: c.maxPayload,
    ClockHz: Math.round(board.targetMhz * 1e6),
    Baud: board.baud,
    PllDivR: board.pll.divr,
    PllDivF: board.pll.divf,
    PllDivQ: board.pll.divq,
    PllFilter: board.pll.filterRange,
  };
}

/**
 * The compiler's view of a board's core (host/compiler: sizes in 32-bit host words, where
 * the board table counts memory words of dim bytes). host/compiler/configs.ts holds the
 * same figures as named configs; test/board/cli.test.ts checks that the two agree.
 */
export function deviceConfig(board: BoardSpec): DeviceConfig {
  const c = board.core;
  const sub = c.dim / 4;
  return {
    dim: c.dim,
    amemWords: c.amemWords * sub,
    ...(c.amemExtWords > 0 ? { amemExtWords: c.amemExtWords * sub } : {}),
    wmemWords: c.wmemWords * sub,
    dmemWords: c.dmemWords,
    accDepth: c.accDepth,
    maxLayers: c.maxLayers,
  };
}

/** The PLL output frequency the settings give, in MHz. */
export function pllOutMhz(board: BoardSpec): number {
  const { divr, divf, divq } = board.pll;
  return (board.clockPinMhz * (divf + 1)) / ((divr + 1) * 2 ** divq);
}
