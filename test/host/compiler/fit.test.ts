// The fit check (host/compiler/fit.ts) and `nnfpga info --board/--config` (SPEC section 2,
// revision 2): memory per space against the configuration, the one-line reason when a
// model does not fit, and the JSON fields scripts read.
import { describe, expect, it } from 'vitest';
import type { BoardInfo } from '../../../host/board-info.ts';
import { fixtureModel } from '../../../host/bench/core.ts';
import { compile } from '../../../host/compiler/compile.ts';
import { BOARD_CONFIG, HX8K_CONFIG } from '../../../host/compiler/configs.ts';
import { fitCheck } from '../../../host/compiler/fit.ts';
import { nnfpga } from '../../e2e/cli.ts';
import { fixture, fixtures } from '../helpers.ts';

describe('fit check', () => {
  it('cnn_a fits the iCEBreaker: needs equal what the compiled image uses', () => {
    const { model } = fixtureModel('cnn_a', fixtures);
    const fit = fitCheck(model, BOARD_CONFIG, 'icebreaker');
    const image = compile(model, BOARD_CONFIG);
    expect(fit.fits).toBe(true);
    expect(fit.fit_reason).toBeNull();
    expect(fit.memory.WMEM).toEqual({ needed: image.wmem.length * 4, available: BOARD_CONFIG.wmemWords * 4 });
    expect(fit.memory.DMEM.needed).toBe(image.dmem.length * 4);
    // conv1's 784-word input (in the AMEM extension) beside its 1568-word output (in EBR)
    expect(fit.memory.AMEM.needed).toBe((784 + 1568) * 4);
    expect(image.amemWordsUsed).toBeLessThanOrEqual(BOARD_CONFIG.amemWords + BOARD_CONFIG.amemExtWords!);
    // the peak is some layer's: the most alive while one layer runs
    expect(fit.memory.AMEM.needed).toBe(Math.max(...fit.layers.map((l) => l.amem)));
    expect(fit.layers.reduce((a, l) => a + l.wmem, 0)).toBe(fit.memory.WMEM.needed);
    expect(fit.layers.map((l) => l.dmem)).toEqual(image.layers.map((l) => 64 * l.steps.count));
  });

  it('cnn_a does not fit the HX8K: the reason names both spaces that overflow, with their sizes', () => {
    const { model } = fixtureModel('cnn_a', fixtures);
    const fit = fitCheck(model, HX8K_CONFIG, 'hx8k');
    expect(fit.fits).toBe(false);
    expect(fit.fit_reason).toMatch(
      /^does not fit hx8k: AMEM .* needs 9,408 bytes, 4,096 available; WMEM .* needs 11,712 bytes, 4,096 available$/,
    );
    expect(fit.fit_reason).not.toContain('\n');
  });

  it('info --board icebreaker --json: fits, memory per space in bytes, estimated_cycles and bound per layer', async () => {
    const r = await nnfpga(
      'info',
      fixture('cnn_a.onnx'),
      '--board',
      'icebreaker',
      '--calib',
      fixture('calib256.npy'),
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout) as BoardInfo;
    expect(info.fits).toBe(true);
    expect(info.fit_reason).toBeNull();
    expect(Object.keys(info.memory).sort()).toEqual(['AMEM', 'DMEM', 'WMEM']);
    expect(info.memory.AMEM.available).toBe(16384); // 16 EBRs and the extension in SPRAM
    const run = info.layers.filter((l) => l.estimated_cycles !== null);
    expect(run.map((l) => l.op)).toEqual(['Conv', 'MaxPool', 'Conv', 'MaxPool', 'Gemm']);
    for (const l of run) expect(['array', 'weights', 'requantizer', 'wire']).toContain(l.bound);
    expect(info.layers.find((l) => l.op === 'Flatten')).toMatchObject({
      estimated_cycles: null,
      bound: null,
    });
    expect(info.total.macs).toBe(290080);
  });

  it('info --board hx8k: exit 0, "DOES NOT FIT" and the one-line reason', async () => {
    const r = await nnfpga('info', fixture('cnn_a.onnx'), '--board', 'hx8k');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/DOES NOT FIT$/);
    expect(r.stdout.split('\n')[1]).toMatch(/^does not fit hx8k: AMEM/);
  });

  it('info --board with an unknown board, or with --config too, is a usage error naming the choices', async () => {
    const r = await nnfpga('info', fixture('mlp.onnx'), '--board', 'nosuch');
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'nnfpga: --board nosuch: choose one of icebreaker, hx8k (see nnfpga info --help)',
    );
    const both = await nnfpga('info', fixture('mlp.onnx'), '--board', 'hx8k', '--config', 'sim8');
    expect(both.code).toBe(1);
    expect(both.stderr.trim()).toBe('nnfpga: --board cannot be used with --config (see nnfpga info --help)');
  });
});
