import type { Register } from './common.ts';
import { registerInfo } from './info.ts';
import { registerQuantize } from './quantize.ts';
import { registerBuild } from './build.ts';
import { registerFlash } from './flash.ts';

// Each command module registers itself; the order is the order in --help.
export const commands: Register[] = [registerInfo, registerQuantize, registerBuild, registerFlash];
