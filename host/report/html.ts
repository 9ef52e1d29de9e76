// The report page: one self-contained HTML file (inline CSS, SVG and script; it loads
// nothing). renderReport() turns the measured ReportData into the page; the same data
// is embedded as JSON (#nnfpga-data), and every number the page shows from it carries
// data-k="path.in.the.json" so a test can compare what is shown with what was measured.
import { format } from 'd3-format';
import type { BoardLayerInfo } from '../board-info.ts';
import {
  confusionMatrix,
  esc,
  groupedBars,
  roofline,
  shortName,
  wireBar,
  type RooflinePoint,
} from './charts.ts';
import type { ReportData } from './data.ts';
import { PLAYER_JS } from './player.ts';

type Fmt = 'int' | 'f1' | 'f2' | 'pct';
const FMT: Record<Fmt, (v: number) => string> = {
  int: (v) => format(',d')(Math.round(v)),
  f1: format(',.1f'),
  f2: format(',.2f'),
  pct: (v) => `${format('.1f')(100 * v)} %`,
};

/** A number from the data, shown and tagged with its JSON path. */
function v(path: string, value: number | null | undefined, fmt: Fmt = 'int'): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '<span class="na">–</span>';
  const scale = fmt === 'pct' ? ' data-scale="100"' : '';
  return `<span data-k="${path}"${scale}>${FMT[fmt](value)}</span>`;
}

const n0 = (x: number) => format(',d')(Math.round(x));

/** The textbook formula behind a layer's parameter and MAC counts, with its numbers. */
function formula(l: BoardLayerInfo): string {
  const op = l.op;
  if (l.host)
    return `host step: ${op} applied by the host, in float, to the dequantized output; nothing on the device, 0 MACs`;
  if (l.weights > 0 && l.output.length === 3 && l.input.length === 3) {
    const [k, oh, ow] = l.output;
    const d = l.input[0];
    const g = l.group ?? 1;
    const [kh, kw] = l.kernel ?? [0, 0];
    // F·F from the kernel; without it, from the counts
    const fs = kh > 0 ? `${kh}·${kw}` : `${(l.weights * g) / (k * d)}`;
    const what =
      g === 1
        ? `conv: K·F·F·D = ${k}·${fs}·${d}`
        : g === d && k === d
          ? `depthwise conv${/BatchNormalization/.test(op) && kh === 1 ? ' (a BatchNormalization: per-channel scale)' : ''}: K·F·F = ${k}·${fs}`
          : `grouped conv (${g} groups): K·F·F·D/G = ${k}·${fs}·${d}/${g}`;
    return (
      `${what} = ${n0(l.weights)} weights` +
      (l.biases ? ` + K = ${l.biases} biases` : '') +
      `; MACs = weights · OH·OW = ${n0(l.weights)} · ${n0(oh * ow)}: each weight reused ${n0(oh * ow)}×`
    );
  }
  if (l.weights > 0) {
    const nOut = l.output.reduce((a, b) => a * b, 1);
    const m = l.weights / nOut;
    return (
      `dense: N·M = ${nOut}·${n0(m)} = ${n0(l.weights)} weights` +
      (l.biases ? ` + N = ${l.biases} biases` : '') +
      `; 2NM = ${n0(2 * l.weights)} FLOPs; each weight used once: ${n0(l.weights)} weight bytes for ${n0(m)} input bytes (N = ${nOut}-fold)`
    );
  }
  if (/pool/i.test(op)) return `no parameters: ${op} over windows, int8 in, int8 out`;
  if (op === 'Add')
    return 'no parameters: residual add, y = requant(w_a·(a − a_zp) + w_b·(b − b_zp)) per element, on the array as a CONV; 0 MACs counted';
  if (op === 'Concat')
    return 'no parameters: each input requantized into its channels of the output (a CONV on the array); 0 MACs counted';
  if (op === 'Pad') return 'no parameters: zero padding of H and W (a copy with the pads); 0 MACs counted';
  return 'no parameters, no data moved (a new shape over the same values)';
}

