// The nnfpga CLI as a user runs it (node bin/nnfpga.js ...), asynchronously so two test
// files can drive two simulated boards at once, and a sample subset of a fixture.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeNpyFloat32, readNpy } from '../../host/data/npy.ts';
import { fixture, repoRoot, tempDir } from '../host/helpers.ts';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function nnfpga(...args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/nnfpga.js', ...args],
      { cwd: repoRoot, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The first n images of inputs200.npy as a new .npy file. */
export function firstInputs(n: number): string {
  const a = readNpy(fixture('inputs200.npy'));
  const per = a.shape.slice(1).reduce((x, y) => x * y, 1);
  const file = join(tempDir(), `inputs${n}.npy`);
  writeFileSync(file, encodeNpyFloat32((a.data as Float32Array).slice(0, n * per), [n, ...a.shape.slice(1)]));
  return file;
}
