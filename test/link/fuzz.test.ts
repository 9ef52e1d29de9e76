// The link fuzzer (test/link/fuzzer.ts), a short run against the simulated board (the
// real RTL behind a pty, built with its assertions on): random, truncated and mutated
// frames, CRC-valid frames with hostile fields, hostile descriptor programs. The long
// run is scripts/fuzz-link.ts (docs/VERIFICATION.md).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBoardSim, startBoardSim, type SimBoard } from '../../host/sim/board.ts';
import { LinkFuzzer } from './fuzzer.ts';

let board: SimBoard;
let died = '';

beforeAll(async () => {
  board = await startBoardSim({ stderr: 'pipe', maxIdle: 120 }, await buildBoardSim());
  board.process.once('exit', (code, sig) => (died = `board exited (${code ?? sig}): ${board.log()}`));
}, 600_000);

afterAll(async () => {
  await board?.stop();
});

describe('link fuzzer on the simulated board', () => {
  it('answers every good frame rightly, none of the bad ones, never hangs and keeps memory outside the writes intact (800 frames)', async () => {
    const r = await LinkFuzzer.run(board.path, { frames: 800, seed: 20261204 }).catch((e: Error) => {
      throw new Error(`${e.message}${died ? `\n${died}` : ''}`);
    });
    expect(r.hangs).toEqual([]);
    expect(r.wrong).toEqual([]);
    expect(died).toBe('');
    // the run exercised what it claims to: every frame kind, refusals, program runs, checks
    for (const k of [
      'write',
      'write-hostile',
      'read',
      'read-hostile',
      'infer',
      'program',
      'truncated',
      'corrupted',
      'garbage',
      'bad-cmd',
    ])
      expect(r.kinds[k] ?? 0, k).toBeGreaterThan(0);
    expect(r.checks).toBeGreaterThanOrEqual(8);
    expect(r.wordsCompared).toBeGreaterThan(2000);
  }, 120_000);
});
