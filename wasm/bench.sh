#!/usr/bin/env bash
# Measures the vesselinfo validator natively and as WebAssembly under Node on
# the same 10,000-key file (BenchmarkParse), five runs each, and prints the
# medians and their ratio. Targets (issue 2): >= 300 MB/s native, WASM within
# 3x of native. Run from anywhere: wasm/bench.sh [COUNT]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-5}
exec_wasm="$(go env GOROOT)/lib/wasm/go_js_wasm_exec"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mbps() { awk '$1 ~ /^BenchmarkParse(-[0-9]+)?$/ {for (i=1;i<=NF;i++) if ($(i+1)=="MB/s") print $i}'; }

echo "native: go test -run='^\$' -bench='^BenchmarkParse\$' -count=$count ./wasm/vesselinfo"
native=$(go test -run='^$' -bench='^BenchmarkParse$' -count="$count" ./wasm/vesselinfo | tee /dev/stderr | mbps | median)
echo "wasm:   GOOS=js GOARCH=wasm go test -run='^\$' -bench='^BenchmarkParse\$' -count=$count -exec=$exec_wasm ./wasm/vesselinfo"
wasm=$(GOOS=js GOARCH=wasm go test -run='^$' -bench='^BenchmarkParse$' -count="$count" -exec="$exec_wasm" ./wasm/vesselinfo | tee /dev/stderr | mbps | median)
printf 'median native %.0f MB/s, WASM (Node %s) %.0f MB/s, native/WASM %.2fx\n' \
  "$native" "$(node --version)" "$wasm" "$(awk -v a="$native" -v b="$wasm" 'BEGIN {print a/b}')"
