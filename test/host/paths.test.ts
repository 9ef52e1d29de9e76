// Where nnfpga finds itself and writes its caches: the clone's build/ here; the user's
// cache folder (XDG rules) for an installed package (test/e2e/package.test.ts runs one).
import { homedir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDir, IS_CLONE, PACKAGE_JSON, PACKAGE_ROOT, userCacheDir } from '../../host/paths.ts';
import { repoRoot } from './helpers.ts';

describe('paths', () => {
  it('finds the package root and its package.json from the module, and knows a clone', () => {
    expect(PACKAGE_ROOT).toBe(repoRoot);
    expect(PACKAGE_JSON.name).toBe('nnfpga');
    expect(IS_CLONE).toBe(true);
  });

  it('builds into build/ in a clone, or where NNFPGA_CACHE_DIR says', () => {
    const saved = process.env.NNFPGA_CACHE_DIR;
    try {
      delete process.env.NNFPGA_CACHE_DIR;
      expect(buildDir('verilator')).toBe(path.join(repoRoot, 'build', 'verilator'));
      process.env.NNFPGA_CACHE_DIR = '/tmp/nnfpga-cache';
      expect(buildDir('icebreaker')).toBe('/tmp/nnfpga-cache/icebreaker');
    } finally {
      if (saved === undefined) delete process.env.NNFPGA_CACHE_DIR;
      else process.env.NNFPGA_CACHE_DIR = saved;
    }
  });

  it("puts the user's cache in $XDG_CACHE_HOME/nnfpga, else ~/.cache/nnfpga (a relative XDG path is ignored)", () => {
    expect(userCacheDir({ XDG_CACHE_HOME: '/var/cache/me' })).toBe('/var/cache/me/nnfpga');
    expect(userCacheDir({})).toBe(path.join(homedir(), '.cache', 'nnfpga'));
    expect(userCacheDir({ XDG_CACHE_HOME: 'relative' })).toBe(path.join(homedir(), '.cache', 'nnfpga'));
  });
});
