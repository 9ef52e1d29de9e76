// The npm package as a user gets it: `npm pack` in the clone, `npm install` of the
// tarball into an empty folder, then the installed command and library. The install
// is offline from npm's cache when the cache holds every dependency (it does after one
// install on this machine); otherwise npm may fetch what is missing, and says so.
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiExample, fixture, repoRoot, tempDir } from '../host/helpers.ts';

const exec = promisify(execFile);
const version = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string })
  .version;

let dir: string; // the user's empty project
let tarball: string;

async function npmInstall(cwd: string, file: string): Promise<void> {
  const args = ['install', '--no-audit', '--no-fund', file];
  try {
    await exec('npm', ['--offline', ...args], { cwd });
  } catch (err) {
    if (!/ENOTCACHED/.test(String((err as { stderr?: string }).stderr))) throw err;
    process.stderr.write('package test: npm cache incomplete, installing with --prefer-offline\n');
    await exec('npm', ['--prefer-offline', ...args], { cwd });
  }
}

/** The installed command, run from the user's folder. */
function installed(...args: string[]) {
  return exec(path.join(dir, 'node_modules', '.bin', 'nnfpga'), args, {
    cwd: dir,
    env: { ...process.env, XDG_CACHE_HOME: path.join(dir, 'xdg-cache'), NNFPGA_CACHE_DIR: '' },
  });
}

beforeAll(async () => {
  const work = tempDir();
  // npm pack builds dist/ first (the prepack script: tsc -p tsconfig.build.json).
  await exec('npm', ['pack', '--pack-destination', work, '--silent'], { cwd: repoRoot });
  tarball = path.join(
    work,
    readdirSync(work).find((f) => f.endsWith('.tgz'))!,
  );
  dir = path.join(work, 'app');
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'package.json'), '{ "name": "app", "private": true, "type": "module" }\n');
  await npmInstall(dir, tarball);
}, 600_000);

describe('npm pack, npm install of the tarball', () => {
  it('packs the compiled host, its types and the RTL and simulation sources, not the TypeScript sources', async () => {
    const { stdout } = await exec('tar', ['tzf', tarball]);
    const files = stdout.split('\n');
    for (const f of [
      'package/bin/nnfpga.js',
      'package/dist/host/cli.js',
      'package/dist/host/index.js',
      'package/dist/host/index.d.ts',
      'package/rtl/npu_top.v',
      'package/sim/board_sim.cpp',
      'package/examples/cnn_a.onnx',
      'package/docs/SPEC.md',
    ])
      expect(files).toContain(f);
    expect(files.filter((f) => /^package\/(host|test)\//.test(f))).toEqual([]);
  });

  it('installs a working nnfpga command: --version and info --json (cnn_a: 290,080 MACs)', async () => {
    expect((await installed('--version')).stdout.trim()).toBe(version);
    const info = JSON.parse((await installed('info', fixture('cnn_a.onnx'), '--json')).stdout);
    expect(info.total.macs).toBe(290080);
    expect(info.layers).toHaveLength(6);
  });

  it('reports usage errors from the installed command as one line, exit 1', async () => {
    const err = await installed('run', '--sim', '--port', '/dev/null', 'x.onnx', '--input', 'x.npy').catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(err).toMatchObject({
      code: 1,
      stderr: 'nnfpga: --sim cannot be used with --port (see nnfpga run --help)\n',
    });
  });

  it('exports the library: a model loads, and build products go to the user cache folder', async () => {
    const script =
      "import { loadOnnx, buildDir, PACKAGE_ROOT } from 'nnfpga';" +
      `const m = loadOnnx(${JSON.stringify(fixture('cnn_a.onnx'))});` +
      'console.log(JSON.stringify({ layers: m.layers.length, root: PACKAGE_ROOT, cache: buildDir("verilator") }));';
    const { stdout } = await exec(process.execPath, ['--input-type=module', '-e', script], {
      cwd: dir,
      env: { ...process.env, XDG_CACHE_HOME: path.join(dir, 'xdg-cache'), NNFPGA_CACHE_DIR: '' },
    });
    expect(JSON.parse(stdout)).toEqual({
      layers: 6,
      root: path.join(dir, 'node_modules', 'nnfpga'),
      cache: path.join(dir, 'xdg-cache', 'nnfpga', 'verilator'),
    });
  });

  it("type-checks docs/API.md's example against the installed package's types", async () => {
    writeFileSync(path.join(dir, 'example.ts'), apiExample());
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          types: ['node'],
          typeRoots: [path.join(repoRoot, 'node_modules', '@types')],
        },
        files: ['example.ts'],
      }),
    );
    const tsc = path.join(repoRoot, 'node_modules', '.bin', 'tsc');
    const r = await exec(tsc, ['-p', dir]).catch((e: { stdout: string; code: number }) => e);
    expect('code' in r ? r.stdout : '').toBe('');
  });
});