const CSS = `
:root{--fg:#1d2330;--mut:#5b6475;--bg:#fff;--line:#e2e6ee;--acc:#2f6fdf;--acc2:#e0812b;--ok:#2a9d5c;--bad:#c8414b;--soft:#f5f7fb}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1080px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;border-bottom:2px solid var(--line);padding-bottom:4px}
p.lead,.mut{color:var(--mut)}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}.card{flex:1 1 150px;background:var(--soft);border-radius:8px;padding:10px 14px}
.card .big{font-size:22px;font-weight:600}.card .lbl{color:var(--mut);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.fits{color:var(--ok)}.nofit{color:var(--bad)}
table{border-collapse:collapse;width:100%;margin:8px 0;font-variant-numeric:tabular-nums}
th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:right;vertical-align:top}th{background:var(--soft);font-weight:600}
td.l,th.l{text-align:left}td.formula{text-align:left;color:var(--mut);font-size:12px;max-width:380px}
.na{color:#aab}
.tag{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;background:#eef2fb}
.tag.array{background:#dff3e6}.tag.weights{background:#fde9d6}.tag.requantizer{background:#efe3fa}.tag.wire{background:#fbe1e3}
svg.chart{max-width:100%;height:auto;font:11px system-ui,sans-serif}
svg .grid{stroke:#edf0f5}svg .tick{fill:var(--mut)}svg .axis{fill:var(--fg);font-size:12px}
svg .roof{fill:none;stroke:#1d2330;stroke-width:2}svg .roof-label{font-size:11px;fill:#1d2330}
svg .measured{fill:var(--acc)}svg .ideal{fill:#fff;stroke:var(--acc);stroke-width:2}svg .drop{stroke:var(--acc);stroke-dasharray:3 3}
svg .pt-label{font-weight:600}svg .legend-layer{font-size:10px;fill:var(--mut)}
svg rect.m{fill:var(--acc)}svg rect.e{fill:#9bb8ec}svg rect.i{fill:#cfd6e3}svg rect.s{fill:var(--acc2)}svg rect.s2{fill:#f2c59b}
svg .val{fill:var(--mut);font-size:10px}svg .cat{fill:var(--fg)}
svg rect.diag{fill:var(--ok)}svg rect.off{fill:var(--bad)}svg .cm-val{font-size:10px}svg .cm-val.light{fill:#fff}
svg rect.wout{fill:#c8414b}svg rect.comp{fill:var(--acc)}svg rect.win{fill:#e0812b}svg .wire-label{font-size:12px}
.two{display:grid;grid-template-columns:1fr 1fr;gap:20px}@media(max-width:900px){.two{grid-template-columns:1fr}}
.explain{background:var(--soft);border-left:4px solid var(--acc);padding:8px 14px;border-radius:4px}
#anim svg{font:11px ui-monospace,Menlo,Consolas,monospace}
#anim .pe rect{fill:#f3f4f7;stroke:#c9cfdb}#anim .pe.on rect{fill:#d9e6fb;stroke:var(--acc)}
#anim .pe .pw{fill:#8a4b08}#anim .pe .px{fill:#1d4f9c}#anim .pe .pp{fill:#1d2330;font-weight:600}
#anim .lane rect,#anim rect.lane{fill:#f3f4f7;stroke:#c9cfdb}#anim .lane.on{fill:#ffe8c7;stroke:var(--acc2)}
#anim .wrow{fill:none;stroke:none}#anim .wrow.on{fill:none;stroke:var(--acc2);stroke-width:3}
#anim .lbl{fill:var(--mut);font-family:system-ui,sans-serif}
.controls{display:flex;gap:8px;align-items:center;margin:8px 0}.controls button{font:inherit;padding:4px 12px;border:1px solid #b8c2d6;border-radius:6px;background:#fff;cursor:pointer}
.controls input[type=range]{flex:1}
footer{margin-top:40px;color:var(--mut);font-size:12px}
`;

