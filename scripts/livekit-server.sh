#!/usr/bin/env bash
# Build (once) and print the path of a pinned livekit-server binary for the room tests.
#
# No package registry ships livekit-server; it is a Go module. The binary and Go's module and
# build caches live in a machine-wide cache keyed by the version, outside the work tree, so a
# CI run in a fresh clone on the same machine reuses them; a fresh machine builds it again
# (a few minutes on 2 cores). The download/build is retried up to 3 times.
#
# Pinned to v1.13.5: v1.13.6 and later replace pion's webrtc/ice/dtls with LiveKit forks
# (`replace` directives) whose versions the Go module proxy does not serve (403), so
# `go install` refuses them and a main-module build cannot fetch them.
#
#   scripts/livekit-server.sh     # prints e.g. ~/.cache/lkframes/livekit-server-v1.13.5/server
set -euo pipefail

version="${LIVEKIT_SERVER_VERSION:-v1.13.5}"
cache="${LKFRAMES_CACHE:-$HOME/.cache/lkframes}"
bin_dir="$cache/livekit-server-$version"
binary="$bin_dir/server"

if [[ -x "$binary" ]]; then
    echo "$binary"
    exit 0
fi
command -v go >/dev/null || {
    echo "go is not installed: cannot build livekit-server" >&2
    exit 1
}
mkdir -p "$bin_dir"
export GOPATH="$cache/gopath"
export GOMODCACHE="$cache/gomodcache"
export GOCACHE="$cache/gocache"
for attempt in 1 2 3; do
    echo "building livekit-server $version (attempt $attempt of 3)..." >&2
    if GOBIN="$bin_dir" go install "github.com/livekit/livekit-server/cmd/server@$version" >&2; then
        [[ -x "$binary" ]] && { echo "$binary"; exit 0; }
    fi
    sleep $((attempt * 10))
done
echo "could not build livekit-server $version" >&2
exit 1
