// `nnfpga report` and `info --board` on graph models, without a device: the layer table
// lists residual adds (run on the array, 0 MACs counted) with their estimate, and a host
// step (Softmax) as a layer with its op, 0 MACs and no device cycles (SPEC section 2).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BoardInfo } from '../../host/board-info.ts';
import type { ReportData } from '../../host/report/data.ts';
import { firstInputs, nnfpga } from '../e2e/cli.ts';
import { fixture, repoRoot, tempDir } from '../host/helpers.ts';

const pytorch = (name: string) => join(repoRoot, 'test/fixtures/pytorch', `${name}.onnx`);

describe('report and info --board on graph models', () => {
  it('ResNet (PyTorch): the residual adds are rows with 0 MACs, an estimate and memory; the page explains them', async () => {
    const out = join(tempDir(), 'resnet.html');
    const r = await nnfpga(
      'report',
      pytorch('resnet'),
      '--input',
      firstInputs(4),
      '--calib',
      fixture('calib256.npy'),
      '-o',
      out,
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const data = JSON.parse(r.stdout) as ReportData;
    const adds = data.info.layers.filter((l) => l.op === 'Add');
    expect(adds).toHaveLength(2);
    for (const l of adds) {
      expect(l.macs).toBe(0);
      expect(l.estimated_cycles).toBeGreaterThan(0);
      expect(l.memory!.AMEM).toBeGreaterThan(0);
    }
    // the SQNR of every device layer, the adds measured on both of their inputs
    expect(data.sqnr!.layers.map((l) => l.name)).toEqual(
      data.info.layers.filter((l) => l.estimated_cycles !== null).map((l) => l.name),
    );
    for (const l of data.sqnr!.layers) expect(l.layer_sqnr_db).toBeGreaterThan(20);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('no parameters: residual add');
    expect(html.match(/<td class="formula">conv: K·F·F·D = /g)?.length).toBe(6);
  });

  it('a Softmax output (PyTorch MLP with BatchNorm1d): the host step is a layer with its op, 0 MACs and no device cycles', async () => {
    const out = join(tempDir(), 'mlp_bn.html');
    const r = await nnfpga(
      'report',
      pytorch('mlp_bn'),
      '--input',
      firstInputs(4),
      '--calib',
      fixture('calib256.npy'),
      '-o',
      out,
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const data = JSON.parse(r.stdout) as ReportData;
    const last = data.info.layers.at(-1)!;
    expect(last).toMatchObject({ op: 'Softmax', macs: 0, host: true, estimated_cycles: null, memory: null });
    expect(readFileSync(out, 'utf8')).toContain(
      'host step: Softmax applied by the host, in float, to the dequantized output',
    );
    const info = await nnfpga(
      'info',
      pytorch('mlp_bn'),
      '--board',
      'icebreaker',
      '--calib',
      fixture('calib256.npy'),
      '--json',
    );
    expect(info.code, info.stderr).toBe(0);
    const b = JSON.parse(info.stdout) as BoardInfo;
    expect(b.fits).toBe(true);
    expect(b.layers.at(-1)).toMatchObject({ op: 'Softmax', macs: 0, estimated_cycles: null, bound: null });
  });
});
