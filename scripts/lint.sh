#!/usr/bin/env bash
# The linters `make test` runs; each must report nothing. The tools are
# pinned in go.mod's tool block, so a fresh machine gets the same versions
# from the Go module proxy.
#   gofmt         formatting
#   go vet        the compiler's own checks, also of the macOS and Windows
#                 builds with their tests (build constraints honoured:
#                 a test of a portable package must compile there too)
#   staticcheck   bugs, deprecated APIs, unused code, simplifications
#   deadcode      functions no main or test reaches (Example functions are
#                 entry points of go test and stay)
set -euo pipefail
cd "$(dirname "$0")/.."
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*'))
if [ -n "$unformatted" ]; then
  echo "$unformatted"
  echo "lint: gofmt -w the files above"
  exit 1
fi
go vet ./...
GOOS=darwin GOARCH=arm64 go vet ./...
GOOS=windows GOARCH=amd64 go vet ./...
go tool staticcheck ./...
dead=$(go tool deadcode -test ./... | grep -v ': unreachable func: Example' || true)
if [ -n "$dead" ]; then
  echo "$dead"
  echo "lint: the functions above are never called: delete them, or call them"
  exit 1
fi
echo "lint: ok"
