#!/usr/bin/env bash
# Measures 2048-bit key generation (BenchmarkGenerate2048 in wasm/seattlekey)
# natively and as WebAssembly under Node, as the upload page runs it in the
# browser: COUNT runs of each (default 5), and prints the medians in seconds
# per key, which is how long an operator waits after "Generate", and their
# ratio. Run from anywhere:
#
#   wasm/keybench.sh [COUNT]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-5}
exec_wasm="$(go env GOROOT)/lib/wasm/go_js_wasm_exec"
bench=(go test -run='^$' -bench='^BenchmarkGenerate2048$' -benchtime=5x -count="$count")

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
nsop() { awk '$1 ~ /^BenchmarkGenerate2048(-[0-9]+)?$/ {for (i=1;i<=NF;i++) if ($(i+1)=="ns/op") print $i}'; }

echo "native: ${bench[*]} ./wasm/seattlekey"
native=$("${bench[@]}" ./wasm/seattlekey | nsop)
echo "$native" | tr '\n' ' '; echo
echo "wasm:   GOOS=js GOARCH=wasm ${bench[*]} -exec=$exec_wasm ./wasm/seattlekey"
wasm=$(GOOS=js GOARCH=wasm "${bench[@]}" -exec="$exec_wasm" ./wasm/seattlekey | nsop)
echo "$wasm" | tr '\n' ' '; echo
n=$(echo "$native" | median)
w=$(echo "$wasm" | median)
printf 'median of %d runs of 5 keys: native %.2f s a key, WASM (Node %s) %.2f s a key, WASM/native %.1fx\n' \
  "$count" "$(awk -v a="$n" 'BEGIN {print a/1e9}')" "$(node --version)" "$(awk -v a="$w" 'BEGIN {print a/1e9}')" "$(awk -v a="$n" -v b="$w" 'BEGIN {print b/a}')"
