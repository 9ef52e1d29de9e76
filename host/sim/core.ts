// Runs compiled images on the Verilator bench of npu_core (sim/core_tb.cpp) through its
// host port: WMEM and DMEM images, then per input: write the input tensor, RUN, read
// back the layer outputs and the CNT words. Waveforms on demand: set NNFPGA_TRACE=1 (or
// pass trace) and an FST file per run lands in build/trace/ (path in the result).

import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DeviceError } from '../errors.ts';
import { coreParams } from '../compiler/configs.ts';
import { imageRuns } from '../compiler/compile.ts';
import { packInput, unpackTensor } from '../compiler/layout.ts';
import type { DeviceConfig, DeviceImage } from '../compiler/types.ts';
import { buildDir } from '../paths.ts';
import { buildVerilator } from './verilator.ts';

const run = promisify(execFile);

export const CORE_SOURCES = [
  'rtl/npu_core.v',
  'rtl/npu_ctrl.v',
  'rtl/npu_array.v',
  'rtl/npu_pe.v',
  'rtl/npu_mul.v',
  'rtl/npu_ram.v',
  'rtl/npu_acc.v',
  'rtl/npu_requant.v',
  'rtl/npu_requant_vec.v',
];

export const SPACE = { AMEM: 0, WMEM: 1, DMEM: 2, CNT: 3 } as const;

const traceWanted = () => process.env.NNFPGA_TRACE === '1';

/** Builds (cached) the core bench for a configuration. */
export function buildCore(config: DeviceConfig, trace = traceWanted()): Promise<string> {
  return buildVerilator({
    name: `core_tb_n${config.dim}_a${config.amemWords}${config.amemExtWords ? `x${config.amemExtWords}` : ''}_w${config.wmemWords}_acc${config.accDepth}${trace ? '_trace' : ''}`,
    top: 'npu_core',
    sources: CORE_SOURCES,
    cppSources: ['sim/core_tb.cpp'],
    params: coreParams(config),
    trace,
  });
}

/** A command script for core_tb (see sim/core_tb.cpp). */
export class CoreScript {
  private words: number[] = [];
  private chunks: Uint32Array[] = [];
  /** Number of result words each command produces, in order. */
  readonly reads: { kind: 'run' | 'read' | 'abort'; count: number }[] = [];

  private flush(): void {
    if (this.words.length) this.chunks.push(Uint32Array.from(this.words));
    this.words = [];
  }
  write(space: number, addr: number, data: Uint32Array): this {
    this.words.push(1, space, addr, data.length);
    this.flush();
    this.chunks.push(data);
    return this;
  }
  read(space: number, addr: number, count: number): this {
    this.words.push(3, space, addr, count);
    this.reads.push({ kind: 'read', count });
    return this;
  }
  run(): this {
    this.words.push(2);
    this.reads.push({ kind: 'run', count: 1 });
    return this;
  }
  /**
   * Runs, and pulses abort_i after `cycles` unless the run ended first: the result is
   * [cycles to done_o or `cycles`, cycles from abort_i until busy_o fell (0: it ended)].
   */
  runAbort(cycles: number): this {
    this.words.push(4, cycles);
    this.reads.push({ kind: 'abort', count: 2 });
    return this;
  }
  bytes(): Uint8Array {
    this.flush();
    const n = this.chunks.reduce((a, c) => a + c.length, 0);
    const all = new Uint32Array(n);
    let o = 0;
    for (const c of this.chunks) {
      all.set(c, o);
      o += c.length;
    }
    return new Uint8Array(all.buffer);
  }
}

export interface ScriptResult {
  /** One entry per run()/read() in order: [cycles] or the words read. */
  results: Uint32Array[];
  /** Clock cycles simulated in total and wall-clock seconds of the simulation loop. */
  simCycles: number;
  simSeconds: number;
  trace?: string;
}

