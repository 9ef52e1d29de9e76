// The link fuzzer's long run (test/link/fuzzer.ts) against the simulated board:
//   npx tsx scripts/fuzz-link.ts [frames=100000] [seed=1]
// Prints progress every 1,000 frames, then frames, hangs, wrong answers and duration;
// exits 1 when any request hung or was answered wrongly, or the board died.
import { buildBoardSim, startBoardSim } from '../host/sim/board.ts';
import { LinkFuzzer } from '../test/link/fuzzer.ts';

const frames = Number(process.argv[2] ?? 100_000);
const seed = Number(process.argv[3] ?? 1);
const exe = await buildBoardSim();
const board = await startBoardSim({ stderr: 'pipe', maxIdle: 600 }, exe);
let died = '';
board.process.once(
  'exit',
  (code, sig) => (died = `the simulated board exited (${code ?? sig}): ${board.log().trim()}`),
);
const t0 = Date.now();
try {
  const r = await LinkFuzzer.run(board.path, { frames, seed, log: (l) => console.log(l) });
  console.log(
    `frames ${r.frames} (seed ${seed}) in ${r.seconds.toFixed(0)} s; replies ${r.replies}, program runs ${r.runs}`,
  );
  console.log(`kinds ${JSON.stringify(r.kinds)}`);
  console.log(`ms by kind ${JSON.stringify(r.kindMs)}`);
  console.log(`checks ${r.checks} (IDENTIFY + fence read-back), words compared ${r.wordsCompared}`);
  console.log(`hangs ${r.hangs.length}, wrong answers ${r.wrong.length}`);
  for (const l of [...r.hangs, ...r.wrong].slice(0, 20)) console.log(`  ${l}`);
  process.exitCode = r.hangs.length || r.wrong.length ? 1 : 0;
} catch (e) {
  console.log(
    `stopped after ${((Date.now() - t0) / 1000).toFixed(0)} s: ${(e as Error).message}${died ? `\n${died}` : ''}`,
  );
  process.exitCode = 1;
} finally {
  await board.stop();
}
