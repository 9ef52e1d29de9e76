// Programs a board's SPI flash with openFPGALoader (the FPGA boots from it at once and
// after every power-up). Without a board, openFPGALoader cannot open the FTDI device:
// that is a DeviceError (exit code 2) with one line saying what to check.
import { existsSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { InputError, ToolError } from '../errors.ts';
import type { BoardSpec } from './boards.ts';
import { REPO_ROOT } from './build.ts';
import { buildDir, IS_CLONE } from '../paths.ts';
import { runTool } from './tools.ts';

export interface FlashResult {
  board: string;
  bitstream: string;
  programmer: string;
  seconds: number;
}

export interface FlashOptions {
  bitstream?: string; // default: BOARD/BOARD.bin in the build folder (host/paths.ts buildDir)
  root?: string;
  progress?: (line: string) => void;
}

/** The one line that matters from openFPGALoader's output when it fails. */
export function loaderFailure(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const key = lines.find((l) => /unable to open|not found|Failed|error/i.test(l));
  return key ?? lines.at(-1) ?? 'no output';
}

export async function flashBoard(board: BoardSpec, opts: FlashOptions = {}): Promise<FlashResult> {
  const root = opts.root ?? REPO_ROOT;
  const file = opts.bitstream ?? join(buildDir(board.name), `${board.name}.bin`);
  const path = isAbsolute(file) ? file : join(process.cwd(), file);
  if (!existsSync(path)) {
    throw new InputError(
      opts.bitstream
        ? `bitstream ${file} not found`
        : `no bitstream for ${board.name} at ${relative(root, path).startsWith('..') ? path : relative(root, path)}: run ${IS_CLONE ? `make bitstream BOARD=${board.name}` : `nnfpga build --board ${board.name}`} first`,
    );
  }
  const args = [...board.programmer, path];
  (opts.progress ?? (() => {}))(`flash ${board.name}: openFPGALoader ${args.join(' ')}`);
  const t0 = Date.now();
  const run = await runTool('openFPGALoader', args);
  if (run.code !== 0) {
    const why = loaderFailure(`${run.stderr}\n${run.stdout}`);
    const noBoard = /unable to open ftdi|device not found|claim cable|no device|cannot find/i.test(why);
    throw new ToolError(
      noBoard
        ? `flash ${board.name}: no board found (openFPGALoader: ${why}); plug the ${board.name} in over USB and check its udev permissions`
        : `flash ${board.name}: openFPGALoader failed: ${why}`,
    );
  }
  return {
    board: board.name,
    bitstream: relative(root, path),
    programmer: `openFPGALoader ${board.programmer.join(' ')}`,
    seconds: (Date.now() - t0) / 1000,
  };
}
