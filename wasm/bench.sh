#!/usr/bin/env bash
# Measures the vesselinfo validator natively and as WebAssembly under Node on
# the same 10,000-key file (BenchmarkParse in wasm/vesselinfo): COUNT runs of
# each (default 5) in one process each, and prints the medians and their
# ratio. Targets (issue 2): at least 300 MB/s native, WASM within 3x of
# native. The first WASM run of a process is the slowest (V8 is still
# compiling the hot code and the module's memory is growing); the median
# leaves it out. Run from anywhere:
#
#   wasm/bench.sh [COUNT]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-5}
exec_wasm="$(go env GOROOT)/lib/wasm/go_js_wasm_exec"
bench=(go test -run='^$' -bench='^BenchmarkParse$' -count="$count")

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mbps() { awk '$1 ~ /^BenchmarkParse(-[0-9]+)?$/ {for (i=1;i<=NF;i++) if ($(i+1)=="MB/s") print $i}'; }

echo "native: ${bench[*]} ./wasm/vesselinfo"
native=$("${bench[@]}" ./wasm/vesselinfo | mbps)
echo "$native" | tr '\n' ' '; echo
echo "wasm:   GOOS=js GOARCH=wasm ${bench[*]} -exec=$exec_wasm ./wasm/vesselinfo"
wasm=$(GOOS=js GOARCH=wasm "${bench[@]}" -exec="$exec_wasm" ./wasm/vesselinfo | mbps)
echo "$wasm" | tr '\n' ' '; echo
n=$(echo "$native" | median)
w=$(echo "$wasm" | median)
printf 'median of %d: native %.0f MB/s, WASM (Node %s) %.0f MB/s, native/WASM %.2fx\n' \
  "$count" "$n" "$(node --version)" "$w" "$(awk -v a="$n" -v b="$w" 'BEGIN {print a/b}')"
