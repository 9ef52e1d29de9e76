// Where nnfpga finds its own files and where it writes its caches.
//
// PACKAGE_ROOT is the folder holding nnfpga's package.json, rtl/, sim/ and constraints/:
// the clone, or node_modules/nnfpga when installed from the npm package. It is found by
// walking up from this module, so it is the same whether the host runs as TypeScript
// (host/paths.ts, through tsx) or compiled (dist/host/paths.js).
//
// Build products (Verilator models, bitstreams, traces) go to build/ in a clone (a .git
// beside package.json), and to the user's cache folder otherwise: $NNFPGA_CACHE_DIR, else
// $XDG_CACHE_HOME/nnfpga, else ~/.cache/nnfpga; an installed package's folder may be
// read-only and is replaced on every install.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'nnfpga') return dir;
      } catch {
        // not ours (or unreadable): keep walking up
      }
    }
    if (path.dirname(dir) === dir) throw new Error(`nnfpga's package.json not found above ${from}`);
  }
}

/** The folder holding nnfpga's package.json, rtl/, sim/ and constraints/. */
export const PACKAGE_ROOT = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));

/** nnfpga's package.json (name, version, ...). */
export const PACKAGE_JSON = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  bugs?: { url?: string } | string;
};

/** A git clone (a development checkout), rather than an installed package. */
export const IS_CLONE = existsSync(path.join(PACKAGE_ROOT, '.git'));

/** The user's cache folder for nnfpga (XDG base directory rules). */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : null;
  return path.join(base ?? path.join(homedir(), '.cache'), 'nnfpga');
}

/**
 * The folder for build products: $NNFPGA_CACHE_DIR when set, build/ in a clone, else
 * the user's cache folder. `parts` name a sub-folder (e.g. 'verilator', a board).
 */
export function buildDir(...parts: string[]): string {
  const env = process.env.NNFPGA_CACHE_DIR;
  const root = env ? path.resolve(env) : IS_CLONE ? path.join(PACKAGE_ROOT, 'build') : userCacheDir();
  return path.join(root, ...parts);
}

/** A path for messages: relative to the package root when inside it, else absolute. */
export function shownPath(p: string): string {
  const rel = path.relative(PACKAGE_ROOT, p);
  return rel.startsWith('..') || path.isAbsolute(rel) ? p : rel;
}
