// The formal proofs of formal/ (docs/VERIFICATION.md), each run by scripts/formal.sh
// (yosys sat -tempinduct: a base case from reset, then induction). A test fails when its
// proof does not close: a counterexample, or induction not reached within its bound.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../host/sim/verilator.ts';

const run = promisify(execFile);

async function prove(name: string): Promise<string> {
  const { stdout } = await run(path.join(REPO_ROOT, 'scripts/formal.sh'), [name], { cwd: REPO_ROOT }).catch(
    (e: { stdout?: string; message: string }) => {
      throw new Error(`${name}: ${e.stdout ?? e.message}`);
    },
  );
  return stdout;
}

describe('formal proofs (yosys sat -tempinduct)', () => {
  it.each([
    ['uart_tx', 'the UART transmitter sends every byte taken as one exact 8N1 frame, ready again after it'],
    ['uart_tx@10', 'the same at ClksPerBit 10 (iCEBreaker, 3 Mbaud at 30 MHz)'],
    [
      'uart_rx',
      'the UART receiver reports every frame exactly once, on time, and nothing else (glitches, bad stop bits)',
    ],
    ['uart_rx@10', 'the same at ClksPerBit 10'],
    [
      'ctrl',
      'the controller makes progress in every state on any descriptor, and abort ends a run within its bound',
    ],
    ['ctrl_blk', 'the same with the block schedule (sim8): a block period too stops within N beats of abort'],
    [
      'link',
      'the link keeps its executor one-hot, its banks owned and its receiver inside the bank, on any input',
    ],
  ])(
    '%s: %s',
    async (name) => {
      expect(await prove(name)).toMatch(/ proven: induction length \d+/);
    },
    120_000,
  );
});
