// The flashed netlist, simulated: each board top synthesised by the bitstream flow's own
// yosys script (host/board/netlist.ts), compiled by Verilator with yosys's iCE40 cell
// models, runs as the simulated board behind a pseudo-terminal; the host runs a model
// through its UART pins and every output must equal the integer reference. This is the
// logic nextpnr places: the UP5K's SB_MAC16 PE pairs and SPRAM WMEM with the AMEM
// extension in its upper pair, the HX8K's logic-only array and EBR memories, none of
// which the RTL board-top tests simulate.
import { describe, expect, it } from 'vitest';
import { BOARDS } from '../../host/board/boards.ts';
import { buildNetlistBoardSim, synthNetlist } from '../../host/board/netlist.ts';
import { boardClocksPerBit, startBoardSim } from '../../host/sim/board.ts';
import { boardWorkload, kwsWorkload, runBitExact } from './workloads.ts';

describe('synthesised board netlists in Verilator', () => {
  it('the iCEBreaker netlist keeps its hard blocks: 8 SB_MAC16, 4 SB_SPRAM256KA, the PLL', async () => {
    const n = await synthNetlist(BOARDS.icebreaker);
    expect(n.cellCounts).toMatchObject({ SB_MAC16: 8, SB_SPRAM256KA: 4, SB_PLL40_PAD: 1 });
  }, 600_000);

  // The iCEBreaker runs the KWS DS-CNN on one input: its layers alternate between the EBR
  // and the AMEM extension in the upper SPRAM pair, whose port also serves the pool's
  // weights (9.3 M cycles at about 76 k cycles/s, most of them the 74 KiB of weights over
  // the UART at 10 clocks per bit); the HX8K (about 30 k cycles/s, 24 clocks per bit) a
  // small conv net (test/board/workloads.ts).
  for (const board of [BOARDS.icebreaker, BOARDS.hx8k]) {
    it(
      `${board.name}: the synthesised netlist runs a model through its UART pins, every output equal to the integer reference`,
      { timeout: 1_200_000 },
      async () => {
        const exe = await buildNetlistBoardSim(board, boardClocksPerBit(board));
        const sim = await startBoardSim({ board, stderr: 'pipe' }, exe);
        try {
          const w = board.name === 'icebreaker' ? kwsWorkload(1) : boardWorkload(board.name, 2);
          await runBitExact(w, ['--port', sim.path, '--baud', String(board.baud)]);
        } finally {
          await sim.stop();
        }
      },
    );
  }
});
