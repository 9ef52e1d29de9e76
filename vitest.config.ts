import { configDefaults, defineConfig } from 'vitest/config';

// `make test` runs every test except the bitstream gate (test/board/build.test.ts: both
// boards through yosys, nextpnr and icepack, must fit and meet timing), which
// `make test-bitstreams` runs (NNFPGA_BITSTREAM_GATE=1). It is held out of `make test`
// only while the design does not fit the iCE40UP5K: see README "Boards" and issue 5.
const bitstreamGate = 'test/board/build.test.ts';
const gate = process.env.NNFPGA_BITSTREAM_GATE === '1';

export default defineConfig({
  test: {
    include: gate ? [bitstreamGate] : ['test/**/*.test.ts'],
    exclude: gate ? configDefaults.exclude : [...configDefaults.exclude, bitstreamGate],
    // Verilator builds and simulated-board runs are slow and CPU-bound; two workers
    // match the 2-core machines this runs on.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 600_000,
  },
});
