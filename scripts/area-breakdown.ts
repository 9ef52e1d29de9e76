// Where a board's logic goes, module by module: the build's own yosys script
// (host/board/build.ts) with synth_ice40 -noflatten, then yosys `stat` per module, printed
// as the markdown table of docs/README-boards.md. Cells of a module are its own, not its
// submodules'. The flattened build (nnfpga build) packs these into logic cells across
// module boundaries, so the sum of LUT4s is close to, not equal to, its LC count.
//
//   npx tsx scripts/area-breakdown.ts [icebreaker|hx8k]
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lookupBoard } from '../host/board/boards.ts';
import { REPO_ROOT, boardSources, yosysScript } from '../host/board/build.ts';

const board = lookupBoard(process.argv[2] ?? 'icebreaker');
const dir = join(REPO_ROOT, 'build', 'area', board.name);
mkdirSync(dir, { recursive: true });
const stat = join(dir, 'stat.txt');
const script = yosysScript(board, boardSources(board), REPO_ROOT, join(dir, 'unused.json'))
  .replace(/^synth_ice40 (.*) -json \S+$/m, 'synth_ice40 -noflatten $1')
  .concat(`tee -q -o ${stat} stat\n`);
writeFileSync(join(dir, 'breakdown.ys'), script);
execFileSync('yosys', ['-q', '-s', join(dir, 'breakdown.ys')], { cwd: REPO_ROOT, stdio: 'ignore' });

const text = readFileSync(stat, 'utf8');
const rows: { module: string; lut: number; carry: number; ff: number }[] = [];
const blocks = text.split(/\n=== (.*?) ===\n/);
for (let i = 1; i < blocks.length; i += 2) {
  const name = blocks[i].replace(/^\$paramod\$[0-9a-f]+\\/, '').replace(/^\$paramod\\([^\\]+)\\.*/, '$1');
  const body = blocks[i + 1];
  const count = (re: RegExp) => [...body.matchAll(re)].reduce((a, m) => a + Number(m[1]), 0);
  if (name === 'design hierarchy') continue;
  rows.push({
    module: name,
    lut: count(/^\s+SB_LUT4\s+(\d+)/gm),
    carry: count(/^\s+SB_CARRY\s+(\d+)/gm),
    ff: count(/^\s+SB_DFF\w*\s+(\d+)/gm),
  });
}
// one line per module name (parameterised copies of npu_ram added up)
const merged = new Map<string, { lut: number; carry: number; ff: number }>();
for (const r of rows) {
  const m = merged.get(r.module) ?? { lut: 0, carry: 0, ff: 0 };
  merged.set(r.module, { lut: m.lut + r.lut, carry: m.carry + r.carry, ff: m.ff + r.ff });
}
const sorted = [...merged.entries()].filter(([, v]) => v.lut + v.carry + v.ff > 0);
sorted.sort((a, b) => b[1].lut - a[1].lut);
const total = sorted.reduce(
  (a, [, v]) => ({ lut: a.lut + v.lut, carry: a.carry + v.carry, ff: a.ff + v.ff }),
  {
    lut: 0,
    carry: 0,
    ff: 0,
  },
);
console.log(`| module (${board.name}) | LUT4 | SB_CARRY | flip-flops |`);
console.log('| --- | ---: | ---: | ---: |');
for (const [m, v] of sorted) console.log(`| \`${m}\` | ${v.lut} | ${v.carry} | ${v.ff} |`);
console.log(`| total | ${total.lut} | ${total.carry} | ${total.ff} |`);
