#!/usr/bin/env bash
# The formal proofs (docs/VERIFICATION.md): yosys `sat -tempinduct` on the harnesses of
# formal/ (a base case from reset, then induction, both to the length printed).
#   scripts/formal.sh              every proof
#   scripts/formal.sh NAME...      the named ones; NAME@N runs a UART proof at ClksPerBit N
# Prints one line per proof; exits 1 when any is not proven (its log: build/formal/).
set -euo pipefail
cd "$(dirname "$0")/.."
proofs=(uart_tx uart_tx@10 uart_rx uart_rx@10 ctrl ctrl_blk link)
[ $# -gt 0 ] && proofs=("$@")
mkdir -p build/formal
status=0
for p in "${proofs[@]}"; do
  name=${p%@*}
  ys=formal/$name.ys
  [ -f "$ys" ] || { echo "formal: no proof $name (formal/$name.ys)" >&2; exit 1; }
  script=build/formal/$p.ys
  if [[ $p == *@* ]]; then
    sed "s/^prep -top \(.*\)/chparam -set ClksPerBit ${p#*@} \1\nprep -top \1/" "$ys" > "$script"
  else
    cp "$ys" "$script"
  fi
  sed -i "s|build/formal/$name.vcd|build/formal/$p.vcd|" "$script"
  log=build/formal/$p.log
  t0=$(date +%s%N)
  res=FAILED
  if yosys -q -l "$log" "$script" >/dev/null 2>&1 && grep -q "Induction step proven: SUCCESS" "$log"; then
    res=proven
  else
    status=1
  fi
  k=$(grep -c "Base case for induction length" "$log" || true)
  ms=$((($(date +%s%N) - t0) / 1000000))
  printf '%-11s %s: induction length %s, %d.%d s\n' "$p" "$res" "$k" $((ms / 1000)) $((ms % 1000 / 100))
done
exit $status
