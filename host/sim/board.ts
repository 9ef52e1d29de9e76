// The simulated board: npu_top in Verilator behind a pseudo-terminal (sim/board_sim.cpp).
// buildBoardSim() builds it (cached by buildVerilator); startBoardSim() starts it as a
// child process and returns the pty path, which the host opens as any serial port.
// The child never outlives us: it exits when its stdin pipe closes (our end closes
// when we exit, however we exit), it gets SIGTERM when we exit normally, and stop()
// waits for it.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { topParams, type BoardSpec } from '../board/boards.ts';
import { DeviceError } from '../errors.ts';
import { coreParams, SIM_CONFIG } from '../compiler/configs.ts';
import { buildVerilator, REPO_ROOT } from './verilator.ts';

/**
 * The simulated board's configuration (ARCHITECTURE section 3, `sim8`), at the fewest
 * clocks per bit npu_uart_rx takes (4), so that simulated UART time stays small.
 * ClockHz is nominal: what IDENTIFY reports, not wall-clock speed.
 */
export const SIM_BOARD_PARAMS = {
  ...coreParams(SIM_CONFIG),
  ClockHz: 12_000_000,
  ClksPerBit: 4,
  MaxPayload: 8192,
};

export function rtlSources(): string[] {
  return readdirSync(path.join(REPO_ROOT, 'rtl'))
    .filter((f) => /^npu_.*\.v$/.test(f))
    .sort()
    .map((f) => `rtl/${f}`);
}

/**
 * Builds (or finds cached) the simulated board; returns the executable. With `trace`,
 * the build that can write an FST waveform (slower to simulate even when not tracing,
 * so only built when asked for). With a board,
 * the simulated design is that board's top (rtl/boards/, with the behavioural SB_PLL40
 * of sim/ice40/ passing its oscillator through): the bitstream's pins, reset, memory
 * sizes and UART rate (ClockHz / Baud clocks per bit), one simulated cycle per clock.
 */
export function buildBoardSim(board?: BoardSpec, trace = false): Promise<string> {
  if (board) {
    const params = topParams(board);
    return buildVerilator({
      name: `board_sim_${board.name}`,
      top: board.top,
      sources: [...rtlSources(), ...pllModels(), `rtl/boards/${board.top}.v`],
      cppSources: ['sim/board_sim.cpp', 'sim/uartsim.cpp'],
      params,
      defines: { [`NPU_BOARD_${board.name.toUpperCase()}`]: 1, NPU_CLKS_PER_BIT: boardClocksPerBit(board) },
      trace,
    });
  }
  return buildVerilator({
    name: 'board_sim',
    top: 'npu_top',
    sources: rtlSources(),
    cppSources: ['sim/board_sim.cpp', 'sim/uartsim.cpp'],
    params: { ...SIM_BOARD_PARAMS },
    defines: { NPU_CLKS_PER_BIT: SIM_BOARD_PARAMS.ClksPerBit },
    trace,
  });
}

/** The behavioural SB_PLL40 stand-ins that let a board top run in Verilator. */
export function pllModels(): string[] {
  return readdirSync(path.join(REPO_ROOT, 'sim/ice40'))
    .filter((f) => /^(SB_PLL40_.*|sb_pll40_model)\.v$/.test(f))
    .sort()
    .map((f) => `sim/ice40/${f}`);
}

/** UART clocks per bit of a board's top (its ClksPerBit: ClockHz / Baud, rounded). */
export function boardClocksPerBit(board: BoardSpec): number {
  const p = topParams(board);
  return Math.round(p.ClockHz / p.Baud);
}

/** Builds the self-checking link bench (sim/link_selftest.cpp). */
export function buildLinkSelftest(): Promise<string> {
  return buildVerilator({
    name: 'link_selftest',
    top: 'npu_top',
    sources: rtlSources(),
    cppSources: ['sim/link_selftest.cpp', 'sim/uartsim.cpp'],
    params: { ...SIM_BOARD_PARAMS },
    defines: { NPU_CLKS_PER_BIT: SIM_BOARD_PARAMS.ClksPerBit },
  });
}

export interface SimBoardOptions {
  /** FST waveform file. */
  trace?: string;
  /** Bit-error rate on both UART lines. */
  ber?: number;
  /** Bit-error rate of the board-to-host line alone (default: ber). */
  berOut?: number;
  seed?: number;
  /** Exit after this many seconds without a byte (a safety net for tests). */
  maxIdle?: number;
  /** Simulate this board's top instead of the 8x8 simulation configuration. */
  board?: BoardSpec;
  /** Where board_sim's own messages go (default: our stderr). */
  stderr?: 'inherit' | 'pipe' | 'ignore';
}

export interface SimBoard {
  /** The pty slave to open as a serial port. */
  readonly path: string;
  readonly process: ChildProcess;
  /** board_sim's closing statistics line (when stderr is 'pipe'). */
  readonly log: () => string;
  /**
   * The clock cycles simulated so far (SIGUSR1; needs stderr 'pipe'). The board sleeps
   * while it has nothing to do, so differences measure the board's own time: UART bits
   * and compute, with no host or pty latency in them.
   */
  cycles(): Promise<number>;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function killAllOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of live) c.kill('SIGTERM');
  });
}

export async function startBoardSim(opts: SimBoardOptions = {}, exe?: string): Promise<SimBoard> {
  const binary = exe ?? (await buildBoardSim(opts.board, opts.trace !== undefined));
  const args = ['--watch-stdin'];
  if (opts.trace) args.push('--trace', path.resolve(opts.trace));
  if (opts.ber !== undefined) args.push('--ber', String(opts.ber));
  if (opts.berOut !== undefined) args.push('--ber-out', String(opts.berOut));
  if (opts.seed !== undefined) args.push('--seed', String(opts.seed));
  if (opts.maxIdle !== undefined) args.push('--max-idle', String(opts.maxIdle));
  const child = spawn(binary, args, { stdio: ['pipe', 'pipe', opts.stderr ?? 'inherit'] });
  live.add(child);
  killAllOnExit();
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  exited.then(() => live.delete(child));

  const ptyPath = await new Promise<string>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        child.stdout?.off('data', onData);
        resolve(out.slice(0, nl).trim());
      }
    };
    child.stdout?.on('data', onData);
    child.once('error', (err) =>
      reject(new DeviceError(`cannot start the simulated board ${binary}: ${err.message}`)),
    );
    child.once('exit', (code) =>
      reject(new DeviceError(`the simulated board exited (code ${code}) before printing its pty path`)),
    );
  });

  return {
    path: ptyPath,
    process: child,
    log: () => log,
    cycles() {
      if (!child.stderr) return Promise.reject(new Error('board_sim cycles() needs stderr: "pipe"'));
      return new Promise<number>((resolve, reject) => {
        const from = log.length;
        const timer = setTimeout(() => {
          child.stderr?.off('data', onData);
          reject(new DeviceError('the simulated board did not report its cycle count within 5 s'));
        }, 5000);
        const onData = () => {
          const m = /board_sim: cycles (\d+)\n/.exec(log.slice(from));
          if (!m) return;
          clearTimeout(timer);
          child.stderr?.off('data', onData);
          resolve(Number(m[1]));
        };
        child.stderr!.on('data', onData);
        child.kill('SIGUSR1');
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin?.end();
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}
