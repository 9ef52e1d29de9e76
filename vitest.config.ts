import { configDefaults, defineConfig } from 'vitest/config';

// `make test` runs every test, the bitstream gate included (test/board/build.test.ts: both
// boards through yosys, nextpnr and icepack, must fit and meet their clocks), so a fit or
// timing regression fails CI. `make test-bitstreams` runs the gate alone
// (NNFPGA_BITSTREAM_GATE=1).
const bitstreamGate = 'test/board/build.test.ts';
const gateOnly = process.env.NNFPGA_BITSTREAM_GATE === '1';

export default defineConfig({
  test: {
    include: gateOnly ? [bitstreamGate] : ['test/**/*.test.ts'],
    exclude: configDefaults.exclude,
    // Verilator builds and simulated-board runs are slow and CPU-bound; two workers
    // match the 2-core machines this runs on.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 600_000,
  },
});
