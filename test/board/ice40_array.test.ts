// The iCE40 array variants give output for output (whatever their latency) those of the
// generic rtl/npu_array.v under the array's driver rule: the UP5K's (rtl/ice40/npu_array.v:
// row-broadcast activations, PE pairs in SB_MAC16s with the active weights in the DSP's
// B register and rows 0-1 accumulating in the DSP adders) and the HX8K's logic-only one
// (rtl/ice40/fabric/npu_array.v: row broadcast, Booth multiply-accumulate). Each runs the
// same pseudo-random rule-keeping stimulus as the generic array
// (sim/ice40/npu_array_equiv_tb.v) and must print the same output signature. The
// SB_MAC16 is yosys's own simulation model of the primitive (cells_sim.v).
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../host/sim/verilator.ts';

const run = promisify(execFile);

const built = new Map<string, Promise<string>>();

/** The bench's output signature with `sources` (built once per name). */
function signature(name: string, sources: string[]): Promise<string> {
  let p = built.get(name);
  if (!p) {
    p = buildAndRun(name, sources);
    built.set(name, p);
  }
  return p;
}

async function buildAndRun(name: string, sources: string[]): Promise<string> {
  const dir = join(REPO_ROOT, 'build', 'ice40-equiv', name);
  mkdirSync(dir, { recursive: true });
  // yosys's primitive model is third-party code: built with lint warnings off (not -Wall).
  await run(
    'verilator',
    [
      '--binary',
      '-Wno-fatal',
      '-Wno-lint',
      '-Wno-style',
      '-O2',
      '--top-module',
      'npu_array_equiv_tb',
      '--Mdir',
      dir,
      '-o',
      'tb',
      ...sources,
    ],
    { cwd: REPO_ROOT, maxBuffer: 16 << 20 },
  );
  const { stdout } = await run(join(dir, 'tb'), [], { cwd: REPO_ROOT });
  return stdout.match(/signature \S+ nonzero \d+ busy mismatches \d+/)?.[0] ?? stdout;
}

function mac16Model(): string {
  const cells = readFileSync('/usr/share/yosys/ice40/cells_sim.v', 'utf8');
  const start = cells.indexOf('module SB_MAC16');
  const end = cells.indexOf('endmodule', start) + 'endmodule'.length;
  const file = join(REPO_ROOT, 'build', 'ice40-equiv', 'SB_MAC16.v');
  mkdirSync(join(REPO_ROOT, 'build', 'ice40-equiv'), { recursive: true });
  writeFileSync(file, `${cells.slice(start, end)}\n`);
  return file;
}

describe('iCE40 array variant', () => {
  it(
    'matches rtl/npu_array.v output for output under the driver rule (SB_MAC16 pairs)',
    { timeout: 600_000 },
    async () => {
      const tb = 'sim/ice40/npu_array_equiv_tb.v';
      const [generic, ice40] = await Promise.all([
        signature('generic', [tb, 'rtl/npu_array.v', 'rtl/npu_pe.v', 'rtl/npu_mul.v']),
        signature('ice40', [tb, 'rtl/ice40/npu_array.v', mac16Model()]),
      ]);
      expect(generic).toMatch(/nonzero [1-9]\d{4,} busy mismatches 0$/); // the outputs really moved
      expect(ice40).toBe(generic);
    },
  );

  it(
    'logic-only variant (HX8K: row broadcast, Booth multiply-accumulate) matches rtl/npu_array.v under the driver rule',
    { timeout: 600_000 },
    async () => {
      const tb = 'sim/ice40/npu_array_equiv_tb.v';
      const [generic, fabric] = await Promise.all([
        signature('generic', [tb, 'rtl/npu_array.v', 'rtl/npu_pe.v', 'rtl/npu_mul.v']),
        signature('fabric', [tb, 'rtl/ice40/fabric/npu_array.v']),
      ]);
      expect(generic).toMatch(/nonzero [1-9]\d{4,} busy mismatches 0$/);
      expect(fabric).toBe(generic);
    },
  );
});
