// The library example of docs/API.md, run as a user would: its code block written to a
// file (importing host/index.ts where the user imports 'nnfpga') and run with node from
// the repository root, on the simulated board.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { apiExample, repoRoot, tempDir } from '../host/helpers.ts';

describe('docs/API.md example', () => {
  it('is at most ten lines of code after its import', () => {
    const lines = apiExample()
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('import '));
    expect(lines.length).toBeLessThanOrEqual(10);
  });

  it('loads, quantizes and runs cnn_a on the simulated board through the public API, bit-exact', async () => {
    const code = apiExample().replace(/from 'nnfpga'/, `from '${path.join(repoRoot, 'host', 'index.ts')}'`);
    expect(code).not.toContain("'nnfpga'");
    const file = path.join(tempDir(), 'example.mts');
    writeFileSync(file, code);
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', file], {
      cwd: repoRoot,
    });
    expect(stdout.trim()).toMatch(/^class [0-9], [1-9][0-9]* cycles, bit-exact: true$/);
  }, 600_000);
});
