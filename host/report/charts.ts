// SVG charts of the report, rendered when the report is written (d3-scale for the
// scales and ticks, d3-format for the numbers), so the HTML file needs no script to show
// them. Every function returns one <svg> element as a string.
import { format } from 'd3-format';
import { scaleBand, scaleLinear, scaleLog } from 'd3-scale';

export const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const num = format(',d');
const short = format('~s');

export interface RooflinePoint {
  name: string;
  /** MACs per weight byte (int8 weights: MACs / weights). */
  intensity: number;
  /** MACs per cycle, measured (or estimated without a device). */
  measured: number;
  /** The roof at this intensity: min(N^2, N x intensity). */
  ideal: number;
}

/**
 * Roofline of the array: MACs per cycle against MACs per weight byte, both logarithmic.
 * Ceilings: the array's N^2 MACs per cycle, and the weight memory's N bytes per cycle,
 * which allows N x intensity MACs per cycle (the slope). One point per layer, measured
 * (filled) and ideal (hollow, on the roof).
 */
export function roofline(points: RooflinePoint[], n: number, measuredLabel: string): string {
  const W = 620;
  const H = 380;
  const m = { l: 64, r: 150, t: 20, b: 50 };
  const xs = points.map((p) => p.intensity);
  const xMax = Math.max(n * 4, ...xs) * 2;
  const x = scaleLog()
    .domain([0.5, xMax])
    .range([m.l, W - m.r]);
  const yMin = Math.min(0.5, ...points.map((p) => p.measured / 2));
  const y = scaleLog()
    .domain([yMin, n * n * 2])
    .range([H - m.b, m.t]);
  const out: string[] = [];
  out.push(
    `<svg class="chart roofline" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="roofline">`,
  );
  for (const t of x.ticks(6)) {
    if (!Number.isInteger(Math.log10(t)) && x.ticks(6).length > 8) continue;
    out.push(
      `<line class="grid" x1="${x(t)}" x2="${x(t)}" y1="${m.t}" y2="${H - m.b}"/><text class="tick" x="${x(t)}" y="${H - m.b + 16}" text-anchor="middle">${short(t)}</text>`,
    );
  }
  for (const t of y.ticks(6)) {
    if (!Number.isInteger(Math.log10(t)) && !Number.isInteger(Math.log2(t))) continue;
    out.push(
      `<line class="grid" x1="${m.l}" x2="${W - m.r}" y1="${y(t)}" y2="${y(t)}"/><text class="tick" x="${m.l - 6}" y="${y(t) + 4}" text-anchor="end">${short(t)}</text>`,
    );
  }
  // ceilings: slope n*I up to the ridge at I = n, then flat at n^2
  const ridge = n;
  out.push(
    `<polyline class="roof" points="${x(0.5)},${y(Math.max(yMin, n * 0.5))} ${x(ridge)},${y(n * n)} ${x(xMax)},${y(n * n)}"/>`,
    `<text class="roof-label" x="${x(ridge) + 8}" y="${y(n * n) - 8}">array: N² = ${n * n} MACs/cycle</text>`,
    `<text class="roof-label" x="${x(1.2)}" y="${y(n * 1.2) - 10}" transform="rotate(${-Math.atan2(y(1) - y(10), x(10) - x(1)) * (180 / Math.PI)} ${x(1.2)} ${y(n * 1.2) - 10})">weight memory: N = ${n} bytes/cycle</text>`,
  );
  points.forEach((p, k) => {
    const cx = x(p.intensity);
    out.push(
      `<g class="pt" data-layer="${esc(p.name)}"><title>${esc(p.name)}: ${format('.3~f')(p.measured)} MACs/cycle measured, ${format('.3~f')(p.ideal)} ideal, ${format(',.1~f')(p.intensity)} MACs per weight byte</title>` +
        `<line class="drop" x1="${cx}" x2="${cx}" y1="${y(p.ideal)}" y2="${y(p.measured)}"/>` +
        `<circle class="ideal" cx="${cx}" cy="${y(p.ideal)}" r="6"/>` +
        `<circle class="measured" cx="${cx}" cy="${y(p.measured)}" r="6"/>` +
        `<text class="pt-label" x="${cx + 9}" y="${y(p.measured) + 4 + (k % 2) * 11}">${k + 1}</text></g>`,
    );
  });
  out.push(
    `<text class="axis" x="${(m.l + W - m.r) / 2}" y="${H - 10}" text-anchor="middle">MACs per weight byte (weight reuse)</text>`,
    `<text class="axis" transform="translate(16 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">MACs per cycle</text>`,
    `<g class="legend" transform="translate(${W - m.r + 14} ${m.t + 120})"><circle class="measured" cx="6" cy="0" r="6"/><text x="16" y="4">${esc(measuredLabel)}</text>` +
      `<circle class="ideal" cx="6" cy="20" r="6"/><text x="16" y="24">ideal (the roof)</text>` +
      points
        .map(
          (p, k) =>
            `<text class="legend-layer" x="0" y="${52 + 14 * k}">${k + 1} ${esc(shortName(p.name))}</text>`,
        )
        .join('') +
      `</g>`,
    '</svg>',
  );
  return out.join('');
}

export function shortName(name: string): string {
  const parts = name.split('/').filter(Boolean);
  return parts.slice(-2).join('/') || name;
}

export interface BarSeries {
  label: string;
  cls: string;
  values: (number | null)[];
}

