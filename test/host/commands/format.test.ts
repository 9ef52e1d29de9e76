// The text commands print for people: info fits 100 columns unless --wide, verdicts in
// colour only when asked, and the --json layout (one line per record, still JSON).
import { describe, expect, it } from 'vitest';
import type { BuildResult } from '../../../host/board/build.ts';
import { BOARDS } from '../../../host/board/boards.ts';
import { formatBench } from '../../../host/commands/bench.ts';
import { formatBuild } from '../../../host/commands/build.ts';
import { colors, colorWanted, plain } from '../../../host/commands/color.ts';
import { formatEval, formatConfusion } from '../../../host/commands/eval.ts';
import { formatInfo, INFO_WIDTH, shorten } from '../../../host/commands/info.ts';
import { formatJson } from '../../../host/commands/json.ts';
import { formatPorts } from '../../../host/commands/ports.ts';
import { formatRun } from '../../../host/commands/run.ts';
import { floatModelInfo, type ModelInfo } from '../../../host/info.ts';
import { loadOnnx } from '../../../host/onnx/import.ts';
import type { EvalReport, RunReport } from '../../../host/run.ts';
import { fixture } from '../helpers.ts';

const ANSI = /\x1b\[[0-9;]*m/;
const width = (text: string) => Math.max(...text.split('\n').map((l) => [...l].length));

function runReport(mismatches: number | null): RunReport {
  const result = (i: number) => ({
    index: i,
    output: mismatches === null ? null : [0.5, 1.25],
    prediction: 1,
    reference_output: [0.5, 1.25],
    float_output: [0.49, 1.3],
    reference_prediction: 1,
    float_prediction: 1,
    output_q: null,
    reference_output_q: [4, 10],
    cycles: mismatches === null ? null : 100,
  });
  return {
    results: Array.from({ length: 12 }, (_, i) => result(i)),
    summary: {
      inputs: 12,
      mismatches,
      mismatched_inputs: mismatches ? 1 : mismatches,
      first_divergence: mismatches
        ? {
            input: 3,
            layer: 1,
            layer_name: 'fc',
            element: 0,
            device: 5,
            reference: 4,
            error_lsb: 1,
            differing: 1,
          }
        : null,
      cycles_per_inference: mismatches === null ? null : 100,
      link: null,
      int8_float_agreement: 11 / 12,
      int8_float_max_abs_error: 0.05,
      calibration: 'calib.npy',
    },
  };
}

describe('info', () => {
  it('fits 100 columns by default for both examples, and --wide shows every column', () => {
    for (const m of ['cnn_a.onnx', 'mlp.onnx']) {
      const info = floatModelInfo(loadOnnx(fixture(m)));
      expect(width(formatInfo(info))).toBeLessThanOrEqual(INFO_WIDTH);
      const wide = formatInfo(info, { wide: true });
      for (const h of ['input', 'weights', 'biases', 'FLOPs', 'W fp32 B', 'act fp32 B'])
        expect(wide).toContain(h);
      expect(width(wide)).toBeGreaterThan(INFO_WIDTH);
    }
  });

  it('shortens long layer names in the middle to stay within 100 columns, and keeps them whole with --wide', () => {
    const info: ModelInfo = floatModelInfo(loadOnnx(fixture('cnn_a.onnx')));
    const long = '/features/features.12/features.12.conv/features.12.conv.3/Conv';
    info.layers[0].name = long;
    const text = formatInfo(info);
    expect(width(text)).toBeLessThanOrEqual(INFO_WIDTH);
    expect(text).toMatch(/\/features\/.*….*conv\.3\/Conv/);
    expect(formatInfo(info, { wide: true })).toContain(long);
    expect(text).toContain('290,080');
  });

  it('shorten keeps both ends', () => {
    expect(shorten('abcdefghij', 5)).toBe('ab…ij');
    expect(shorten('abc', 5)).toBe('abc');
  });
});

describe('run and eval text', () => {
  it('shows ten inputs then how many more, the agreement as a share, and the verdict', () => {
    const text = formatRun(runReport(0));
    expect(text.split('\n').filter((l) => l.startsWith('#'))).toHaveLength(10);
    expect(text).toContain('... 2 more (--verbose shows every input, --json every value)');
    expect(text).toContain('int8 and float pick the same class on 91.7 % (11/12)');
    expect(text).toContain('device = integer reference, bit for bit, on all 12 inputs');
    expect(
      formatRun(runReport(0), { all: true })
        .split('\n')
        .filter((l) => l.startsWith('#')),
    ).toHaveLength(12);
  });

  it('says there is no device without a target, and names the first divergence when the device differs', () => {
    expect(formatRun(runReport(null))).toContain('device: none (give --sim or --port PATH');
    const bad = formatRun(runReport(3));
    expect(bad).toContain('device DIFFERS from the integer reference: 3 output elements on 1 of 12 inputs');
    expect(bad).toContain(
      'first divergence: input #3, layer 1 (fc), element 0: device 5, reference 4 (+1 LSB',
    );
  });

  it('colours the verdict green or red only when colour is on', () => {
    expect(formatRun(runReport(0))).not.toMatch(ANSI);
    const green = formatRun(runReport(0), { colors: colors(true) });
    expect(green).toContain(colors(true).green(colors(true).bold('device = integer reference, bit for bit')));
    const red = formatRun(runReport(3), { colors: colors(true) });
    expect(red).toContain(colors(true).red(colors(true).bold('device DIFFERS from the integer reference')));
  });

  it("eval prints accuracies, and the confusion matrix with each class's accuracy", () => {
    const r: EvalReport = {
      summary: {
        inputs: 4,
        accuracy: { float: 0.75, int8: 0.5, device: null },
        mismatches: null,
        mismatched_inputs: null,
        first_divergence: null,
        link: null,
        int8_float_agreement: 0.75,
        cycles_per_inference: null,
        per_class: [1, 0, null],
        confusion: [
          [2, 0, 0],
          [1, 0, 1],
          [0, 0, 0],
        ],
        predictions_of: 'int8',
        dataset: 'mine.npy',
        calibration: 'calib.npy',
      },
    };
    const text = formatEval(r);
    expect(text).toContain('accuracy  float 75.00 %  int8 50.00 %  device -');
    expect(text).toContain(
      'confusion matrix and accuracy per class (the integer reference (no device); rows: true label, columns: prediction):',
    );
    expect(text.split('\n').slice(-4)).toEqual([
      'true\\pred     0    1    2  accuracy',
      '0             2    0    0   100.0 %',
      '1             1    0    1     0.0 %',
      '2             0    0    0         -',
    ]);
    expect(formatConfusion(r.summary.confusion, r.summary.per_class, colors(true))[1]).toMatch(ANSI);
  });
});

describe('build, bench and ports text', () => {
  const build = (met: boolean): BuildResult => ({
    board: 'icebreaker',
    device: 'iCE40UP5K-SG48',
    bitstream: 'build/icebreaker/icebreaker.bin',
    fmax_mhz: met ? 33.5 : 28.1,
    icetime_mhz: met ? 31.2 : 29.4,
    target_mhz: 30,
    timing_met: met,
    resources: {
      logic_cells: { used: 4400, available: 5280 },
      dsp: { used: 8, available: 8 },
      ebr: { used: 20, available: 30 },
      spram: { used: 4, available: 4 },
      io: { used: 4, available: 39 },
      pll: { used: 1, available: 1 },
      global_buffers: { used: 4, available: 8 },
    },
    core: BOARDS.icebreaker.core,
    clock_mhz: 30,
    peak_macs_per_s: 16 * 30e6,
    seconds: { synth: 60, pnr: 400, pack: 1, icetime: 2, total: 463 },
    logs: { yosys: 'y.log', nextpnr: 'n.log', report: 'r.json', icetime: 'i.log' },
  });

  it('build shows resources against the device and timing met or MISSED, in colour when on', () => {
    const text = formatBuild(build(true));
    expect(text).toMatch(/logic cells +4400 \/ 5280 +83%/);
    expect(text).toContain('Fmax         33.50 MHz nextpnr, 31.20 MHz icetime (target 30 MHz: met)');
    expect(formatBuild(build(false))).toContain('MISSED');
    expect(formatBuild(build(false), colors(true))).toContain(colors(true).red('MISSED'));
  });

  it('bench marks a model that is not bit-exact NO, in red when colour is on', () => {
    const r = {
      layers: [],
      models: [
        {
          model: 'a',
          config: 'sim 8x8',
          macs: 64,
          cycles: 2,
          ideal_cycles: 1,
          utilization: 0.5,
          ideal_ratio: 2,
          latency_ms: 2 / 12e3,
          clock_mhz: 12,
          measured_on: 'core' as const,
          bit_exact: true,
          depthwise_utilization: null,
          pointwise_utilization: 0.25,
          other_conv_utilization: 0.5,
        },
        {
          model: 'b',
          config: 'sim 8x8',
          macs: 64,
          cycles: 2,
          ideal_cycles: 1,
          utilization: 0.5,
          ideal_ratio: 2,
          latency_ms: 2 / 12e3,
          clock_mhz: 12,
          measured_on: 'core' as const,
          bit_exact: false,
          depthwise_utilization: null,
          pointwise_utilization: 0.25,
          other_conv_utilization: 0.5,
        },
      ],
      inference: [],
      boards: [],
      simulation: [{ config: 'sim 8x8: a', cycles_per_second: 2.5e6 }],
      mlperf: null,
    };
    const text = formatBench(r);
    expect(text).toMatch(
      /│ a +│ sim 8x8 │ core │ 64 +│ 2 +│ 1 +│ 50\.0 % +│ 2\.00x +│ 0\.000 ms at 12 MHz │ - \/ 25\.0 % \/ 50\.0 % +│ yes +│/,
    );
    expect(text).toMatch(/│ b .*│ NO +│/);
    expect(text).toContain('Simulation speed: sim 8x8: a 2.50 M cycles/s');
    expect(formatBench(r, colors(true))).toContain(colors(true).red('NO'));
  });

  it('ports lists each port with its stable name, or says where to look when there is none', () => {
    expect(formatPorts('scan', [])).toMatch(/^no serial ports found \(is the board plugged in\?/);
    const port = {
      path: '/dev/ttyUSB1',
      manufacturer: 'FTDI',
      serialNumber: null,
      vendorId: '0403',
      productId: '6010',
      byId: '/dev/serial/by-id/usb-FTDI_Dual_RS232-HS-if01-port0',
    };
    expect(formatPorts('serialport', [port])).toBe(
      '/dev/ttyUSB1 0403:6010 FTDI  (/dev/serial/by-id/usb-FTDI_Dual_RS232-HS-if01-port0)',
    );
    expect(formatPorts('scan', [port]).split('\n')[1]).toBe('(udevadm not available: listed from /dev)');
  });
});

describe('colour choice', () => {
  it('is on for a terminal only, off with NO_COLOR or TERM=dumb, forced by FORCE_COLOR', () => {
    expect(colorWanted({ isTTY: true }, {})).toBe(true);
    expect(colorWanted({ isTTY: false }, {})).toBe(false);
    expect(colorWanted({}, {})).toBe(false);
    expect(colorWanted({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colorWanted({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
    expect(colorWanted({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
    expect(colorWanted({ isTTY: true }, { FORCE_COLOR: '0' })).toBe(false);
    expect(colorWanted({ isTTY: false }, { NO_COLOR: '1', FORCE_COLOR: '1' })).toBe(false);
    expect(plain.red('x')).toBe('x');
  });
});

describe('--json layout', () => {
  it('puts each record of an array on one line, keeps short values on one line, and parses back', () => {
    const doc = {
      results: [
        { index: 0, output: [0.5, 1], prediction: 1 },
        { index: 1, output: [0.25, 2], prediction: 1 },
      ],
      summary: { inputs: 2, mismatches: 0, link: null, note: 'x'.repeat(90) },
      shape: [1, 28, 28],
    };
    const text = formatJson(doc);
    expect(JSON.parse(text)).toEqual(doc);
    expect(text.split('\n')).toEqual([
      '{',
      '  "results": [',
      '    {"index":0,"output":[0.5,1],"prediction":1},',
      '    {"index":1,"output":[0.25,2],"prediction":1}',
      '  ],',
      '  "summary": {',
      '    "inputs": 2,',
      '    "mismatches": 0,',
      '    "link": null,',
      `    "note": "${'x'.repeat(90)}"`,
      '  },',
      '  "shape": [1,28,28]',
      '}',
    ]);
  });
});
