#!/usr/bin/env node
// Launcher: runs the TypeScript CLI through tsx so no separate compile step is needed.
import { register } from 'tsx/esm/api';

register();
await import('../host/cli.ts');