/** Executes a script on a built bench. */
export async function runScript(
  exe: string,
  script: CoreScript,
  opts: {
    timeoutCycles?: number;
    trace?: string;
    extraArgs?: string[];
    /** The program may be malformed: the rules only compiled programs keep are not checked. */
    malformed?: boolean;
  } = {},
): Promise<ScriptResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nnfpga-core-'));
  try {
    const cmd = path.join(dir, 'cmds.bin');
    const out = path.join(dir, 'out.bin');
    await writeFile(cmd, script.bytes());
    // +npu_strict: the datapath's rules are fatal; +npu_legal: so are those that only a
    // compiled program keeps (the requantizer's interval, AMEM read/write collisions)
    const args = [cmd, out, '+npu_strict'];
    if (!opts.malformed) args.push('+npu_legal');
    if (opts.timeoutCycles) args.push(`+timeout=${opts.timeoutCycles}`);
    if (opts.trace) {
      await mkdir(path.dirname(opts.trace), { recursive: true });
      args.push(`+trace=${opts.trace}`);
    }
    if (opts.extraArgs) args.push(...opts.extraArgs);
    let stderr: string;
    try {
      ({ stderr } = await run(exe, args, { maxBuffer: 16 * 1024 * 1024 }));
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      // the simulation's own reports ($display) are on its stdout
      throw new DeviceError(`core bench failed: ${(e.stderr || e.stdout || e.message).trim()}`);
    }
    const buf = await readFile(out);
    const all = new Uint32Array(buf.buffer, buf.byteOffset, buf.length / 4);
    const results: Uint32Array[] = [];
    let o = 0;
    for (const r of script.reads) {
      results.push(all.slice(o, o + r.count));
      o += r.count;
    }
    const m = /core_tb: (\d+) cycles .* in ([\d.]+) s/.exec(stderr);
    return { results, simCycles: m ? Number(m[1]) : 0, simSeconds: m ? Number(m[2]) : 0, trace: opts.trace };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface CoreInference {
  /**
   * Every layer's output (CHW int8, QModel shapes) read back from AMEM right after the
   * layer ran (readAll), else null but for the last layer.
   */
  layers: (Int8Array | null)[];
  /** Cycles from start to done (bench-measured) and from the CNT words, per layer. */
  cycles: number;
  layerCycles: number[];
  layerFeedCycles: number[];
  /** The CNT cycles of every descriptor of the program (a layer's are the sum of its). */
  stepCycles: number[];
  /** The busy cycles of the program's RUNs, done_o's included: the bench's count (the
   * core keeps no run counter; on a board the link counts it, npu_link cycles_q). */
  runCycles: number;
}

export interface CoreRunResult {
  inferences: CoreInference[];
  simCycles: number;
  simSeconds: number;
  trace?: string;
}

/**
 * Loads the image and runs each input (CHW int8 in the model's input quantization) on
 * the core bench. The program runs in the image's segments (MaxLayers descriptors per
 * RUN); with readAll (default) it runs one layer at a time instead and reads every
 * layer's output right after it, before a later layer may reuse its memory.
 */
export async function runCore(
  image: DeviceImage,
  inputs: Int8Array[],
  opts: { inputZeroPoint: number; readAll?: boolean; trace?: boolean | string; name?: string },
): Promise<CoreRunResult> {
  const cfg = image.config;
  const traceOn = opts.trace !== undefined ? !!opts.trace : traceWanted();
  const exe = await buildCore(cfg, traceOn);
  const readAll = opts.readAll ?? true;
  const runs = imageRuns(image, readAll);
  const nl = image.layers.length;
  // the layer whose output is complete after each RUN (its last descriptor is there)
  const done = runs.map((r) => {
    const last = r.first + r.count - 1;
    const l = image.stepLayers[last];
    return image.layers[l].steps.first + image.layers[l].steps.count - 1 === last ? l : -1;
  });
  const s = new CoreScript();
  s.write(SPACE.WMEM, 0, image.wmem);
  if (runs.length === 1) s.write(SPACE.DMEM, 0, runs[0].dmem);
  for (const x of inputs) {
    s.write(SPACE.AMEM, image.input.addr, packInput(x, image.input, cfg.dim, opts.inputZeroPoint));
    runs.forEach((r, k) => {
      if (runs.length > 1) s.write(SPACE.DMEM, 0, r.dmem);
      s.run();
      s.read(SPACE.CNT, 0, 2 * r.count);
      const l = done[k];
      if (l >= 0 && (readAll || l === nl - 1))
        s.read(SPACE.AMEM, image.layers[l].output.addr, image.layers[l].output.words);
    });
  }
  const trace =
    typeof opts.trace === 'string'
      ? opts.trace
      : traceOn
        ? path.join(buildDir('trace'), `${opts.name ?? 'core'}-${Date.now()}.fst`)
        : undefined;
  const timeoutCycles = 200_000_000;
  const res = await runScript(exe, s, { trace, timeoutCycles });
  const inferences: CoreInference[] = [];
  let k = 0;
  for (let n = 0; n < inputs.length; n++) {
    const layers: (Int8Array | null)[] = image.layers.map(() => null);
    const layerCycles = new Array<number>(nl).fill(0);
    const layerFeedCycles = new Array<number>(nl).fill(0);
    const stepCycles = new Array<number>(image.stepLayers.length).fill(0);
    let cycles = 0;
    runs.forEach((r, j) => {
      cycles += res.results[k++][0];
      const cnt = res.results[k++];
      for (let d = 0; d < r.count; d++) {
        const l = image.stepLayers[r.first + d];
        layerCycles[l] += cnt[2 * d];
        layerFeedCycles[l] += cnt[2 * d + 1];
        stepCycles[r.first + d] = cnt[2 * d];
      }
      const l = done[j];
      if (l >= 0 && (readAll || l === nl - 1))
        layers[l] = unpackTensor(res.results[k++], image.layers[l].output.shape, cfg.dim);
    });
    inferences.push({ layers, cycles, layerCycles, layerFeedCycles, stepCycles, runCycles: cycles });
  }
  return { inferences, simCycles: res.simCycles, simSeconds: res.simSeconds, trace: res.trace };
}
