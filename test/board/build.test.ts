// Both bitstreams build from a clean checkout: yosys, nextpnr-ice40 and icepack run for
// every board in host/board/boards.ts (in parallel, one tool process per core), and each
// must fit its device and meet its target clock. A fit or timing regression in the RTL
// fails here. About 5 (HX8K) and 10-15 (UP5K, 98 % full: routing is most of it) minutes
// on the 2-core CI machines.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { boardNames } from '../../host/board/boards.ts';
import type { BuildResult } from '../../host/board/build.ts';

const ROOT = join(import.meta.dirname, '../..');

interface Run {
  code: number;
  stderr: string;
  result?: BuildResult;
  seconds: number;
}

function build(board: string): Promise<Run> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(
      'node',
      ['bin/nnfpga.js', 'build', '--board', board, '--json'],
      { cwd: ROOT, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        const result = code === 0 ? (JSON.parse(stdout) as BuildResult) : undefined;
        resolve({ code, stderr, result, seconds: (Date.now() - t0) / 1000 });
      },
    );
  });
}

describe('nnfpga build', () => {
  const names = boardNames();
  // Started once, together: the two builds share the machine's two cores.
  let runs: Promise<Record<string, Run>> | undefined;
  const all = () => {
    runs ??= Promise.all(names.map(async (n) => [n, await build(n)] as const)).then(Object.fromEntries);
    return runs;
  };

  for (const name of names) {
    it(`${name}: bitstream fits the device and meets the target clock`, { timeout: 2_400_000 }, async () => {
      const run = (await all())[name];
      const lastLine = run.stderr.trim().split('\n').at(-1) ?? '';
      expect(run.code, lastLine).toBe(0);
      const r = run.result!;
      process.stderr.write(
        `build ${name}: ${r.resources.logic_cells.used}/${r.resources.logic_cells.available} LCs, ` +
          `DSP ${r.resources.dsp.used}, EBR ${r.resources.ebr.used}, SPRAM ${r.resources.spram.used}, ` +
          `Fmax ${r.fmax_mhz} MHz (target ${r.target_mhz}), ${run.seconds.toFixed(0)} s\n`,
      );
      expect(r.board).toBe(name);
      expect(existsSync(join(ROOT, r.bitstream))).toBe(true);
      for (const [res, u] of Object.entries(r.resources)) {
        expect(u.used, `${res} ${u.used}/${u.available}`).toBeLessThanOrEqual(u.available);
      }
      expect(r.fmax_mhz).toBeGreaterThanOrEqual(r.target_mhz);
      expect(r.timing_met).toBe(true);
      // the progress lines went to stderr, one per stage
      expect(run.stderr).toMatch(/synthesis/);
      expect(run.stderr).toMatch(/place and route/);
      expect(run.stderr).toMatch(/bitstream/);
    });
  }
});
