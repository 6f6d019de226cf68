#!/usr/bin/env bash
# Build (or reuse) Jaeger (cmd/jaeger, the all-in-one v2 binary on the OpenTelemetry Collector)
# from the version pinned in go/jaeger/go.mod, for the tracing tests and the demo.
#
# Usage: BIN=$(scripts/build-jaeger.sh)
#        STAMPEDE_CACHED_ONLY=1 scripts/build-jaeger.sh   # print the path if built, else exit 3
#
# Cached outside the checkout (see scripts/lib/go-build-cached.sh):
#   ${STAMPEDE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stampede}/jaeger/<key>/jaeger
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=lib/go-build-cached.sh
source "$script_dir/lib/go-build-cached.sh"

go_build_cached jaeger "$(cd -- "$script_dir/.." && pwd -P)/go/jaeger" github.com/jaegertracing/jaeger/cmd/jaeger
