// `nnfpga report` as a user runs it, checked in a real browser (Debian's Chromium): cnn_a
// on the simulated board with labels and the array animation. The page must open from
// disk without fetching anything, render (the screenshot is not blank), show exactly the
// numbers of the same run's JSON, and its animation, stepped through every cycle of the
// trace, must show the PE registers the VCD holds for that cycle.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportData } from '../../host/report/data.ts';
import { bitsAt, field, parseVcd } from '../../host/report/vcd.ts';
import { firstInputs, nnfpga } from '../e2e/cli.ts';
import { fixture, tempDir } from '../host/helpers.ts';
import { openFile, type OpenedPage } from './browser.ts';

const INPUTS = 32;

/** The first n labels of labels200.npy as an int64 .npy file. */
function firstLabels(n: number): string {
  const all = readFileSync(fixture('labels200.npy'));
  const headerLen = all.readUInt16LE(8);
  const data = all.subarray(10 + headerLen, 10 + headerLen + 8 * n);
  let header = `{'descr': '<i8', 'fortran_order': False, 'shape': (${n},), }`;
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 11, ' ') + '\n';
  const out = Buffer.alloc(total + data.length);
  out.write('\x93NUMPY', 0, 'latin1');
  out[6] = 1;
  out.writeUInt16LE(header.length, 8);
  out.write(header, 10, 'latin1');
  data.copy(out, total);
  const file = join(tempDir(), `labels${n}.npy`);
  writeFileSync(file, out);
  return file;
}

/** The value at a dotted path of the report JSON. */
function at(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], obj);
}

