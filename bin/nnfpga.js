#!/usr/bin/env node
// Launcher. In a clone the TypeScript sources run through tsx, so no build step is
// needed; the npm package ships them compiled to dist/ (npm pack runs `npm run build`)
// and has no host/ sources.
import { existsSync } from 'node:fs';

const source = new URL('../host/cli.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import('../dist/host/cli.js');
}
