// Both bitstreams build from a clean checkout: yosys, nextpnr-ice40, icepack and icetime
// run for every board in host/board/boards.ts (in parallel, one tool process per core),
// and each must fit its device and meet its target clock by nextpnr's and by icetime's
// figure. A fit or timing regression in the RTL fails here, and so does a synthesis that
// rewrote the hand-instantiated SB_MAC16s (synth_ice40 -dsp). A few minutes per board
// on the 2-core CI machines (docs/README-boards.md has the measured times).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
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
          `Fmax ${r.fmax_mhz} MHz nextpnr, ${r.icetime_mhz} MHz icetime (target ${r.target_mhz}), ${run.seconds.toFixed(0)} s\n`,
      );
      expect(r.board).toBe(name);
      expect(existsSync(join(ROOT, r.bitstream))).toBe(true);
      for (const [res, u] of Object.entries(r.resources)) {
        expect(u.used, `${res} ${u.used}/${u.available}`).toBeLessThanOrEqual(u.available);
      }
      expect(r.fmax_mhz).toBeGreaterThanOrEqual(r.target_mhz);
      expect(r.icetime_mhz).toBeGreaterThanOrEqual(r.target_mhz);
      expect(r.timing_met).toBe(true);
      // the DSP array's SB_MAC16s as rtl/ice40/npu_array.v instantiates them: 8x8 mode,
      // A, B and product registers (synth_ice40 -dsp would have rewritten them)
      const netlist = JSON.parse(readFileSync(join(ROOT, 'build', name, `${name}.json`), 'utf8')) as {
        modules: Record<
          string,
          { cells: Record<string, { type: string; parameters: Record<string, string> }> }
        >;
      };
      const macs = Object.values(netlist.modules).flatMap((m) =>
        Object.values(m.cells).filter((c) => c.type === 'SB_MAC16'),
      );
      expect(macs).toHaveLength(r.resources.dsp.used);
      for (const c of macs) {
        for (const p of ['MODE_8x8', 'A_REG', 'B_REG', 'TOP_8x8_MULT_REG', 'BOT_8x8_MULT_REG'])
          expect(parseInt(c.parameters[p], 2), p).toBe(1);
      }
      // the progress lines went to stderr, one per stage
      expect(run.stderr).toMatch(/synthesis/);
      expect(run.stderr).toMatch(/place and route/);
      expect(run.stderr).toMatch(/bitstream/);
    });
  }
});
