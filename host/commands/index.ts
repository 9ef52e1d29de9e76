import type { Register } from './common.ts';
import { registerInfo } from './info.ts';
import { registerQuantize } from './quantize.ts';
import { registerRun } from './run.ts';
import { registerEval } from './eval.ts';
import { registerBuild } from './build.ts';
import { registerFlash } from './flash.ts';
import { registerSim } from './sim.ts';
import { registerPorts } from './ports.ts';
import { registerBench } from './bench.ts';
import { registerReport } from './report-html.ts';

// Each command module registers itself; the order is the order in --help.
export const commands: Register[] = [
  registerInfo,
  registerQuantize,
  registerRun,
  registerEval,
  registerBuild,
  registerFlash,
  registerSim,
  registerPorts,
  registerBench,
  registerReport,
];