/** Horizontal grouped bars, one group per category, linear scale from 0. */
export function groupedBars(categories: string[], series: BarSeries[], unit: string, fmt = num): string {
  const W = 620;
  const rowH = 10 * series.length + 14;
  const m = { l: 150, r: 90, t: 24, b: 30 };
  const H = m.t + m.b + rowH * categories.length;
  const max = Math.max(1, ...series.flatMap((s) => s.values.map((v) => v ?? 0)));
  const x = scaleLinear()
    .domain([0, max])
    .nice()
    .range([m.l, W - m.r]);
  const band = scaleBand()
    .domain(categories.map((_, i) => String(i)))
    .range([m.t, H - m.b])
    .paddingInner(0.25);
  const out = [`<svg class="chart bars" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">`];
  for (const t of x.ticks(5))
    out.push(
      `<line class="grid" x1="${x(t)}" x2="${x(t)}" y1="${m.t}" y2="${H - m.b}"/><text class="tick" x="${x(t)}" y="${H - m.b + 14}" text-anchor="middle">${short(t)}</text>`,
    );
  categories.forEach((c, i) => {
    const y0 = band(String(i))!;
    const h = band.bandwidth() / series.length;
    out.push(
      `<text class="cat" x="${m.l - 6}" y="${y0 + band.bandwidth() / 2 + 4}" text-anchor="end">${esc(shortName(c))}</text>`,
    );
    series.forEach((s, k) => {
      const v = s.values[i];
      if (v === null) return;
      out.push(
        `<rect class="${s.cls}" x="${m.l}" y="${y0 + k * h}" width="${Math.max(0.5, x(v) - m.l)}" height="${h - 1}"><title>${esc(c)}: ${s.label} ${fmt(v)} ${unit}</title></rect>` +
          `<text class="val" x="${x(v) + 3}" y="${y0 + k * h + h - 2}">${fmt(v)}</text>`,
      );
    });
  });
  out.push(
    `<g class="legend" transform="translate(${m.l} 12)">${series
      .map(
        (s, k) =>
          `<rect class="${s.cls}" x="${k * 130}" y="-8" width="10" height="10"/><text x="${k * 130 + 14}" y="1">${esc(s.label)}</text>`,
      )
      .join('')}</g>`,
    `<text class="axis" x="${W - m.r + 4}" y="${H - m.b + 14}">${esc(unit)}</text>`,
    '</svg>',
  );
  return out.join('');
}

/** Confusion matrix heat map: rows true label, columns prediction. */
export function confusionMatrix(confusion: number[][], predictedBy: string): string {
  const k = confusion.length;
  const cell = Math.min(40, Math.floor(400 / k));
  const m = { l: 60, t: 50 };
  const W = m.l + cell * k + 20;
  const H = m.t + cell * k + 20;
  const max = Math.max(1, ...confusion.flat());
  const out = [`<svg class="chart confusion" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">`];
  out.push(
    `<text class="axis" x="${m.l + (cell * k) / 2}" y="14" text-anchor="middle">predicted (${esc(predictedBy)})</text>`,
    `<text class="axis" transform="translate(14 ${m.t + (cell * k) / 2}) rotate(-90)" text-anchor="middle">true label</text>`,
  );
  for (let i = 0; i < k; i++) {
    out.push(
      `<text class="tick" x="${m.l + i * cell + cell / 2}" y="${m.t - 6}" text-anchor="middle">${i}</text>`,
      `<text class="tick" x="${m.l - 6}" y="${m.t + i * cell + cell / 2 + 4}" text-anchor="end">${i}</text>`,
    );
    for (let j = 0; j < k; j++) {
      const v = confusion[i][j];
      const a = v === 0 ? 0 : 0.12 + 0.88 * (v / max);
      out.push(
        `<rect class="${i === j ? 'diag' : 'off'}" x="${m.l + j * cell}" y="${m.t + i * cell}" width="${cell - 1}" height="${cell - 1}" fill-opacity="${a.toFixed(3)}"><title>true ${i}, predicted ${j}: ${v}</title></rect>` +
          (v > 0
            ? `<text class="cm-val${a > 0.55 ? ' light' : ''}" data-k="eval.confusion.${i}.${j}" x="${m.l + j * cell + cell / 2}" y="${m.t + i * cell + cell / 2 + 4}" text-anchor="middle">${v}</text>`
            : ''),
      );
    }
  }
  out.push('</svg>');
  return out.join('');
}

/** One inference as a stacked bar: wire out, compute, wire in (cycles). */
export function wireBar(parts: { label: string; cls: string; cycles: number }[]): string {
  const W = 620;
  const H = 70;
  const total = parts.reduce((a, p) => a + p.cycles, 0) || 1;
  const x = scaleLinear()
    .domain([0, total])
    .range([0, W - 2]);
  let at = 1;
  const out = [`<svg class="chart wire" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">`];
  for (const p of parts) {
    const w = x(p.cycles);
    out.push(
      `<rect class="${p.cls}" x="${at}" y="4" width="${Math.max(0.5, w)}" height="30"><title>${esc(p.label)}: ${num(p.cycles)} cycles</title></rect>`,
    );
    at += w;
  }
  at = 1;
  parts.forEach((p, k) => {
    const w = x(p.cycles);
    const anchor = k === 0 ? 'start' : k === parts.length - 1 ? 'end' : 'middle';
    const tx = k === 0 ? 2 : k === parts.length - 1 ? W - 2 : Math.min(W - 120, Math.max(120, at + w / 2));
    out.push(
      `<text class="wire-label" x="${tx}" y="${52 + (k === 1 ? 14 : 0)}" text-anchor="${anchor}">${esc(p.label)} ${format('.1%')(p.cycles / total)}</text>`,
    );
    at += w;
  });
  out.push('</svg>');
  return out.join('');
}
