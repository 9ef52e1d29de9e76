// The iCE40 memory variant (rtl/ice40/npu_ram.v, EBR without yosys's read-old
// emulation) after synthesis reads back what the generic rtl/npu_ram.v reads back, for
// every memory shape the UP5K board builds in EBR: sim/ice40/npu_ram_equiv_tb.v runs
// both on the same random writes (random byte masks) and reads and compares every byte
// read that was written before (not the read of an address written in the same cycle,
// which the variant leaves undefined). The netlist is yosys synth_ice40's, simulated
// with yosys's own cell models (cells_sim.v).
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../host/sim/verilator.ts';

const run = promisify(execFile);
const CELLS = '/usr/share/yosys/ice40/cells_sim.v';

async function compare(width: number, depth: number): Promise<string> {
  const dir = join(REPO_ROOT, 'build', 'ice40-ram', `w${width}_d${depth}`);
  mkdirSync(dir, { recursive: true });
  const netlist = join(dir, 'npu_ram_syn.v');
  await run(
    'yosys',
    [
      '-q',
      '-p',
      `read_verilog -DSYNTHESIS rtl/ice40/npu_ram.v rtl/ice40/npu_spram.v; ` +
        `chparam -set Width ${width} -set Depth ${depth} npu_ram; synth_ice40 -top npu_ram; ` +
        `rename npu_ram npu_ram_syn; write_verilog -noattr ${netlist}`,
    ],
    { cwd: REPO_ROOT, maxBuffer: 16 << 20 },
  );
  // yosys's cell models are third-party code: built with lint warnings off (not -Wall).
  await run(
    'verilator',
    [
      '--binary',
      '-Wno-fatal',
      '-Wno-lint',
      '-Wno-style',
      '-DNO_ICE40_DEFAULT_ASSIGNMENTS',
      `-GWidth=${width}`,
      `-GDepth=${depth}`,
      '--top-module',
      'npu_ram_equiv_tb',
      '--Mdir',
      dir,
      '-o',
      'tb',
      'sim/ice40/npu_ram_equiv_tb.v',
      'rtl/npu_ram.v',
      netlist,
      CELLS,
    ],
    { cwd: REPO_ROOT, maxBuffer: 16 << 20 },
  );
  const { stdout } = await run(join(dir, 'tb'), [], { cwd: REPO_ROOT });
  return stdout;
}

describe('iCE40 memory variant', () => {
  // AMEM, accumulators, DMEM, CNT of the iCEBreaker configuration (WMEM is SPRAM).
  for (const [width, depth] of [
    [32, 2048],
    [128, 256],
    [32, 256],
    [32, 33],
  ]) {
    it(
      `${width} x ${depth} in EBR reads back what rtl/npu_ram.v reads back`,
      { timeout: 600_000 },
      async () => {
        const out = await compare(width, depth);
        const m = out.match(/compared (\d+) mismatches (\d+)/);
        expect(m, out).not.toBeNull();
        expect(Number(m![2]), out).toBe(0);
        expect(Number(m![1])).toBeGreaterThan(50_000);
      },
    );
  }
});
