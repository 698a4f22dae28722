#!/usr/bin/env bash
# Installs what fnopt's tests, demo and benchmarks need on a Debian 12
# machine, and nothing when it is already there. Idempotent.
set -euo pipefail

# Debian packages the test suite uses:
#   librust-serde*-dev  crate sources for building Rust functions offline
#   docker-registry     a real OCI registry server on loopback
#   qemu-user-static    runs arm64 bootstraps on x86_64
#   skopeo, umoci       independent OCI tools to cross-check our images
#   hyperfine           side-by-side timings in benchmarks
#   strace              traces what a function opens (optimize image)
#   musl-tools          builds the static C "floor" runtime of the benchmark
#   gcc, libc6-dev      C compiler for musl-gcc and the sandbox's dynamically linked test program
#   patch               checks that optimize --diff output applies
#   zlib1g-dev          the optimize image test function links libz
#   librsvg2-bin        rsvg-convert renders the SVG charts as a viewer does
pkgs=(librust-serde-json-dev librust-serde-derive-dev librust-serde-dev
      docker-registry qemu-user-static skopeo umoci hyperfine strace musl-tools
      gcc libc6-dev zlib1g-dev ca-certificates zip unzip patch librsvg2-bin)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v go >/dev/null || { echo "setup: Go is required (https://go.dev/dl)"; exit 1; }
command -v cargo >/dev/null || { echo "setup: Rust is required (rustup)"; exit 1; }
echo "setup: ok"
