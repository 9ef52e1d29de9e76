// The open iCE40 flow for one board: yosys synth_ice40 -> nextpnr-ice40 -> icepack, and
// icetime's timing sign-off of the routed design, with every output and log in
// build/BOARD/ (host/paths.ts buildDir). The result is SPEC section 2's build JSON:
// resources used and available (from nextpnr's --report), Fmax from nextpnr and from
// icetime against the target.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { NnfpgaError } from '../errors.ts';
import { buildDir, PACKAGE_ROOT } from '../paths.ts';
import { type BoardSpec, pllOutMhz, topParams } from './boards.ts';
import { runTool } from './tools.ts';

/** The design does not fit the device, misses timing, or a tool rejected it. Exit code 1. */
export class BuildError extends NnfpgaError {}

export interface ResourceUse {
  used: number;
  available: number;
}

export interface BuildResult {
  board: string;
  device: string;
  bitstream: string; // path of the .bin, relative to the package root when inside it
  fmax_mhz: number; // nextpnr's, of the core clock (the slowest clock domain)
  /**
   * icetime's estimate for the routed design (fpga-icestorm-chipdb's timing model,
   * which covers the SB_MAC16 that nextpnr does not time).
   */
  icetime_mhz: number;
  target_mhz: number;
  /** Both nextpnr's and icetime's figures reach target_mhz. */
  timing_met: boolean;
  resources: {
    logic_cells: ResourceUse;
    dsp: ResourceUse;
    ebr: ResourceUse;
    spram: ResourceUse;
    io: ResourceUse;
    pll: ResourceUse;
    global_buffers: ResourceUse;
  };
  core: BoardSpec['core'];
  clock_mhz: number;
  peak_macs_per_s: number; // N^2 MACs per cycle at the target clock
  seconds: { synth: number; pnr: number; pack: number; icetime: number; total: number };
  logs: { yosys: string; nextpnr: string; report: string; icetime: string };
}

export interface BuildOptions {
  /** Repository root (where rtl/ and constraints/ are). Default: this checkout. */
  root?: string;
  /** Output folder. Default: build/BOARD in a clone, else the user's cache (host/paths.ts). */
  outDir?: string;
  /** One line per stage, for standard error. */
  progress?: (line: string) => void;
  /** nextpnr placer seed (default 1, so builds are reproducible). */
  seed?: number;
}

export const REPO_ROOT = PACKAGE_ROOT;

/**
 * rtl/ice40/ variants built on the UP5K's SB_MAC16s. (npu_spram.v, the SPRAM helper, is
 * read on every board: npu_ram.v names it, yosys wants it present; only memories of
 * whole SPRAM blocks instantiate it, and the HX8K configuration has none.)
 */
export const HARD_BLOCK_VARIANTS: readonly string[] = ['npu_array.v'];

/**
 * The Verilog sources of a board: the board top, the shared RTL (rtl/npu_*.v) and the
 * iCE40 variants: a file in rtl/ice40/ named like a shared module replaces it (same
 * module, same ports), other files there are helpers those variants use. Every board
 * gets the EBR memory variant (npu_ram.v); the HARD_BLOCK_VARIANTS only boards with hard
 * blocks, and boards without them the logic-only variants of rtl/ice40/fabric/ instead
 * (the HX8K's array). Simulation never reads rtl/ice40/.
 */
export function boardSources(board: BoardSpec, root: string = REPO_ROOT): string[] {
  const rtl = join(root, 'rtl');
  const list = (dir: string) =>
    existsSync(dir) ? readdirSync(dir).filter((f) => /^npu_.*\.v$/.test(f)) : [];
  const variants = new Map<string, string>(); // module file name -> path
  const ice40Dir = join(rtl, 'ice40');
  for (const f of list(ice40Dir)) {
    if (board.hardBlocks || !HARD_BLOCK_VARIANTS.includes(f)) variants.set(f, join(ice40Dir, f));
  }
  if (!board.hardBlocks) {
    const fabricDir = join(ice40Dir, 'fabric');
    for (const f of list(fabricDir)) variants.set(f, join(fabricDir, f));
  }
  const files = list(rtl)
    .filter((f) => !variants.has(f))
    .map((f) => join(rtl, f));
  files.push(...variants.values());
  files.push(join(rtl, 'boards', `${board.top}.v`));
  return files.sort();
}