describe('nnfpga report in headless Chromium', () => {
  const out = join(tempDir(), 'report.html');
  let data: ReportData;
  let seconds = 0;
  let opened: OpenedPage;

  beforeAll(async () => {
    const t0 = performance.now();
    const r = await nnfpga(
      'report',
      fixture('cnn_a.onnx'),
      '--input',
      firstInputs(INPUTS),
      '--labels',
      firstLabels(INPUTS),
      '--calib',
      fixture('calib256.npy'),
      '--animate',
      '/net/net.3/Conv',
      '--sim',
      '-o',
      out,
      '--json',
    );
    seconds = (performance.now() - t0) / 1000;
    expect(r.code, r.stderr).toBe(0);
    data = JSON.parse(r.stdout) as ReportData;
    console.log(`report --sim for cnn_a with ${INPUTS} inputs: ${seconds.toFixed(1)} s`);
    opened = await openFile(out);
  }, 600_000);

  afterAll(async () => {
    await opened?.close();
  });

  it('opens from disk, fetches nothing and runs without script errors', () => {
    expect(opened.external).toEqual([]);
    expect(opened.errors).toEqual([]);
    const html = readFileSync(out, 'utf8');
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
  });

  it('renders: the full-page screenshot is not blank (ink coverage and colours)', async () => {
    const png = PNG.sync.read(await opened.page.screenshot({ fullPage: true }));
    let ink = 0;
    const colours = new Set<number>();
    const lum: number[] = [];
    for (let p = 0; p < png.width * png.height; p++) {
      const [r, g, b] = [png.data[4 * p], png.data[4 * p + 1], png.data[4 * p + 2]];
      const l = 0.299 * r + 0.587 * g + 0.114 * b;
      if (l < 200) ink++;
      if (p % 7 === 0) colours.add((r >> 3) | ((g >> 3) << 5) | ((b >> 3) << 10));
      if (p % 97 === 0) lum.push(l);
    }
    const mean = lum.reduce((a, b) => a + b, 0) / lum.length;
    const sd = Math.sqrt(lum.reduce((a, b) => a + (b - mean) ** 2, 0) / lum.length);
    console.log(
      `screenshot ${png.width}x${png.height}: ${((100 * ink) / (png.width * png.height)).toFixed(1)} % ink, ${colours.size} colours, luminance sd ${sd.toFixed(1)}`,
    );
    expect(png.height).toBeGreaterThan(2000);
    expect(ink / (png.width * png.height)).toBeGreaterThan(0.03);
    expect(colours.size).toBeGreaterThan(50);
    expect(sd).toBeGreaterThan(15);
  });

  it('has the roofline, the confusion matrix and the animation', async () => {
    const p = opened.page;
    const withWeights = data.info.layers.filter((l) => l.weights > 0).length;
    expect(await p.locator('svg.roofline g.pt circle.measured').count()).toBe(withWeights);
    expect(await p.locator('svg.roofline g.pt circle.ideal').count()).toBe(withWeights);
    expect(await p.locator('svg.confusion rect').count()).toBe(100);
    expect(await p.locator('#anim-svg g.pe').count()).toBe(data.animation!.n ** 2);
  });

  it("shows the same numbers as the run's JSON (every tagged number, and the embedded data)", async () => {
    const embedded = await opened.page.evaluate(() => document.getElementById('nnfpga-data')!.textContent);
    expect(JSON.parse(embedded!)).toEqual(data);
    const shown = await opened.page.$$eval('[data-k]', (els) =>
      els.map((e) => ({
        k: e.getAttribute('data-k')!,
        text: e.textContent!,
        scale: e.getAttribute('data-scale'),
      })),
    );
    // every layer's measured cycles, the wire split, the confusion matrix and the SQNR are among them
    const keys = new Set(shown.map((s) => s.k));
    for (let i = 0; i < data.profile!.layers.length; i++)
      expect(keys).toContain(`profile.layers.${i}.cycles`);
    for (const k of [
      'profile.wire_out_cycles',
      'profile.compute_cycles',
      'profile.wire_in_cycles',
      'eval.accuracy.device',
    ])
      expect(keys).toContain(k);
    expect(shown.filter((s) => s.k.startsWith('eval.confusion.')).length).toBeGreaterThan(9);
    expect(shown.filter((s) => s.k.startsWith('sqnr.layers.')).length).toBe(4 * data.sqnr!.layers.length);
    for (const s of shown) {
      const value = at(data, s.k) as number;
      const text = s.text.replace(/[,\s%]/g, '');
      const decimals = text.includes('.') ? text.split('.')[1].length : 0;
      const want = Number(((s.scale ? Number(s.scale) : 1) * value).toFixed(decimals));
      expect(Number(text), `${s.k}: page "${s.text}", JSON ${value}`).toBe(want);
    }
    // the device was bit-exact and its counters are what the page shows
    expect(data.run.mismatches).toBe(0);
    expect(data.profile!.layers.map((l) => l.cycles)).toEqual(
      data.profile!.layers.map((l) => l.estimated_cycles),
    );
  });

  it("steps the animation through every cycle of the trace and shows that cycle's PE registers from the VCD", async () => {
    const a = data.animation!;
    const vcd = parseVcd(readFileSync(a.vcd, 'utf8'));
    const base = vcd.times[0];
    const ticks = vcd.times.filter((t) => (t - base) % 2 === 1);
    expect(ticks.length).toBe(a.frames.length);
    const sig = (i: number, j: number, s: string) =>
      vcd.vars.get(`TOP.npu_core.u_array.g_row[${i}].g_col[${j}].u_pe.${s}`)!;
    const psumW = sig(0, 0, 'psum_q').width;
    const rqValid = vcd.vars.get('TOP.npu_core.rq_valid')!;
    const rqY = vcd.vars.get('TOP.npu_core.rq_y')!;
    let outputs = 0;
    const p = opened.page;
    for (let k = 0; k < ticks.length; k++) {
      if (k > 0) await p.click('#anim-step');
      const dom = await p.evaluate((n) => {
        const t = (id: string) => document.getElementById(id)!.textContent!;
        const pe: string[][] = [];
        for (let i = 0; i < n; i++) {
          const row: string[] = [];
          for (let j = 0; j < n; j++)
            row.push(`${t(`pe-${i}-${j}-w`)}|${t(`pe-${i}-${j}-x`)}|${t(`pe-${i}-${j}-p`)}`);
          pe.push(row);
        }
        const out: string[] = [];
        for (let j = 0; j < n; j++) out.push(t(`out-${j}`));
        return { cycle: t('anim-cycle'), pe, out };
      }, a.n);
      expect(Number(dom.cycle)).toBe(a.first_cycle + k);
      for (let i = 0; i < a.n; i++)
        for (let j = 0; j < a.n; j++) {
          const w = field(bitsAt(sig(i, j, 'active_q'), ticks[k])!, 0, 8, true);
          const x = field(bitsAt(sig(i, j, 'x_q'), ticks[k])!, 0, 8, true);
          const ps = field(bitsAt(sig(i, j, 'psum_q'), ticks[k])!, 0, psumW, true);
          expect(dom.pe[i][j], `cycle ${a.first_cycle + k}, PE(${i}, ${j})`).toBe(`w ${w}|x ${x}|${ps}`);
        }
      // the requantizer's int8 output vector, in the cycles it leaves
      const valid = bitsAt(rqValid, ticks[k]) === '1';
      const y = Array.from({ length: a.n }, (_, j) =>
        valid ? String(field(bitsAt(rqY, ticks[k])!, 8 * j, 8, true)) : '',
      );
      expect(dom.out, `cycle ${a.first_cycle + k}: requantizer output`).toEqual(y);
      if (valid) outputs++;
    }
    // the window holds the layer's first output pixels
    expect(outputs).toBeGreaterThanOrEqual(1);
  });
});
