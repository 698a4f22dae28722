#!/usr/bin/env bash
# make demo: scaffold Go and Rust Lambda functions with fnopt new into a
# temporary folder, build them with fnopt build (tuned settings,
# deterministic zip, OCI image), measure their cold starts with fnopt verify
# and print a table of artifact sizes and start-up times, then the short
# benchmark, whose tables and chart are kept in DEMO_OUT (demo-results/).
# Everything runs offline: Rust crates come from Debian's packaged sources
# (make setup installs them) through a CARGO_HOME of the demo's own.
#
# Environment: FNOPT (default bin/fnopt), DEMO_SAMPLES (cold starts per
# function, 20), DEMO_BENCH_SAMPLES (per benchmark variant, 30), DEMO_OUT
# (where the results that outlive the demo go, demo-results).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
fnopt="${FNOPT:-$root/bin/fnopt}"
[ -x "$fnopt" ] || { echo "demo: $fnopt not found: run \`make build\` (make demo does)" >&2; exit 2; }

# What the demo points at when it ends lives here, outside the scratch
# folder its exit trap removes.
out="${DEMO_OUT:-$root/demo-results}"
mkdir -p "$out"
out=$(cd "$out" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/fnopt-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

# Offline cargo against /usr/share/cargo/registry, as the test suite does;
# the user's own ~/.cargo is left alone.
crates=/usr/share/cargo/registry
[ -d "$crates" ] || { echo "demo: $crates missing: run \`make setup\`" >&2; exit 2; }
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
export CARGO_HOME="$work/cargo-home"
mkdir -p "$CARGO_HOME"
cat >"$CARGO_HOME/config.toml" <<TOML
[source.crates-io]
replace-with = "debian"

[source.debian]
directory = "$crates"

[net]
offline = true
TOML

# Lambda's default here is arm64 (Graviton). Go cross-compiles anywhere;
# Rust needs the aarch64 target and linker, so without them the Rust
# function is built for x86_64 instead (fnopt build says what to install).
rust_arch=arm64
libdir=$(rustc --print target-libdir --target aarch64-unknown-linux-gnu 2>/dev/null || true)
if ! ls "$libdir"/libstd-*.rlib >/dev/null 2>&1 || ! command -v aarch64-linux-gnu-gcc >/dev/null; then
  rust_arch=x86_64
  echo "demo: no Rust aarch64 toolchain here (rustup target add aarch64-unknown-linux-gnu; apt-get install gcc-aarch64-linux-gnu): Rust is built for x86_64"
fi

# name  language  client  architecture
functions=(
  "hello-go     go   official arm64"
  "hello-go-min go   minimal  arm64"
  "hello-rs     rust minimal  $rust_arch"
)

# field SECTION KEY < report.json: the number KEY holds inside SECTION of
# the indented JSON fnopt build --json prints (schema fnopt.build/v1).
field() {
  awk -v sec="\"$1\": {" -v key="\"$2\":" '
    index($0, sec) { in_sec = 1; next }
    in_sec && /^  }/ { in_sec = 0 }
    in_sec && index($0, key) { v = $2; gsub(/[^0-9.]/, "", v); print v; exit }'
}

kib() { awk -v n="$1" 'BEGIN { printf "%.1f KiB", n / 1024 }'; }
ms() { awk -v n="$1" 'BEGIN { printf "%.2f ms", n }'; }

samples=${DEMO_SAMPLES:-20}

rows=()
for f in "${functions[@]}"; do
  read -r name lang client arch <<<"$f"
  dir="$work/$name"
  echo "demo: fnopt new $name --lang $lang --client $client --arch $arch"
  "$fnopt" new "$dir" --yes --lang "$lang" --client "$client" --arch "$arch" >/dev/null
  # Rust's zip links glibc dynamically (provided.al2023 has it); an image
  # on no base gets a static (bigger) bootstrap instead, so the demo shows
  # the zip build, the one most Rust functions ship.
  pkg=image
  [ "$lang" = rust ] && pkg=zip
  echo "demo: fnopt build --package $pkg ($name)"
  "$fnopt" build "$dir" --package "$pkg" --json >"$work/$name.json"
  r="$work/$name.json"
  img_gz="-" img_raw="-"
  if [ "$pkg" = image ]; then
    img_gz=$(kib "$(field image compressed_bytes <"$r")")
    img_raw=$(kib "$(field image uncompressed_bytes <"$r")")
  fi
  # Cold starts are measured on this machine's architecture (verify
  # builds the project for it): local figures to compare the functions,
  # not Lambda's Init Duration.
  echo "demo: fnopt verify --samples $samples ($name)"
  # Exit status 1 is a measurement that went over a budget of the
  # project's fnopt.yaml (a loaded machine starts slower): the figures are
  # still worth showing; 2 is a failure to measure.
  status=0
  "$fnopt" verify "$dir" --samples "$samples" --json >"$work/$name.verify.json" || status=$?
  [ "$status" -le 1 ] || exit "$status"
  [ "$status" -eq 0 ] || echo "demo: $name went over a budget of its fnopt.yaml on this machine"
  v="$work/$name.verify.json"
  rows+=("$(printf '%-13s %-14s %-7s %12s %12s %14s %16s %10s %10s' \
    "$name" "$lang $client" "$arch" \
    "$(kib "$(field bootstrap bytes <"$r")")" \
    "$(kib "$(field zip bytes <"$r")")" "$img_gz" "$img_raw" \
    "$(ms "$(field init_ms p50 <"$v")")" "$(ms "$(field cold_start_ms p50 <"$v")")")")
done

echo
printf '%-13s %-14s %-7s %12s %12s %14s %16s %10s %10s\n' function template arch binary zip "image (gzip)" "image (unpack)" "init p50" "cold p50"
printf '%s\n' "${rows[@]}"
echo
echo "init = process start to the first /next; cold = start to the first response; p50 of $samples cold starts on this $(uname -m) machine."
echo "Tuned settings from internal/function/settings; zips are deterministic, images single-platform with gzip layers on no base."
echo "Rust zips link glibc dynamically (provided.al2023 has glibc 2.34); fnopt build --package image links it statically for an image on no base."

# The short form of `make bench`: the same hello function built plainly
# (as tutorials do), with fnopt's settings, with the minimal clients, and
# the floor (the least a custom runtime can do), measured interleaved.
bench_samples=${DEMO_BENCH_SAMPLES:-30}
echo
echo "demo: the cold-start comparison, short form of make bench ($bench_samples interleaved samples each)"
(cd "$root" && go run ./examples/bench -short -samples "$bench_samples" -out "$out/bench")
echo
echo "demo: the benchmark's tables and chart are in $out/bench (results.md, results.json, chart.svg); the demo's functions were scaffolded in a temporary folder, removed now"