function layerTable(d: ReportData): string {
  const rows = d.info.layers
    .map(
      (
        l,
        i,
      ) => `<tr><td class="l">${esc(shortName(l.name))}</td><td class="l">${esc(l.op)}${l.activation ? `+${esc(l.activation)}` : ''}</td>
<td class="l">[${l.input.join('×')}] → [${l.output.join('×')}]</td><td>${v(`info.layers.${i}.weights`, l.weights)}</td><td>${v(`info.layers.${i}.biases`, l.biases)}</td>
<td>${v(`info.layers.${i}.params`, l.params)}</td><td>${v(`info.layers.${i}.macs`, l.macs)}</td><td>${v(`info.layers.${i}.weight_bytes_int8`, l.weight_bytes_int8)}</td>
<td>${v(`info.layers.${i}.activation_bytes_int8`, l.activation_bytes_int8)}</td><td class="formula">${esc(formula(l))}</td></tr>`,
    )
    .join('\n');
  const t = d.info.total;
  return `<table id="layers"><thead><tr><th class="l">layer</th><th class="l">op</th><th class="l">shape</th><th>weights</th><th>biases</th><th>params</th><th>MACs</th><th>weight B (int8)</th><th>output B (int8)</th><th class="l">where the numbers come from</th></tr></thead>
<tbody>${rows}<tr><th class="l" colspan="3">total</th><th>${v('info.total.weights', t.weights)}</th><th>${v('info.total.biases', t.biases)}</th><th>${v('info.total.params', t.params)}</th><th>${v('info.total.macs', t.macs)}</th><th>${v('info.total.weight_bytes_int8', t.weight_bytes_int8)}</th><th>${v('info.total.activation_bytes_int8', t.activation_bytes_int8)}</th><th></th></tr></tbody></table>`;
}

function cyclesSection(d: ReportData): string {
  const n = d.info.layers.find((l) => l.ideal_cycles !== null) ? Number(d.info.array.split('x')[0]) : 0;
  const p = d.profile;
  const rows = d.info.layers.map((l, i) => ({ l, i })).filter(({ l }) => l.estimated_cycles !== null);
  const measuredOf = (name: string) => p?.layers.findIndex((x) => x.name === name) ?? -1;
  const body = rows
    .map(({ l, i }) => {
      const k = measuredOf(l.name);
      const pl = k >= 0 ? p!.layers[k] : null;
      return `<tr><td class="l">${esc(shortName(l.name))}</td><td>${v(`info.layers.${i}.macs`, l.macs)}</td>
<td>${pl ? v(`profile.layers.${k}.cycles`, pl.cycles) : '<span class="na">–</span>'}</td><td>${v(`info.layers.${i}.estimated_cycles`, l.estimated_cycles)}</td>
<td>${v(`info.layers.${i}.ideal_cycles`, l.ideal_cycles)}</td><td>${pl ? v(`profile.layers.${k}.utilization`, pl.utilization, 'pct') : l.estimated_cycles && l.ideal_cycles !== null ? FMT.pct(l.ideal_cycles / l.estimated_cycles) : ''}</td>
<td class="l"><span class="tag ${l.compute_bound}">${l.compute_bound}</span></td></tr>`;
    })
    .join('\n');
  const chart = groupedBars(
    rows.map(({ l }) => l.name),
    [
      ...(p
        ? [
            {
              label: 'measured (CNT)',
              cls: 'm',
              values: rows.map(({ l }) => p.layers.find((x) => x.name === l.name)?.cycles ?? null),
            },
          ]
        : []),
      { label: 'estimated', cls: 'e', values: rows.map(({ l }) => l.estimated_cycles) },
      { label: 'ideal = MACs / N²', cls: 'i', values: rows.map(({ l }) => l.ideal_cycles) },
    ],
    'cycles',
  );
  return `<h2 id="cycles">Where the cycles go</h2>
<p class="mut">Per layer on the ${esc(d.info.target)} configuration (${esc(d.info.array)} array, N = ${n}): ${p ? "measured by the device's own counters (CNT space) after one inference, " : ''}the compiler's estimate (the controller's documented schedule replayed period by period) and the ideal, every PE busy every cycle. Utilization = ideal / ${p ? 'measured' : 'estimated'}.</p>
${chart}
<table id="cycle-table"><thead><tr><th class="l">layer</th><th>MACs</th><th>measured</th><th>estimated</th><th>ideal</th><th>utilization</th><th class="l">bound</th></tr></thead><tbody>${body}</tbody></table>`;
}

