// npu_array alone against a software matrix product (sim/array_tb.cpp is self-checking:
// it streams random weight tiles of random lengths, single-activation tiles included,
// with the double-buffering rule and compares every output vector).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { buildVerilator } from '../../host/sim/verilator.ts';

const run = promisify(execFile);

describe('npu_array', () => {
  for (const [rows, cols] of [
    [4, 4],
    [8, 8],
    [4, 8],
  ]) {
    it(`${rows}x${cols} matches a matrix product over random tiles`, async () => {
      const exe = await buildVerilator({
        name: `array_tb_${rows}x${cols}`,
        top: 'npu_array',
        sources: ['rtl/npu_array.v', 'rtl/npu_pe.v', 'rtl/npu_mul.v'],
        cppSources: ['sim/array_tb.cpp'],
        params: { Rows: rows, Cols: cols, TagWidth: 32 },
        defines: { ROWS: rows, COLS: cols },
      });
      for (const seed of [1, 2, 3]) {
        const { stdout } = await run(exe, [String(seed), '60', '+npu_strict']);
        expect(stdout).toMatch(/^PASS \d+ vectors/);
      }
    });
  }
});
