#!/usr/bin/env bash
# Build (once) and print the path of the Go control client of the A/V sync tests.
#
# tests/goclient is a small Go module on LiveKit's own Go server SDK (server-sdk-go, pinned
# in its go.mod): the reference client that the sync tests and benchmarks/bench_sync.py
# measure lkframes against, in the same run. Like scripts/livekit-server.sh, the binary and
# Go's module and build caches live in a machine-wide cache, keyed by a hash of the module's
# go.mod, go.sum and *.go, so a CI run in a fresh clone reuses it and an edit rebuilds it.
# The download/build is retried up to 3 times.
#
#   scripts/go-client.sh     # prints e.g. ~/.cache/lkframes/go-client-0123abcd4567/goclient
set -euo pipefail

module="$(cd "$(dirname "${BASH_SOURCE[0]}")/../tests/goclient" && pwd)"
cache="${LKFRAMES_CACHE:-$HOME/.cache/lkframes}"
hash=$(cd "$module" && cat go.mod go.sum ./*.go | sha256sum | cut -c1-12)
bin_dir="$cache/go-client-$hash"
binary="$bin_dir/goclient"

if [[ -x "$binary" ]]; then
    echo "$binary"
    exit 0
fi
command -v go >/dev/null || {
    echo "go is not installed: cannot build the Go client (tests/goclient)" >&2
    exit 1
}
mkdir -p "$bin_dir"
export GOPATH="$cache/gopath"
export GOMODCACHE="$cache/gomodcache"
export GOCACHE="$cache/gocache"
export GOFLAGS=-mod=readonly
for attempt in 1 2 3; do
    echo "building the Go client in $module (attempt $attempt of 3)..." >&2
    if (cd "$module" && go build -o "$binary.tmp" .) >&2; then
        mv "$binary.tmp" "$binary"
        echo "$binary"
        exit 0
    fi
    sleep $((attempt * 10))
done
echo "could not build the Go client in $module" >&2
exit 1