function rooflineSection(d: ReportData): string {
  const n = Number(d.info.array.split('x')[0]);
  const pts: RooflinePoint[] = [];
  for (const l of d.info.layers) {
    if (l.macs === 0 || l.weights === 0 || l.estimated_cycles === null) continue;
    const pl = d.profile?.layers.find((x) => x.name === l.name);
    const cycles = pl?.cycles ?? l.estimated_cycles;
    const intensity = l.macs / l.weights;
    pts.push({ name: l.name, intensity, measured: l.macs / cycles, ideal: Math.min(n * n, n * intensity) });
  }
  const conv = pts.filter((p) => p.intensity >= n).sort((a, b) => b.measured - a.measured)[0];
  const dense = pts.filter((p) => p.intensity < n)[0];
  const lines: string[] = [];
  if (conv)
    lines.push(
      `<b>${esc(shortName(conv.name))}</b> uses each weight ${n0(conv.intensity)} times (once per output pixel), far right of the ridge at ${n} MACs per byte: the weight memory could feed far more than the array computes, so the array's ${n * n} MACs per cycle is the roof; it reaches ${format('.1f')(conv.measured)}.`,
    );
  if (dense)
    lines.push(
      `<b>${esc(shortName(dense.name))}</b> at batch 1 uses each weight once (${format('.2~f')(dense.intensity)} MACs per byte): every cycle brings one WMEM word of ${n} weight bytes, so at most ${format('.2~f')(dense.ideal)} of the ${n * n} PEs can work. That is the weight-bandwidth roof, not a flaw of the array: only reuse (a batch, or a convolution) lifts it.`,
    );
  return `<h2 id="roofline">Roofline of the ${esc(d.info.array)} array</h2>
<div class="two"><div>${roofline(pts, n, d.profile ? 'measured' : 'estimated')}</div>
<div class="explain"><p>Performance is bounded by two ceilings: the array (N² = ${n * n} MACs per cycle) and the weight memory, which delivers N = ${n} bytes per cycle, so a layer doing I MACs per weight byte can do at most N·I MACs per cycle. The points are this model's layers (hollow: the roof at their reuse; filled: ${d.profile ? 'measured' : 'estimated'}).</p>${lines.map((l) => `<p>${l}</p>`).join('')}</div></div>`;
}

