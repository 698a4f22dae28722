# fnopt's two entry points on a fresh machine:
#   make demo   scaffold, build and measure a Go and a Rust function
#   make test   the whole test suite (installs what it needs first)
GO ?= go

.PHONY: all setup build test demo bench vet lint release-snapshot

all: build

setup:
	bash scripts/setup.sh

build:
	$(GO) build -o bin/fnopt ./cmd/fnopt

vet:
	$(GO) vet ./...

# vet, staticcheck and deadcode (scripts/lint.sh); all must be clean.
lint:
	bash scripts/lint.sh

test: setup lint
	$(GO) test -count=1 -timeout 40m ./...

demo: setup build
	bash scripts/demo.sh

bench: setup build
	bash scripts/bench.sh

# goreleaser check, then a snapshot release into dist-release/ (nothing is
# published), each binary checked (scripts/release-check.sh).
release-snapshot:
	bash scripts/release-check.sh
