import type { Register } from './common.ts';

// Each command module registers itself; the order is the order in --help.
export const commands: Register[] = [];
