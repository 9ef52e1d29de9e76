#!/usr/bin/env bash
# Installs what nnfpga needs on a fresh Debian machine, and nothing that is already there:
# the open FPGA tools and Verilator (apt-get; icetime's chip database, which the build's
# timing sign-off reads, is its own package), the Fashion-MNIST data set (apt-get) and
# the node packages (npm ci). Called by `make deps`, which `make test` and `make demo` run.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v verilator >/dev/null || need+=(verilator)
command -v yosys >/dev/null || need+=(yosys)
command -v nextpnr-ice40 >/dev/null || need+=(nextpnr-ice40)
command -v icepack >/dev/null || need+=(fpga-icestorm)
[ -e /usr/share/fpga-icestorm/chipdb/chipdb-5k.txt ] || need+=(fpga-icestorm-chipdb)
command -v openFPGALoader >/dev/null || need+=(openfpgaloader)
[ -e /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ] || need+=(dataset-fashion-mnist)
command -v g++ >/dev/null || need+=(g++)
command -v make >/dev/null || need+=(make)
command -v chromium >/dev/null || need+=(chromium) # the report's browser test (playwright-core drives it)

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "nnfpga setup: missing ${need[*]}; run as root, or: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
  echo "nnfpga setup: installing ${need[*]} with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "${need[@]}" >&2 ||
    { apt-get update >&2 && apt-get install -y --no-install-recommends "${need[@]}" >&2; }
fi

# npm ci only when the lock file changed since the last install. onnxruntime-node's
# optional GPU download is unreachable here, so it is told to skip it.
if [ ! -f node_modules/.nnfpga-installed ] || [ package-lock.json -nt node_modules/.nnfpga-installed ]; then
  echo "nnfpga setup: npm ci" >&2
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund >&2
  touch node_modules/.nnfpga-installed
fi