/**
 * synth_ice40's options for every board. Never -dsp: its DSP mapping (ice40_dsp) also
 * takes the SB_MAC16s that rtl/ice40/npu_array.v instantiates and rewrites them, clearing
 * their 8x8 mode and input/product registers (yosys 0.23 left 6 of the UP5K's 8 on a
 * netlist that no longer computes the array); the design has no multiplier for it to
 * map anyway, the only ones are those hand-placed SB_MAC16 pairs. test/board/build.test.ts
 * checks the synthesised cells keep their parameters.
 */
export const SYNTH_OPTIONS: readonly string[] = [];

/** The yosys script: read, set the board's parameters, synthesise for iCE40. */
export function yosysScript(board: BoardSpec, sources: string[], root: string, jsonOut: string): string {
  const params = Object.entries(topParams(board))
    .map(([k, v]) => `-set ${k} ${v}`)
    .join(' ');
  const rel = (p: string) => relative(root, p);
  if (SYNTH_OPTIONS.includes('-dsp'))
    throw new Error('synth_ice40 -dsp rewrites the SB_MAC16 array (see SYNTH_OPTIONS)');
  return [
    `read_verilog -Irtl ${sources.map(rel).join(' ')}`,
    `chparam ${params} ${board.top}`,
    `synth_ice40 ${[...SYNTH_OPTIONS, '-top', board.top, '-json', rel(jsonOut)].join(' ')}`,
    '',
  ].join('\n');
}

/** icetime's figure from its report: "Total path delay: 30.63 ns (32.65 MHz)". */
export function icetimeMhz(report: string): number | undefined {
  const m = report.match(/Total path delay:\s*[\d.]+\s*ns\s*\(([\d.]+)\s*MHz\)/);
  return m ? Number(m[1]) : undefined;
}

interface NextpnrReport {
  utilization?: Record<string, { used: number; available: number }>;
  fmax?: Record<string, { achieved: number; constraint: number }>;
}

function use(report: NextpnrReport, key: string, fallback: number): ResourceUse {
  const u = report.utilization?.[key];
  return u ? { used: u.used, available: u.available } : { used: 0, available: fallback };
}

/** Over-used resources from nextpnr's "Device utilisation" lines, e.g. "ICESTORM_DSP: 12/ 8 150%". */
export function overusedFromLog(log: string): string[] {
  const over: string[] = [];
  for (const m of log.matchAll(/^Info:\s+(\w+):\s+(\d+)\/\s*(\d+)\s+\d+%/gm)) {
    const [, name, used, avail] = m;
    if (Number(used) > Number(avail)) over.push(`${friendlyName(name)} ${used}/${avail}`);
  }
  return [...new Set(over)];
}

/** The one-line failure of a build that does not fit: every over-used resource, used/available. */
export function doesNotFit(board: BoardSpec, over: string[], log: string): string {
  return `${board.name}: the design does not fit the ${board.device.toUpperCase()} (used/available): ${over.join(', ')} (log: ${log})`;
}

function friendlyName(nextpnrName: string): string {
  const names: Record<string, string> = {
    ICESTORM_LC: 'logic cells',
    ICESTORM_RAM: 'EBR',
    ICESTORM_DSP: 'DSPs (SB_MAC16)',
    ICESTORM_SPRAM: 'SPRAM',
    SB_IO: 'IOs',
    SB_GB: 'global buffers',
    ICESTORM_PLL: 'PLLs',
  };
  return names[nextpnrName] ?? nextpnrName;
}

/** The first ERROR line of a tool log, without the prefix. */
function firstError(log: string): string | undefined {
  const m = log.match(/^(?:.*?: )?ERROR:\s*(.*)$/m);
  return m?.[1]?.trim();
}

/** The critical path's end points from nextpnr's log ("Info: Critical path report for clock ..."). */
export function criticalPathSummary(log: string): string | undefined {
  const idx = log.lastIndexOf('Critical path report for clock');
  if (idx < 0) return undefined;
  const lines = log.slice(idx).split('\n');
  const sources = lines.filter((l) => /Info:\s+Sink\s|Info:\s+Net\s/.test(l));
  const first = sources[0]?.match(/Net\s+(\S+)/)?.[1];
  const last = lines
    .filter((l) => /Info:\s+Sink\s/.test(l))
    .at(-1)
    ?.match(/Sink\s+(\S+)/)?.[1];
  if (!first && !last) return undefined;
  return `from net ${first ?? '?'} to ${last ?? '?'}`;
}

