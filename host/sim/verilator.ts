// Builds Verilator simulations, cached by content.
//
// buildVerilator() hashes the Verilator version, every source file's content and the
// options, and builds into build/verilator/<name>-<hash>/ (host/paths.ts buildDir: the
// user's cache folder outside a clone) only when that folder does not
// exist yet. The build happens in a private temporary folder that is renamed into place
// at the end (rename is atomic on one file system), so two processes (vitest workers)
// that build the same thing at once both succeed: the second rename finds the folder
// there, drops its own copy and uses the winner's. Generic on purpose: the core bench,
// the array bench and the simulated board all go through it.

import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { MissingToolError, ToolError } from '../errors.ts';
import { buildDir, PACKAGE_ROOT } from '../paths.ts';

const run = promisify(execFile);

/** The package root: rtl/ and sim/ are read from here (host/paths.ts). */
export const REPO_ROOT = PACKAGE_ROOT;

export interface VerilatorBuild {
  /** Short name, used in the folder name. */
  name: string;
  /** Top module. */
  top: string;
  /** Verilog sources (absolute, or relative to the repository root). */
  sources: string[];
  /** C++ bench sources (same). */
  cppSources: string[];
  /** Top-level parameters (-G). */
  params?: Record<string, number>;
  /** Preprocessor defines for Verilog (+define+) and C++ (-D). */
  defines?: Record<string, string | number>;
  /** Compile FST tracing in (--trace-fst); the bench decides when to open a file. */
  trace?: boolean;
  /** With trace: VCD instead of FST (--trace; the bench sees NNFPGA_TRACE_VCD). */
  traceVcd?: boolean;
  /** Extra include folders for Verilog (-I); rtl/ is always one. */
  includeDirs?: string[];
  /**
   * Sources not written to this project's lint rules (a yosys netlist, yosys's cell
   * models): warnings are not fatal and lint/style warnings are off instead of -Wall.
   */
  thirdParty?: boolean;
}

let versionCache: string | undefined;
async function verilatorVersion(): Promise<string> {
  if (versionCache) return versionCache;
  try {
    const { stdout } = await run('verilator', ['--version']);
    versionCache = stdout.trim();
    return versionCache;
  } catch {
    throw new MissingToolError(
      'verilator not found on PATH: install Verilator 5 (apt-get install verilator; make deps in a clone)',
    );
  }
}

const abs = (p: string) => (path.isAbsolute(p) ? p : path.join(REPO_ROOT, p));

/** Builds (or finds in the cache) the simulation; returns the executable's path. */
export async function buildVerilator(opts: VerilatorBuild): Promise<string> {
  const version = await verilatorVersion();
  const sources = opts.sources.map(abs);
  const cppSources = opts.cppSources.map(abs);
  const includeDirs = [path.join(REPO_ROOT, 'rtl'), ...(opts.includeDirs ?? []).map(abs)];
  const hash = createHash('sha256');
  hash.update(
    JSON.stringify({
      version,
      top: opts.top,
      params: opts.params,
      defines: opts.defines,
      trace: !!opts.trace,
      ...(opts.traceVcd ? { traceVcd: true } : {}),
      ...(opts.thirdParty ? { thirdParty: true } : {}),
    }),
  );
  for (const f of [...sources, ...cppSources]) {
    hash.update(f);
    hash.update(await readFile(f));
  }
  // Headers next to the C++ sources take part in the build too.
  for (const dir of new Set(cppSources.map((f) => path.dirname(f)))) {
    for (const h of await listHeaders(dir)) {
      hash.update(h);
      hash.update(await readFile(h));
    }
  }
  const key = hash.digest('hex').slice(0, 16);
  const root = buildDir('verilator');
  const finalDir = path.join(root, `${opts.name}-${key}`);
  const exe = path.join(finalDir, opts.name);
  if (existsSync(exe)) return exe;

  await mkdir(root, { recursive: true });
  const tmpDir = path.join(root, `.tmp-${opts.name}-${key}-${process.pid}-${randomBytes(4).toString('hex')}`);
  const args = [
    '--cc',
    '--exe',
    '--build',
    '-j',
    '2',
    '-O3',
    '--x-assign',
    'fast',
    '--x-initial',
    'fast',
    '--assert',
    ...(opts.thirdParty
      ? ['-Wno-fatal', '-Wno-lint', '-Wno-style', '-Wno-UNOPTFLAT', '-Wno-TIMESCALEMOD']
      : ['-Wall']),
    '--top-module',
    opts.top,
    '--Mdir',
    tmpDir,
    '-o',
    opts.name,
    '-CFLAGS',
    '-O2 -std=c++17',
    ...includeDirs.map((d) => `-I${d}`),
  ];
  if (opts.trace && opts.traceVcd) args.push('--trace', '-CFLAGS', '-DNNFPGA_TRACE=1 -DNNFPGA_TRACE_VCD=1');
  else if (opts.trace) args.push('--trace-fst', '-CFLAGS', '-DNNFPGA_TRACE=1');
  for (const [k, v] of Object.entries(opts.params ?? {})) args.push(`-G${k}=${v}`);
  for (const [k, v] of Object.entries(opts.defines ?? {}))
    args.push(`+define+${k}=${v}`, '-CFLAGS', `-D${k}=${v}`);
  args.push(...sources, ...cppSources);
  try {
    await run('verilator', args, { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    await rm(tmpDir, { recursive: true, force: true });
    const e = err as { stderr?: string; stdout?: string; message: string };
    const log = (e.stderr || e.stdout || e.message).split('\n').slice(-40).join('\n');
    throw new ToolError(`Verilator build of ${opts.name} (${opts.top}) failed:\n${log}`);
  }
  await writeFile(
    path.join(tmpDir, 'build.json'),
    JSON.stringify({ ...opts, sources, cppSources, version }, null, 2),
  );
  try {
    await rename(tmpDir, finalDir);
  } catch {
    // Another process won the race (the folder exists): use its build.
    await rm(tmpDir, { recursive: true, force: true });
    if (!existsSync(exe))
      throw new ToolError(`Verilator build folder ${finalDir} exists without ${opts.name}`);
  }
  return exe;
}

async function listHeaders(dir: string): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  const names = await readdir(dir);
  return names
    .filter((n) => n.endsWith('.h'))
    .map((n) => path.join(dir, n))
    .sort();
}
