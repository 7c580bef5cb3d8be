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

# The same work timed in CPU seconds rather than wall-clock time, which
# other processes on a busy machine disturb less: user CPU of K calls minus
# that of one call (process start, building the file), per call.
echo "CPU time per call (user seconds, K calls minus 1):"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/native.test" ./wasm/vesselinfo
GOOS=js GOARCH=wasm go test -c -o "$tmp/wasm.test" ./wasm/vesselinfo
cpu() { local TIMEFORMAT=%U; { time "$@" >/dev/null; } 2>&1; }
args=(-test.run='^$' -test.bench='^BenchmarkParse$')
size=$("$tmp/native.test" "${args[@]}" -test.benchtime=1x | awk '$1 ~ /^BenchmarkParse/ {for (i=1;i<=NF;i++) {if ($(i+1)=="ns/op") ns=$i; if ($(i+1)=="MB/s") mb=$i}; printf "%.0f", ns*mb/1000}')
per() { # per CALLS COMMAND...: CPU milliseconds per call
  local k=$1; shift
  local one many
  one=$(cpu "$@" "${args[@]}" -test.benchtime=1x)
  many=$(cpu "$@" "${args[@]}" -test.benchtime="${k}x")
  awk -v a="$one" -v b="$many" -v k="$k" 'BEGIN {printf "%.3f", (b-a)*1000/(k-1)}'
}
cn=$(per 1000 "$tmp/native.test")
cw=$(per 300 "$exec_wasm" "$tmp/wasm.test")
awk -v n="$cn" -v w="$cw" -v s="$size" 'BEGIN {
  printf "native %.2f ms (%.0f MB/s), WASM %.2f ms (%.0f MB/s), WASM/native %.2fx (a %.1f MB file)\n",
    n, s/n/1000, w, s/w/1000, w/n, s/1e6 }'
