#!/usr/bin/env bash
# Measures fnopt's CI gate on this machine, with a fixed number of samples
# and with adaptive sampling side by side: false alarms on identical
# builds, detections of init regressions of 1.2 and 1.5 times the
# threshold, samples used and the time one gate run takes, 20 gate runs of
# each. See docs/gate.md ("How the defaults were chosen") and
# examples/gateexperiment for what it does. Options are passed through,
# e.g. scripts/gate-experiment.sh -trials 20 -samples 100 -factors 1.2,1.5 -v
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./examples/gateexperiment "$@"
