# nnfpga: thin stage targets over scripts/ and the nnfpga CLI.
#   make demo                  the main job: a fixture model on the simulated board
#   make test                  every test (installs what it needs first)
#   make test-bitstreams       both boards' bitstreams must fit and meet timing
#   make lint                  tsc, eslint, prettier, verilator -Wall on every RTL module
#   make bitstream BOARD=icebreaker|hx8k   synthesis, place and route, bitstream
#   make prog BOARD=...        flash the board
#   make bench                 performance figures (SPEC section 6)
#   make formal                the formal proofs of formal/ (yosys; docs/VERIFICATION.md)
BOARD    ?= icebreaker
EXAMPLES ?= examples
BIN      := node_modules/.bin
NNFPGA   := node bin/nnfpga.js

.PHONY: all deps lint lint-ts lint-rtl test test-bitstreams formal demo bench bitstream prog clean
all: test

deps:
	@scripts/setup.sh

lint: deps lint-ts lint-rtl
lint-ts:
	$(BIN)/tsc --noEmit
	$(BIN)/eslint --max-warnings 0 .
	$(BIN)/prettier --check --log-level warn .
lint-rtl:
	@scripts/lint-rtl.sh
	@scripts/lint-board-rtl.sh

test: deps
	@mkdir -p build
	@$(BIN)/vitest run --reporter=default --reporter=json --outputFile.json=build/test-results.json; \
	  rc=$$?; node scripts/test-summary.mjs build/test-results.json; exit $$rc

formal:
	@scripts/formal.sh

test-bitstreams: deps
	@NNFPGA_BITSTREAM_GATE=1 $(BIN)/vitest run

demo: deps
	@mkdir -p build
	$(NNFPGA) info $(EXAMPLES)/cnn_a.onnx
	$(NNFPGA) quantize $(EXAMPLES)/cnn_a.onnx --calib $(EXAMPLES)/calib256.npy -o build/cnn_a.nnq.json
	$(NNFPGA) run build/cnn_a.nnq.json --input $(EXAMPLES)/inputs200.npy --sim

bench: deps
	$(NNFPGA) bench

bitstream: deps
	$(NNFPGA) build --board $(BOARD)

prog: deps
	$(NNFPGA) flash --board $(BOARD)

clean:
	rm -rf build