/** Runs the whole flow for one board. Throws BuildError when it does not fit or misses timing. */
export async function buildBoard(board: BoardSpec, opts: BuildOptions = {}): Promise<BuildResult> {
  const root = opts.root ?? REPO_ROOT;
  const out = opts.outDir ?? buildDir(board.name);
  const progress = opts.progress ?? (() => {});
  // Paths in messages and in the result: relative to the root when inside it.
  const shown = (p: string) => (relative(root, p).startsWith('..') ? p : relative(root, p));
  mkdirSync(out, { recursive: true });
  const pll = pllOutMhz(board);
  if (Math.abs(pll - board.targetMhz) > 1e-6) {
    throw new BuildError(
      `board table: ${board.name} PLL settings give ${pll} MHz, not the target ${board.targetMhz} MHz (run icepll -i ${board.clockPinMhz} -o ${board.targetMhz})`,
    );
  }
  const files = {
    ys: join(out, 'synth.ys'),
    json: join(out, `${board.name}.json`),
    asc: join(out, `${board.name}.asc`),
    bin: join(out, `${board.name}.bin`),
    yosysLog: join(out, 'yosys.log'),
    pnrLog: join(out, 'nextpnr.log'),
    report: join(out, 'report.json'),
    icetimeLog: join(out, 'icetime.log'),
  };
  const sources = boardSources(board, root);
  writeFileSync(files.ys, yosysScript(board, sources, root, files.json));
  const t0 = Date.now();
  const tag = `build ${board.name}:`;

  // 1. Synthesis.
  progress(
    `${tag} synthesis (yosys synth_ice40, ${sources.length} files with rtl/ice40/${board.hardBlocks ? '' : ' and rtl/ice40/fabric/'})`,
  );
  const synth = await runTool(
    'yosys',
    ['-q', '-l', relative(root, files.yosysLog), '-s', relative(root, files.ys)],
    {
      cwd: root,
    },
  );
  const tSynth = Date.now();
  if (synth.code !== 0) {
    const log = existsSync(files.yosysLog) ? readFileSync(files.yosysLog, 'utf8') : synth.stderr;
    const err = firstError(log) ?? firstError(synth.stderr) ?? `exit code ${synth.code}`;
    throw new BuildError(`${board.name}: synthesis failed: ${err} (log: ${shown(files.yosysLog)})`);
  }

  // 2. Place and route at the target clock; timing is judged here, from the report.
  progress(
    `${tag} place and route (nextpnr-ice40 --${board.device} --package ${board.package} --freq ${board.targetMhz})`,
  );
  const pnrArgs = [
    `--${board.device}`,
    '--package',
    board.package,
    '--json',
    relative(root, files.json),
    '--pcf',
    board.pcf,
    '--asc',
    relative(root, files.asc),
    '--freq',
    String(board.targetMhz),
    '--report',
    relative(root, files.report),
    '--log',
    relative(root, files.pnrLog),
    '--seed',
    String(opts.seed ?? 1),
    '--timing-allow-fail',
    '-q',
  ];
  const pnr = await runTool('nextpnr-ice40', pnrArgs, { cwd: root });
  const tPnr = Date.now();
  const pnrLog = existsSync(files.pnrLog) ? readFileSync(files.pnrLog, 'utf8') : pnr.stderr;
  if (pnr.code !== 0) {
    const over = overusedFromLog(pnrLog);
    if (over.length > 0) throw new BuildError(doesNotFit(board, over, shown(files.pnrLog)));
    const err = firstError(pnrLog) ?? firstError(pnr.stderr) ?? `exit code ${pnr.code}`;
    throw new BuildError(`${board.name}: place and route failed: ${err} (log: ${shown(files.pnrLog)})`);
  }
  const report = JSON.parse(readFileSync(files.report, 'utf8')) as NextpnrReport;
  const clocks = Object.entries(report.fmax ?? {});
  if (clocks.length === 0)
    throw new BuildError(`${board.name}: nextpnr reported no clock (is the PLL output used?)`);
  const fmax = Math.min(...clocks.map(([, c]) => c.achieved));

  // 3. Bitstream.
  progress(`${tag} bitstream (icepack)`);
  const pack = await runTool('icepack', [relative(root, files.asc), relative(root, files.bin)], {
    cwd: root,
  });
  const tPack = Date.now();
  if (pack.code !== 0) {
    throw new BuildError(`${board.name}: icepack failed: ${pack.stderr.trim().split('\n')[0] ?? pack.code}`);
  }

  // 4. Timing sign-off of the routed design with icetime (its chip database models the
  // SB_MAC16 paths that nextpnr 0.4 leaves untimed).
  progress(`${tag} timing sign-off (icetime -d ${board.device} -P ${board.package} -c ${board.targetMhz})`);
  const icetime = await runTool(
    'icetime',
    [
      '-d',
      board.device,
      '-P',
      board.package,
      '-p',
      board.pcf,
      '-c',
      String(board.targetMhz),
      '-t',
      '-r',
      relative(root, files.icetimeLog),
      relative(root, files.asc),
    ],
    { cwd: root },
  );
  const tIcetime = Date.now();
  const icetimeLog = existsSync(files.icetimeLog) ? readFileSync(files.icetimeLog, 'utf8') : '';
  if (/Can't (find|open) chipdb/.test(icetime.stderr + icetime.stdout)) {
    throw new BuildError(
      `${board.name}: icetime has no chip database: apt-get install fpga-icestorm-chipdb (make deps installs it)`,
    );
  }
  const icetimeFmax = icetimeMhz(icetimeLog) ?? icetimeMhz(icetime.stdout);
  if (icetimeFmax === undefined) {
    const why = (icetime.stderr.trim().split('\n').at(-1) ?? '') || `exit code ${icetime.code}`;
    throw new BuildError(
      `${board.name}: icetime gave no timing estimate (${why}; log: ${shown(files.icetimeLog)})`,
    );
  }

  const a = board.available;
  const result: BuildResult = {
    board: board.name,
    device: `iCE40${board.device.toUpperCase()}-${board.package.toUpperCase()}`,
    bitstream: shown(files.bin),
    fmax_mhz: Math.round(fmax * 100) / 100,
    icetime_mhz: icetimeFmax,
    target_mhz: board.targetMhz,
    timing_met: fmax >= board.targetMhz && icetimeFmax >= board.targetMhz,
    resources: {
      logic_cells: use(report, 'ICESTORM_LC', a.logicCells),
      dsp: use(report, 'ICESTORM_DSP', a.dsp),
      ebr: use(report, 'ICESTORM_RAM', a.ebr),
      spram: use(report, 'ICESTORM_SPRAM', a.spram),
      io: use(report, 'SB_IO', 0),
      pll: use(report, 'ICESTORM_PLL', 0),
      global_buffers: use(report, 'SB_GB', 8),
    },
    core: board.core,
    clock_mhz: board.targetMhz,
    peak_macs_per_s: board.core.dim * board.core.dim * board.targetMhz * 1e6,
    seconds: {
      synth: (tSynth - t0) / 1000,
      pnr: (tPnr - tSynth) / 1000,
      pack: (tPack - tPnr) / 1000,
      icetime: (tIcetime - tPack) / 1000,
      total: (tIcetime - t0) / 1000,
    },
    logs: {
      yosys: shown(files.yosysLog),
      nextpnr: shown(files.pnrLog),
      report: shown(files.report),
      icetime: shown(files.icetimeLog),
    },
  };
  writeFileSync(join(out, 'build.json'), `${JSON.stringify(result, null, 2)}\n`);
  if (fmax < board.targetMhz) {
    const path = criticalPathSummary(pnrLog);
    throw new BuildError(
      `${board.name}: timing not met: nextpnr Fmax ${result.fmax_mhz} MHz < target ${board.targetMhz} MHz${path ? ` (critical path ${path})` : ''} (log: ${shown(files.pnrLog)})`,
    );
  }
  if (icetimeFmax < board.targetMhz) {
    throw new BuildError(
      `${board.name}: timing not met: icetime ${icetimeFmax} MHz < target ${board.targetMhz} MHz (nextpnr ${result.fmax_mhz} MHz; report: ${shown(files.icetimeLog)})`,
    );
  }
  return result;
}
