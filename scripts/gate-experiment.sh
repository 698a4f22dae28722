#!/usr/bin/env bash
# Measures fnopt's CI gate on this machine: false alarms on identical
# builds and detections of a +15% init regression, 20 gate runs each, and
# the time one gate run takes. See docs/gate.md ("How the defaults were
# chosen") and examples/gateexperiment for what it does. Options are passed
# through, e.g. scripts/gate-experiment.sh -trials 20 -samples 40 -v
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./examples/gateexperiment "$@"