function sqnrSection(d: ReportData): string {
  const s = d.sqnr;
  if (!s)
    return `<h2 id="sqnr">Quantization error</h2><p class="mut">No float reference (the quantized model's ONNX source was not found).</p>`;
  const rows = s.layers
    .map(
      (
        l,
        i,
      ) => `<tr><td class="l">${esc(shortName(l.name))}</td><td>${v(`sqnr.layers.${i}.sqnr_db`, l.sqnr_db, 'f1')}</td><td>${v(`sqnr.layers.${i}.max_error_lsb`, l.max_error_lsb, 'f2')}</td>
<td>${v(`sqnr.layers.${i}.layer_sqnr_db`, l.layer_sqnr_db, 'f1')}</td><td>${v(`sqnr.layers.${i}.layer_max_error_lsb`, l.layer_max_error_lsb, 'f2')}</td></tr>`,
    )
    .join('\n');
  const chart = groupedBars(
    s.layers.map((l) => l.name),
    [
      { label: 'SQNR from the input', cls: 's', values: s.layers.map((l) => l.sqnr_db) },
      { label: 'this layer alone', cls: 's2', values: s.layers.map((l) => l.layer_sqnr_db) },
    ],
    'dB',
    format('.1f'),
  );
  return `<h2 id="sqnr">Quantization error per layer</h2>
<p class="mut">int8 (the integer reference, bit-exact with the device) against float, on the ${d.inputs} inputs: SQNR = 10·log10(Σf² / Σ(f − int8)²) and the largest error in output LSBs. "From the input": both references run end to end (errors accumulate); "alone": the layer's int8 arithmetic on the float reference's input to it.${s.worst_layer ? ` The layer that loses the most: <b id="worst-layer">${esc(s.worst_layer)}</b>.` : ''}</p>
${chart}
<table id="sqnr-table"><thead><tr><th class="l">layer</th><th>SQNR dB</th><th>max err LSB</th><th>alone: SQNR dB</th><th>alone: max err LSB</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function evalSection(d: ReportData): string {
  const e = d.eval;
  if (!e) return '';
  const per = e.per_class
    .map((a, c) => `<tr><td class="l">${c}</td><td>${v(`eval.per_class.${c}`, a, 'pct')}</td></tr>`)
    .join('');
  return `<h2 id="confusion">Accuracy and confusion matrix</h2>
<p class="mut">${d.inputs} labelled inputs. Accuracy: float ${v('eval.accuracy.float', e.accuracy.float, 'pct')}, int8 ${v('eval.accuracy.int8', e.accuracy.int8, 'pct')}${e.accuracy.device !== null ? `, device ${v('eval.accuracy.device', e.accuracy.device, 'pct')}` : ''}. Rows: true label; columns: the ${e.predicted_by === 'device' ? "device's" : "integer reference's"} prediction.</p>
<div class="two"><div>${confusionMatrix(e.confusion, e.predicted_by)}</div><div><table id="per-class"><thead><tr><th class="l">class</th><th>accuracy</th></tr></thead><tbody>${per}</tbody></table></div></div>`;
}

function wireSection(d: ReportData): string {
  const p = d.profile;
  const w = p ?? d.info.inference;
  const base = p ? 'profile' : 'info.inference';
  const cpb = p ? p.clocks_per_bit : d.info.inference.clocks_per_bit;
  return `<h2 id="wire">One inference: wire against compute</h2>
<p class="mut">${p ? 'Measured on the device: the link' : 'Estimated from the frames the host sends: the link'} moves ${v(`${base}.wire_bytes_out`, w.wire_bytes_out)} bytes out and ${v(`${base}.wire_bytes_in`, w.wire_bytes_in)} bytes in per inference; at ${cpb} clocks per UART bit that is bytes × 10 × ${cpb} cycles, beside the ${v(`${base}.compute_cycles`, w.compute_cycles)} cycles the device computes (RUN/INFER's count).</p>
${wireBar([
  { label: 'wire out', cls: 'wout', cycles: w.wire_out_cycles },
  { label: 'compute', cls: 'comp', cycles: w.compute_cycles },
  { label: 'wire in', cls: 'win', cycles: w.wire_in_cycles },
])}
<table id="wire-table"><thead><tr><th class="l"></th><th>wire out</th><th>compute</th><th>wire in</th></tr></thead><tbody><tr><td class="l">cycles</td><td>${v(`${base}.wire_out_cycles`, w.wire_out_cycles)}</td><td>${v(`${base}.compute_cycles`, w.compute_cycles)}</td><td>${v(`${base}.wire_in_cycles`, w.wire_in_cycles)}</td></tr></tbody></table>
<p>This inference is <b>${w.bound}-bound</b>.</p>`;
}

function buildSection(d: ReportData): string {
  if (d.builds.length === 0)
    return `<h2 id="build">Board build</h2><p class="mut">No board build yet: <code>nnfpga build --board icebreaker</code> writes build/BOARD/build.json, which this report reads.</p>`;
  const rows = d.builds
    .map((b, i) => {
      const r = b.resources;
      const u = (k: keyof typeof r) =>
        `${v(`builds.${i}.resources.${k}.used`, r[k].used)} / ${v(`builds.${i}.resources.${k}.available`, r[k].available)}`;
      return `<tr><td class="l">${esc(b.board)} (${esc(b.device)})</td><td>${u('logic_cells')}</td><td>${u('dsp')}</td><td>${u('ebr')}</td><td>${u('spram')}</td>
<td>${v(`builds.${i}.fmax_mhz`, b.fmax_mhz, 'f2')} MHz</td><td>${v(`builds.${i}.target_mhz`, b.target_mhz, 'f1')} MHz</td><td class="l">${b.timing_met ? 'met' : 'MISSED'}</td></tr>`;
    })
    .join('');
  return `<h2 id="build">Board build (the last <code>nnfpga build</code>)</h2>
<table id="build-table"><thead><tr><th class="l">board</th><th>logic cells</th><th>DSP</th><th>EBR</th><th>SPRAM</th><th>Fmax</th><th>target</th><th class="l">timing</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** What the animated layer does on the array, by kind. */
function animationText(a: NonNullable<ReportData['animation']>): string {
  const grouped = a.grouped
    ? ' It is grouped: output group g reads input group g only, with diagonal weight tiles, so only the N diagonal PEs multiply by non-zero weights.'
    : '';
  if (a.kind === 'dense')
    return `A dense layer at batch 1 has one pixel: each weight tile of N×N weights meets one activation vector and is replaced N cycles later, so only one beat in N carries data.`;
  if (a.max)
    return `A max pool runs on the array like a convolution: identity weight tiles (1 on the diagonal) pass every tap of the window through, and the accumulator keeps the maximum of the taps instead of their sum; the requantizer passes it on with M = 1.${grouped}`;
  if (a.kind === 'conv')
    return `A convolution feeds a new pixel every cycle through the same weight tile, so once the pipeline fills every PE works on a real activation.${grouped}`;
  return `This ${esc(a.kind)} layer runs on the array as a CONV descriptor with fixed weights (a copy, a weighted sum of two tensors or a window average), fed a new pixel every cycle like a convolution; the window shows the first descriptor that writes its output.${grouped}`;
}

function animationSection(d: ReportData): string {
  const a = d.animation;
  if (!a) return '';
  const n = a.n;
  const c = n <= 4 ? 92 : 64;
  const x0 = 130;
  const y0 = 24;
  const f = a.frames[0];
  const lane = (id: string, x: number, y: number, w: number, text: string) =>
    `<g><rect id="${id}-box" class="lane" x="${x}" y="${y}" width="${w}" height="20" rx="3"/><text id="${id}" x="${x + w / 2}" y="${y + 14}" text-anchor="middle">${text}</text></g>`;
  const parts: string[] = [];
  const W = x0 + n * c + 40;
  const gridBottom = y0 + n * c;
  const H = gridBottom + 200;
  parts.push(`<svg id="anim-svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}">`);
  parts.push(
    `<text class="lbl" x="${x0}" y="${y0 - 40}">weights resident in the PEs (w), activations moving east (x), partial sums moving south (bold)</text>`,
  );
  parts.push(`<text id="anim-wload" class="lbl" x="${x0}" y="${y0 - 22}"></text>`);
  parts.push(`<text class="lbl" x="6" y="${y0 - 8}">activation in</text>`);
  for (let i = 0; i < n; i++) {
    parts.push(lane(`west-${i}`, 8, y0 + i * c + c / 2 - 10, 56, String(f.west.x[i])));
    // skew: lane i waits i cycles before PE(i, 0)
    parts.push(`<text class="lbl" x="70" y="${y0 + i * c + c / 2 + 4}">${i === 0 ? '→' : `+${i} →`}</text>`);
    parts.push(
      `<rect id="wrow-${i}" class="wrow" x="${x0 - 3}" y="${y0 + i * c - 1}" width="${n * c + 4}" height="${c + 2}"/>`,
    );
    for (let j = 0; j < n; j++) {
      const x = x0 + j * c;
      const y = y0 + i * c;
      parts.push(
        `<g id="pe-${i}-${j}" class="pe${f.valid[i][j] ? ' on' : ''}"><rect x="${x + 2}" y="${y + 2}" width="${c - 4}" height="${c - 4}" rx="6"/>` +
          `<text id="pe-${i}-${j}-w" class="pw" x="${x + 8}" y="${y + 18}">w ${f.w[i][j]}</text>` +
          `<text id="pe-${i}-${j}-x" class="px" x="${x + 8}" y="${y + 34}">x ${f.x[i][j]}</text>` +
          `<text id="pe-${i}-${j}-p" class="pp" x="${x + c - 8}" y="${y + c - 10}" text-anchor="end">${f.p[i][j]}</text></g>`,
      );
    }
  }
  const rowY = (k: number) => gridBottom + 16 + k * 42;
  parts.push(`<text class="lbl" x="6" y="${rowY(0) + 14}">column sums</text>`);
  parts.push(`<text class="lbl" x="6" y="${rowY(1) + 14}">accumulator</text>`);
  parts.push(`<text class="lbl" x="6" y="${rowY(2) + 14}">requantized</text>`);
  for (let j = 0; j < n; j++) {
    parts.push(lane(`south-${j}`, x0 + j * c + 4, rowY(0), c - 8, String(f.south.psum[j])));
    parts.push(lane(`acc-${j}`, x0 + j * c + 4, rowY(1), c - 8, f.acc ? String(f.acc[j]) : ''));
    parts.push(lane(`out-${j}`, x0 + j * c + 4, rowY(2), c - 8, f.out ? String(f.out[j]) : ''));
  }
  parts.push(`<text id="anim-south-tag" class="lbl" x="${x0}" y="${rowY(0) + 34}"></text>`);
  // busy PEs over the window, and a cursor at the shown cycle
  const sy = rowY(3) + 8;
  const sw = n * c;
  const dx = sw / Math.max(1, a.frames.length - 1);
  const busy = a.frames.map((fr) => fr.valid.flat().reduce((s, b) => s + b, 0));
  const pts = busy
    .map((b, k) => `${(x0 + k * dx).toFixed(1)},${(sy + 36 - (36 * b) / (n * n)).toFixed(1)}`)
    .join(' ');
  parts.push(
    `<text class="lbl" x="6" y="${sy + 20}">PEs busy</text><rect x="${x0}" y="${sy}" width="${sw}" height="36" fill="#f5f7fb"/>`,
  );
  parts.push(`<polyline points="${pts}" fill="none" stroke="#2f6fdf" stroke-width="1.5"/>`);
  parts.push(
    `<line id="anim-cursor" data-x0="${x0}" data-dx="${dx}" x1="${x0}" x2="${x0}" y1="${sy - 2}" y2="${sy + 38}" stroke="#e0812b" stroke-width="2"/>`,
  );
  parts.push('</svg>');
  const meanBusy = busy.reduce((s, b) => s + b, 0) / busy.length / (n * n);
  const pl = d.profile?.layers[a.layer_index];
  return `<h2 id="animation">Watch it compute: ${esc(shortName(a.layer))} on the ${n}×${n} array</h2>
<p class="mut">Every number below is a register of the real RTL (npu_core in Verilator, the same Verilog as the bitstream) in a ${a.frames.length}-cycle window of this layer, read from a VCD trace: the weight each PE holds, the activation it multiplied this cycle (a real one when the PE is blue, a bubble otherwise), the partial sum it passes south; activations enter lane i after the array's input register and i cycles of skew, the column sums leave deskewed, the accumulator adds the weight tiles of a pixel (a max pool's keeps their maximum) and its last tile goes through the requantizer to int8. Trace: ${esc(a.vcd.split('/').slice(-2).join('/'))}.</p>
<p class="explain">In this window ${format('.0%')(meanBusy)} of the PEs held a real activation on average${pl ? `; over the whole layer the device counted ${format('.1%')(pl.utilization)} utilization` : ''}. ${animationText(a)}</p>
<div class="controls"><button id="anim-back" type="button">◀ step</button><button id="anim-play" type="button">play</button><button id="anim-step" type="button">step ▶</button>
<input id="anim-slider" type="range" min="0" max="${a.frames.length - 1}" value="0"><select id="anim-speed"><option value="400">slow</option><option value="150" selected>normal</option><option value="40">fast</option></select></div>
<p>cycle <b id="anim-cycle">${f.cycle}</b> of the run (layer cycle <span id="anim-layer-cycle">${f.layer_cycle}</span>, frame <span id="anim-index">1 / ${a.frames.length}</span>) · controller: <span id="anim-state">${esc(f.state)}</span> · PEs busy: <span id="anim-busy"></span></p>
<p class="mut">Each PE: its resident weight <b>w</b>, the activation <b>x</b> it multiplied this cycle (moving east), and the partial sum it passes south (bold). Weight loads: <span id="anim-wload"></span></p>
<div id="anim">${parts.join('')}</div>`;
}

export function renderReport(d: ReportData): string {
  const fit = d.info;
  const p = d.profile;
  const json = JSON.stringify(d).replace(/</g, '\\u003c');
  const cards = [
    `<div class="card"><div class="lbl">fits ${esc(fit.target)}</div><div class="big ${fit.fits ? 'fits' : 'nofit'}" id="fits">${fit.fits ? 'yes' : 'no'}</div>${fit.fit_reason ? `<div class="mut">${esc(fit.fit_reason)}</div>` : ''}</div>`,
    `<div class="card"><div class="lbl">cycles / inference</div><div class="big">${p ? v('profile.compute_cycles', p.compute_cycles) : v('info.estimated_run_cycles', fit.estimated_run_cycles)}</div><div class="mut">${p ? 'measured' : 'estimated'}; ideal ${v('info.total.macs', fit.total.macs)} MACs / ${Number(fit.array.split('x')[0]) ** 2}</div></div>`,
    `<div class="card"><div class="lbl">one inference is</div><div class="big">${(p ?? fit.inference).bound}-bound</div></div>`,
    ...(d.eval
      ? [
          `<div class="card"><div class="lbl">accuracy (${d.eval.predicted_by})</div><div class="big">${v(`eval.accuracy.${d.eval.predicted_by}`, d.eval.accuracy[d.eval.predicted_by], 'pct')}</div></div>`,
        ]
      : []),
    ...(d.run.mismatches !== null
      ? [
          `<div class="card"><div class="lbl">device vs int8 reference</div><div class="big">${v('run.mismatches', d.run.mismatches)}</div><div class="mut">mismatching output elements</div></div>`,
        ]
      : []),
  ];
  const mem = Object.entries(fit.memory)
    .map(
      ([s, m]) =>
        `<tr><td class="l">${s}</td><td>${v(`info.memory.${s}.needed`, m.needed)}</td><td>${v(`info.memory.${s}.available`, m.available)}</td><td>${FMT.pct(m.needed / m.available)}</td></tr>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>nnfpga report: ${esc(d.model)}</title><style>${CSS}</style></head>
<body><main>
<h1>nnfpga report: ${esc(d.model.split('/').pop() ?? d.model)}</h1>
<p class="lead">${esc(fit.target)} configuration, ${esc(fit.array)} int8 systolic array${d.device ? `; run on the ${esc(d.device)}` : '; no device run (estimates)'}; ${d.inputs} inputs from ${esc(d.input)}; calibration: ${esc(d.calibration)}.</p>
<div class="cards">${cards.join('')}</div>
<h2 id="arith">Layer arithmetic</h2>
<p class="mut">What each layer costs, from the textbook formulas: a dense layer with M inputs and N outputs has N·M weights and N biases and does N·M MACs (2NM FLOPs), each weight used once; a convolution with K kernels of F×F over D channels has K·F·F·D weights and K biases, and reuses every weight at each of its OH·OW output pixels.</p>
${layerTable(d)}
<h2 id="memory">Memory against the configuration</h2>
<table id="memory-table"><thead><tr><th class="l">space</th><th>needed B</th><th>available B</th><th>used</th></tr></thead><tbody>${mem}</tbody></table>
${cyclesSection(d)}
${rooflineSection(d)}
${sqnrSection(d)}
${evalSection(d)}
${wireSection(d)}
${buildSection(d)}
${animationSection(d)}
<footer>Written by nnfpga report. Every figure is measured (device counters, link counters, Verilator trace) or computed by the compiler from the model; the data is embedded below as JSON.</footer>
</main>
<script type="application/json" id="nnfpga-data">${json}</script>
<script>${PLAYER_JS}</script>
</body></html>
`;
}
