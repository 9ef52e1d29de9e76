// The board tops in simulation: rtl/boards/npu_board_*.v with the behavioural SB_PLL40
// stand-ins of sim/ice40/ and the generic RTL, driven over their UART pins by
// sim/board_top_tb.cpp (reset, IDENTIFY, WRITE/READ at the ends of AMEM and WMEM, LEDs).
// IDENTIFY must report the configuration host/board/boards.ts builds.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BOARDS, topParams } from '../../host/board/boards.ts';
import { buildVerilator, REPO_ROOT } from '../../host/sim/verilator.ts';

const run = promisify(execFile);

const rtl = readdirSync(join(REPO_ROOT, 'rtl'))
  .filter((f) => /^npu_.*\.v$/.test(f))
  .map((f) => `rtl/${f}`);
const models = readdirSync(join(REPO_ROOT, 'sim/ice40'))
  .filter((f) => f.endsWith('.v'))
  .map((f) => `sim/ice40/${f}`);

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
          sources: [...rtl, ...models, `rtl/boards/${board.top}.v`],
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
          wmem: (c.wmemWords * c.dim) / 4,
          dmem: c.dmemWords,
          clock_hz: params.ClockHz,
          clocks_per_bit: cpb,
          max_payload: c.maxPayload,
        });
      },
    );
  }
});
