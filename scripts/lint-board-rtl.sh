#!/usr/bin/env bash
# verilator --lint-only -Wall on the board RTL that scripts/lint-rtl.sh does not see:
# each board top (rtl/boards/) over the generic RTL with the SB_PLL40 stand-ins of
# sim/ice40/, each iCE40 variant (rtl/ice40/) as its own top over yosys's models of
# SB_MAC16 and SB_SPRAM256KA, and each logic-only variant (rtl/ice40/fabric/) alone.
# Those two models are yosys's code, copied from cells_sim.v into build/ice40-lint/ and
# exempt from lint by the one waiver in build/ice40-lint/models.vlt (not our code to
# restyle); our files get no waiver.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
cells=/usr/share/yosys/ice40/cells_sim.v
out=build/ice40-lint
mkdir -p "$out"
for m in SB_MAC16 SB_SPRAM256KA; do
  sed -n "/^module $m (/,/^endmodule/p" "$cells" > "$out/$m.v"
done
printf '`verilator_config\nlint_off -file "*build/ice40-lint/SB_*.v"\n' > "$out/models.vlt"
status=0
for f in rtl/boards/*.v; do
  top=$(basename "$f" .v)
  verilator --lint-only -Wall -Irtl --top-module "$top" rtl/npu_*.v sim/ice40/*.v "$f" ||
    { echo "lint: $top fails" >&2; status=1; }
done
for f in rtl/ice40/*.v; do
  top=$(basename "$f" .v)
  verilator --lint-only -Wall -Irtl "$out/models.vlt" --top-module "$top" \
    rtl/ice40/*.v rtl/npu_pe.v rtl/npu_mul.v "$out"/SB_*.v ||
    { echo "lint: rtl/ice40/$top fails" >&2; status=1; }
done
for f in rtl/ice40/fabric/*.v; do
  top=$(basename "$f" .v)
  verilator --lint-only -Wall -Irtl --top-module "$top" "$f" ||
    { echo "lint: rtl/ice40/fabric/$top fails" >&2; status=1; }
done
exit $status
