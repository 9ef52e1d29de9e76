// The flashed netlist, simulated: a board top synthesised by exactly the yosys script of
// the bitstream flow (yosysScript(): same sources, parameters and synth_ice40 options),
// written out as a Verilog netlist of iCE40 cells (SB_LUT4, SB_CARRY, SB_DFF*,
// SB_RAM40_4K, SB_SPRAM256KA, SB_MAC16, SB_PLL40_*), and compiled by Verilator with
// yosys's own simulation models of those cells (cells_sim.v). The simulated board
// (sim/board_sim.cpp) runs on it as on the RTL, so a model can be run bit for bit
// through the UART pins of what nextpnr places. The PLL is the behavioural pass-through
// of sim/ice40/ (cells_sim.v has no PLL model), as in the RTL board-top simulation.
//
// Netlists are cached in build/netlist/BOARD-HASH/ by a hash of the yosys version, the
// script and every source file, so an unchanged design is synthesised once.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ToolError } from '../errors.ts';
import { buildVerilator } from '../sim/verilator.ts';
import { type BoardSpec, topParams } from './boards.ts';
import { boardSources, REPO_ROOT, yosysScript } from './build.ts';
import { runTool } from './tools.ts';

/** Where Debian's yosys keeps its iCE40 cell models. */
const CELL_LIBRARY_CANDIDATES = [
  '/usr/share/yosys/ice40/cells_sim.v',
  '/usr/local/share/yosys/ice40/cells_sim.v',
];

export interface Netlist {
  board: string;
  /** The synthesised top as Verilog (iCE40 cells only). */
  verilog: string;
  /** The cell models the netlist instantiates, extracted from yosys's cells_sim.v. */
  cells: string;
  /** Cell instances by type, e.g. { SB_LUT4: 3948, SB_MAC16: 8 }. */
  cellCounts: Record<string, number>;
}

function cellLibrary(): string {
  const lib = CELL_LIBRARY_CANDIDATES.find((p) => existsSync(p));
  if (!lib) throw new ToolError("yosys's iCE40 cell models (ice40/cells_sim.v) not found: run make deps");
  return lib;
}

/** Cell instance counts of a yosys write_verilog netlist. */
export function countCells(verilog: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const m of verilog.matchAll(/^\s*(SB_\w+)\s+(?:#\(|\\|[A-Za-z_])/gm))
    counts[m[1]] = (counts[m[1]] ?? 0) + 1;
  return counts;
}

/**
 * The modules of cells_sim.v that `used` names, except the PLLs, with the default
 * values of input ports removed (`input X = 1'b0`: Verilator 5.006 does not parse them;
 * yosys's netlist connects every port of every cell, so they never apply).
 */
export function extractCellModels(library: string, used: Iterable<string>): string {
  const want = new Set([...used].filter((c) => !c.startsWith('SB_PLL40')));
  const firstModule = library.search(/^module\s/m);
  // The preamble defines SB_DFF_INIT and the default-assignment macros the modules use.
  const parts = ['`define NO_ICE40_DEFAULT_ASSIGNMENTS', library.slice(0, firstModule)];
  const found = new Set<string>();
  for (const m of library.matchAll(/^module\s+(\w+)[\s\S]*?^endmodule/gm)) {
    if (!want.has(m[1])) continue;
    found.add(m[1]);
    parts.push(m[0].replace(/^(\s*input\b[^=\n]*?)\s*=\s*[^,\n)]+/gm, '$1'));
  }
  const missing = [...want].filter((c) => !found.has(c));
  if (missing.length)
    throw new ToolError(`no simulation model for ${missing.join(', ')} in yosys's cells_sim.v`);
  return parts.join('\n') + '\n';
}

/** Synthesises BOARD's top into a cell netlist (or finds it cached). */
export async function synthNetlist(board: BoardSpec, root: string = REPO_ROOT): Promise<Netlist> {
  const sources = boardSources(board, root);
  const outRoot = join(root, 'build', 'netlist');
  const { stdout: version } = await runTool('yosys', ['-V']);
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ version: version.trim(), params: topParams(board), top: board.top }));
  for (const f of sources) {
    hash.update(relative(root, f));
    hash.update(readFileSync(f));
  }
  const library = readFileSync(cellLibrary(), 'utf8');
  hash.update(library);
  const key = hash.digest('hex').slice(0, 16);
  const dir = join(outRoot, `${board.name}-${key}`);
  const verilog = join(dir, `${board.top}.v`);
  const cells = join(dir, 'cells.v');
  if (!existsSync(cells)) {
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const script =
      yosysScript(board, sources, root, join(tmp, `${board.top}.json`)) +
      `write_verilog -noattr ${relative(root, join(tmp, `${board.top}.v`))}\n`;
    writeFileSync(join(tmp, 'synth.ys'), script);
    const r = await runTool('yosys', ['-q', '-l', join(tmp, 'yosys.log'), '-s', join(tmp, 'synth.ys')], {
      cwd: root,
    });
    if (r.code !== 0) {
      const tail = (r.stderr || r.stdout).trim().split('\n').slice(-5).join(' | ');
      throw new ToolError(
        `yosys could not synthesise ${board.top} (log: ${join(tmp, 'yosys.log')}): ${tail}`,
      );
    }
    const text = readFileSync(join(tmp, `${board.top}.v`), 'utf8');
    writeFileSync(join(tmp, 'cells.v'), extractCellModels(library, Object.keys(countCells(text))));
    rmSync(join(tmp, `${board.top}.json`), { force: true });
    try {
      renameSync(tmp, dir);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another process finished first
    }
  }
  return { board: board.name, verilog, cells, cellCounts: countCells(readFileSync(verilog, 'utf8')) };
}

/**
 * The simulated board on BOARD's synthesised netlist (sim/board_sim.cpp built with
 * NPU_NETLIST): the same pty, UART rate and host path as `--sim --board B`, the logic
 * being yosys's cells instead of the RTL. Returns the executable.
 */
export async function buildNetlistBoardSim(board: BoardSpec, clocksPerBit: number): Promise<string> {
  const n = await synthNetlist(board);
  return buildVerilator({
    name: `board_sim_${board.name}_netlist`,
    top: board.top,
    sources: [
      n.verilog,
      n.cells,
      'sim/ice40/SB_PLL40_PAD.v',
      'sim/ice40/SB_PLL40_CORE.v',
      'sim/ice40/sb_pll40_model.v',
    ],
    cppSources: ['sim/board_sim.cpp', 'sim/uartsim.cpp'],
    defines: { [`NPU_BOARD_${board.name.toUpperCase()}`]: 1, NPU_CLKS_PER_BIT: clocksPerBit, NPU_NETLIST: 1 },
    thirdParty: true,
  });
}
