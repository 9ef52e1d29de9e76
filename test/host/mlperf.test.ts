// `info` on the MLPerf Tiny reference shapes gives exactly the parameter and MAC counts of
// the reference models (depthwise: F*F*C weights, F*F*C*OH*OW MACs; BatchNormalization
// folded into the layer before, adds and pools 0), and the compiler's memory plan for
// them.
import { describe, expect, it } from 'vitest';
import { plan } from '../../host/compiler/compile.ts';
import { BOARD_CONFIG, SIM_CONFIG } from '../../host/compiler/configs.ts';
import { floatModelInfo, qModelInfo } from '../../host/info.ts';
import { numel } from '../../host/ir.ts';
import { importOnnx } from '../../host/onnx/import.ts';
import { calibrate, quantizeModel } from '../../host/quant/quantize.ts';
import { buildModel, randomArray } from './helpers.ts';
import { mlperfModels, REFERENCE } from '../../host/bench/mlperf.ts';

const load = (name: keyof typeof mlperfModels) => importOnnx(buildModel(mlperfModels[name]()), name);

describe('MLPerf Tiny reference shapes', () => {
  for (const name of Object.keys(mlperfModels) as (keyof typeof mlperfModels)[]) {
    it(`${name}: info gives the reference's ${REFERENCE[name].params.toLocaleString('en-US')} params and ${REFERENCE[name].macs.toLocaleString('en-US')} MACs, quantized or not`, () => {
      const m = load(name);
      const info = floatModelInfo(m);
      expect([info.total.params, info.total.macs]).toEqual([REFERENCE[name].params, REFERENCE[name].macs]);
      const q = quantizeModel(m, calibrate(m, randomArray(2 * numel(m.input), 1), 2), {
        model: name,
        calibration: 'random',
      });
      const qi = qModelInfo(q, name);
      expect([qi.total.params, qi.total.macs]).toEqual([REFERENCE[name].params, REFERENCE[name].macs]);
    });
  }

  it('KWS: a depthwise 3x3 layer has 9*64 weights and 9*64*25*5 MACs; 16,000 bytes live at the peak', () => {
    const info = floatModelInfo(load('mlperf_kws'));
    const dw = info.layers.find((l) => l.name === 'dw1')!;
    expect([dw.weights, dw.biases, dw.macs]).toEqual([9 * 64, 64, 9 * 64 * 25 * 5]);
    expect(info.total.peak_activation_bytes_int8).toBe(16_000);
  });

  it('the memory plan: KWS needs its 16,000 live bytes of AMEM on sim8 and on the iCEBreaker, there with the AMEM extension', () => {
    const m = load('mlperf_kws');
    const q = quantizeModel(m, calibrate(m, randomArray(2 * 490, 1), 2), { model: 'kws', calibration: 'r' });
    const sim = plan(q, SIM_CONFIG);
    expect(sim.fits).toBe(true);
    expect(sim.peak.amem).toBe(16_000);
    expect(sim.layers.find((l) => l.name === 'dw1')).toMatchObject({ amem: 16_000, descriptors: 1 }); // one grouped descriptor
    // 8,192 bytes of EBR hold one 8,000-byte tensor: each layer reads one memory and
    // writes the other, and the two hold 16,000 bytes while dw1 .. pw4 run
    const board = plan(q, BOARD_CONFIG);
    expect(board).toMatchObject({ fits: true, fitReason: null });
    expect(board.peak.amem).toBe(16_000);
    expect(board.layers.find((l) => l.name === 'dw1')).toMatchObject({ amem: 16_000 });
    // without the extension: one line naming the layer and the memory
    const ebrOnly = plan(q, { ...BOARD_CONFIG, amemExtWords: 0 });
    expect(ebrOnly.fitReason).toBe(
      "layer 'conv1' (conv): AMEM needs 9,960 bytes for the activations alive while it runs, the configuration has 8,192",
    );
  });
});
