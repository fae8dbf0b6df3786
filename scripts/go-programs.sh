#!/usr/bin/env bash
# Build (once) and print the paths of the Go programs the room tests run as other clients.
#
# tests/goclient is the A/V sync control (LiveKit's own Go server SDK, server-sdk-go pinned in
# its go.mod) that the sync tests and benchmarks/bench_sync.py measure lkframes against;
# tests/silent_publisher is a participant who stays but sends nothing. tests/go_programs.py
# builds them into a machine-wide cache keyed by a hash of their sources
# (~/.cache/lkframes/go-programs), so a fresh clone reuses them and an edit rebuilds; a
# build is retried up to 3 times. The tests call the same code, so this script is only
# there to build ahead (CI does, in its own logged step) or to find a binary.
#
#   scripts/go-programs.sh             # every program
#   scripts/go-programs.sh goclient    # e.g. ~/.cache/lkframes/go-programs/goclient-0123abcd4567ef01
set -euo pipefail
exec python "$(dirname "${BASH_SOURCE[0]}")/../tests/go_programs.py" "$@"
