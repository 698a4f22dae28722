#!/usr/bin/env bash
# Checks fnopt's release without publishing anything: builds GoReleaser
# from tools/release (its own module, so it never enters fnopt's go.mod),
# runs `goreleaser check` on .goreleaser.yaml, builds a snapshot release
# into dist-release/ (six binaries, archives, checksums.txt), then checks
# each binary is an executable of its system and architecture and that
# this machine's one prints the snapshot's version
# (cmd/fnopt TestReleaseBinaries).
#
# Building GoReleaser takes minutes the first time (see docs/release.md);
# later runs reuse the go build cache. `make release-snapshot` runs this.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bin="$root/bin"
mkdir -p "$bin"

echo "release-check: building GoReleaser (tools/release/go.mod)"
go -C tools/release build -o "$bin/goreleaser" github.com/goreleaser/goreleaser/v2

echo "release-check: goreleaser check"
"$bin/goreleaser" check

echo "release-check: goreleaser release --snapshot --clean"
"$bin/goreleaser" release --snapshot --clean

echo "release-check: checking the six binaries"
FNOPT_RELEASE_DIST="$root/dist-release" go test -count=1 -run '^TestReleaseBinaries$' -v ./cmd/fnopt
echo "release-check: ok"
