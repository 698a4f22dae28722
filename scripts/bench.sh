#!/usr/bin/env bash
# make bench: fnopt's cold-start benchmark. Builds the Go official hello
# plainly and with fnopt's tuned settings, the Go and Rust minimal hellos
# and the floors (floor.c linked with glibc dynamically and statically and
# with musl statically; the Go floor), measures them interleaved with verify (cold and
# warm page cache), prints a Markdown table and writes results.md,
# results.json and chart.svg to $BENCH_OUT (default bench-results/).
# Offline: Rust crates come from Debian's packaged sources (make setup).
# Extra arguments go to the benchmark, e.g. `scripts/bench.sh -samples 60`.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${BENCH_OUT:-bench-results}
samples=${BENCH_SAMPLES:-150}

# gcc builds the glibc floors, musl-gcc (musl-tools) the musl one.
for tool in go cargo gcc musl-gcc; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not found: run \`make setup\` (Rust itself comes from rustup)" >&2; exit 2; }
done

go run ./examples/bench -out "$out" -samples "$samples" "$@"
