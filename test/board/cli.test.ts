// nnfpga flash and build without hardware: the exit codes and one-line messages of
// SPEC section 2 (2 for a missing board, 1 for bad usage).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  boardSources,
  doesNotFit,
  icetimeMhz,
  overusedFromLog,
  REPO_ROOT,
  yosysScript,
} from '../../host/board/build.ts';
import { BOARDS, deviceConfig, pllOutMhz, topParams } from '../../host/board/boards.ts';
import { BOARD_CONFIG, coreParams, HX8K_CONFIG } from '../../host/compiler/configs.ts';

const ROOT = join(import.meta.dirname, '../..');

function nnfpga(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('node', ['bin/nnfpga.js', ...args], { cwd: ROOT }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** An FTDI chip (vendor 0403) on the USB bus: a board may be attached, so do not flash junk. */
function ftdiPresent(): boolean {
  const dir = '/sys/bus/usb/devices';
  if (!existsSync(dir)) return false;
  return readdirSync(dir).some((d) => {
    const f = join(dir, d, 'idVendor');
    return existsSync(f) && readFileSync(f, 'utf8').trim() === '0403';
  });
}

describe('nnfpga flash without a board', () => {
  it.skipIf(ftdiPresent())('exits 2 with one line naming the missing board', async () => {
    const bin = join(mkdtempSync(join(tmpdir(), 'nnfpga-flash-')), 'x.bin');
    writeFileSync(bin, Buffer.alloc(64));
    for (const board of ['icebreaker', 'hx8k']) {
      const r = await nnfpga(['flash', '--board', board, '--bitstream', bin]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`flash ${board}: no board found`));
    }
  });

  it('exits 1 when the bitstream does not exist', async () => {
    const r = await nnfpga(['flash', '--board', 'hx8k', '--bitstream', '/nonexistent/x.bin']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('unknown board', () => {
  it('build and flash exit 1 with one line listing the boards', async () => {
    for (const cmd of ['build', 'flash']) {
      const r = await nnfpga([cmd, '--board', 'de0nano']);
      expect(r.code).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toBe(
        `nnfpga: --board de0nano: choose one of icebreaker, hx8k (see nnfpga ${cmd} --help)`,
      );
    }
  });
});

describe('board table', () => {
  it('PLL settings give each board its target clock', () => {
    for (const b of Object.values(BOARDS)) expect(pllOutMhz(b)).toBe(b.targetMhz);
  });

  it("each board's core is its compiler configuration (host/compiler/configs.ts)", () => {
    expect(deviceConfig(BOARDS.icebreaker)).toEqual(BOARD_CONFIG);
    expect(deviceConfig(BOARDS.hx8k)).toEqual(HX8K_CONFIG);
    for (const b of Object.values(BOARDS)) {
      const top = topParams(b);
      for (const [k, v] of Object.entries(coreParams(deviceConfig(b))))
        expect(top[k], `${b.name} ${k}`).toBe(v);
    }
  });

  it('every board builds the EBR memory variant; the UP5K the DSP array, the HX8K the logic one', () => {
    const ice40 = (b: string) =>
      boardSources(BOARDS[b], ROOT)
        .filter((f) => f.includes('/rtl/ice40/'))
        .map((f) => f.slice(f.indexOf('/rtl/') + 1));
    expect(ice40('icebreaker')).toEqual([
      'rtl/ice40/npu_array.v',
      'rtl/ice40/npu_ram.v',
      'rtl/ice40/npu_spram.v',
    ]);
    expect(ice40('hx8k')).toEqual([
      'rtl/ice40/fabric/npu_array.v',
      'rtl/ice40/npu_ram.v',
      'rtl/ice40/npu_spram.v',
    ]);
    for (const b of ['icebreaker', 'hx8k']) {
      const names = boardSources(BOARDS[b], ROOT).map((f) => f.slice(f.lastIndexOf('/') + 1));
      expect(new Set(names).size, 'one file per module').toBe(names.length);
    }
  });

  it('every board has its pcf and its top', () => {
    for (const b of Object.values(BOARDS)) {
      expect(existsSync(join(ROOT, b.pcf))).toBe(true);
      expect(existsSync(join(ROOT, 'rtl/boards', `${b.top}.v`))).toBe(true);
    }
  });

  it('synthesis never passes -dsp (it would rewrite the SB_MAC16 array)', () => {
    for (const b of Object.values(BOARDS)) {
      const script = yosysScript(b, boardSources(b), REPO_ROOT, join(REPO_ROOT, 'build', b.name, 'x.json'));
      expect(script).toMatch(/^synth_ice40 /m);
      expect(script, b.name).not.toMatch(/-dsp\b/);
    }
  });

  it("reads icetime's estimate from its report", () => {
    expect(
      icetimeMhz('...\nTotal number of logic levels: 12\nTotal path delay: 30.63 ns (32.65 MHz)\n'),
    ).toBe(32.65);
    expect(icetimeMhz('no report')).toBeUndefined();
  });

  it('reads over-used resources from a nextpnr log', () => {
    const log = [
      'Info: Device utilisation:',
      'Info: \t         ICESTORM_LC: 28658/ 5280   542%',
      'Info: \t        ICESTORM_RAM:    33/   30   110%',
      'Info: \t               SB_IO:     6/   96     6%',
    ].join('\n');
    expect(overusedFromLog(log)).toEqual(['logic cells 28658/5280', 'EBR 33/30']);
  });

  it('a build that does not fit fails with one line naming every over-used resource', () => {
    const log = [
      'Info: Device utilisation:',
      'Info: \t         ICESTORM_LC: 21231/ 5280   402%',
      'Info: \t        ICESTORM_RAM:    33/   30   110%',
      'Info: \t        ICESTORM_DSP:     9/    8   112%',
      'Info: \t      ICESTORM_SPRAM:     4/    4   100%',
    ].join('\n');
    const msg = doesNotFit(BOARDS.icebreaker, overusedFromLog(log), 'build/icebreaker/nextpnr.log');
    expect(msg.split('\n')).toHaveLength(1);
    expect(msg).toBe(
      'icebreaker: the design does not fit the UP5K (used/available): logic cells 21231/5280, ' +
        'EBR 33/30, DSPs (SB_MAC16) 9/8 (log: build/icebreaker/nextpnr.log)',
    );
  });
});
