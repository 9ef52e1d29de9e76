// The board tops in simulation: rtl/boards/npu_board_*.v with the behavioural SB_PLL40
// stand-ins of sim/ice40/ and the generic RTL, driven over their UART pins by
// sim/board_top_tb.cpp (reset, IDENTIFY, WRITE/READ at the ends of AMEM and WMEM, LEDs).
// IDENTIFY must report the configuration host/board/boards.ts builds. Then the board top
// as the simulated board (sim/board_sim.cpp built on it, `nnfpga run --sim --board B`):
// a model compiled for the configuration the board reports, uploaded and run over the
// board's UART pins at its own clocks per bit, every output equal to the integer
// reference. The iCEBreaker holds cnn_a; the HX8K's 4 KiB memories hold neither fixture,
// so it runs a small generated conv net (stride 2, padding, a dense layer).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BOARDS, topParams } from '../../host/board/boards.ts';
import { pllModels, rtlSources } from '../../host/sim/board.ts';
import { buildVerilator, REPO_ROOT } from '../../host/sim/verilator.ts';
import { boardWorkload, kwsWorkload, runBitExact } from './workloads.ts';

const run = promisify(execFile);

describe('board tops in Verilator', () => {
  for (const board of Object.values(BOARDS)) {
    it(
      `${board.name}: answers IDENTIFY over its UART pins with the board's configuration`,
      { timeout: 600_000 },
      async () => {
        const params = topParams(board);
        const cpb = Math.round(params.ClockHz / params.Baud);
        const exe = await buildVerilator({
          name: `board_top_${board.name}`,
          top: board.top,
          sources: [...rtlSources(), ...pllModels(), `rtl/boards/${board.top}.v`],
          cppSources: ['sim/board_top_tb.cpp', 'sim/uartsim.cpp'],
          params,
          defines: { [`NPU_BOARD_${board.name.toUpperCase()}`]: 1, NPU_CLKS_PER_BIT: cpb },
        });
        const { stdout } = await run(exe, [], { cwd: REPO_ROOT }).catch((e: { stdout?: string }) => {
          throw new Error(`bench failed:\n${e.stdout ?? String(e)}`);
        });
        const lines = stdout.trim().split('\n');
        expect(lines.filter((l) => l.startsWith('FAIL'))).toEqual([]);
        const id = JSON.parse(lines.at(-1)!) as Record<string, number | boolean>;
        const c = board.core;
        expect(id).toMatchObject({
          ok: true,
          dim: c.dim,
          acc_depth: c.accDepth,
          amem: (c.amemWords * c.dim) / 4,
          amem_ext: (c.amemExtWords * c.dim) / 4,
          wmem: (c.wmemWords * c.dim) / 4,
          dmem: c.dmemWords,
          clock_hz: params.ClockHz,
          clocks_per_bit: cpb,
          max_payload: c.maxPayload - 4, // a bank holds the request's 4-byte header too
        });
      },
    );
  }

  for (const board of Object.values(BOARDS)) {
    it(
      `${board.name}: runs inferences through its top behind a pseudo-terminal, every output equal to the integer reference`,
      { timeout: 900_000 },
      async () => {
        const w = boardWorkload(board.name, board.name === 'icebreaker' ? 3 : 4);
        const report = await runBitExact(w, ['--sim', '--board', board.name]);
        expect(report.summary.cycles_per_inference).toBeGreaterThan(0);
      },
    );
  }

  // KWS DS-CNN: 16,000 bytes of activations alive at once, past the 8,192 of the
  // iCEBreaker's EBR: the compiler places every other layer's output in the AMEM extension
  // (the upper SPRAM pair), which the top's IDENTIFY reports.
  it(
    'icebreaker: runs the MLPerf Tiny KWS DS-CNN through its top with the AMEM extension, every output equal to the integer reference',
    { timeout: 900_000 },
    async () => {
      await runBitExact(kwsWorkload(3), ['--sim', '--board', 'icebreaker']);
    },
  );
});
