#!/usr/bin/env bash
# verilator --lint-only -Wall on every RTL module as its own top (STYLE: each module
# elaborates on its own). Waivers, with a reason each, live in rtl/lint.vlt only.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
files=(rtl/npu_*.v)
[ ${#files[@]} -gt 0 ] || exit 0
waiver=()
[ -f rtl/lint.vlt ] && waiver=(rtl/lint.vlt)
status=0
for f in "${files[@]}"; do
  top=$(basename "$f" .v)
  verilator --lint-only -Wall -Irtl "${waiver[@]}" --top-module "$top" rtl/npu_*.v || { echo "lint: $top fails" >&2; status=1; }
done
# and npu_core as sim8 builds it (host/compiler/configs.ts SIM_CONFIG): the generate
# branches the defaults leave out (two requantizer pipelines' controller, output shift,
# block schedule with the vector requantizer)
verilator --lint-only -Wall -Irtl "${waiver[@]}" --top-module npu_core -GDim=8 -GAccDepth=1024 \
  -GRqUnits=2 -GRqPipes=2 -GOutShift=1 -GBlock=1 rtl/npu_*.v || { echo "lint: npu_core (sim8) fails" >&2; status=1; }
exit $status
