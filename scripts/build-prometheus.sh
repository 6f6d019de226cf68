#!/usr/bin/env bash
# Build (or reuse) the Prometheus server (github.com/prometheus/prometheus/cmd/prometheus) from the
# version go/promtool/go.mod pins for promtool too, for the end-to-end test that scrapes a running
# watcher and worker and runs every dashboard, alert and HPA adapter query on what it scraped.
#
# Usage: BIN=$(scripts/build-prometheus.sh)
#        STAMPEDE_CACHED_ONLY=1 scripts/build-prometheus.sh   # print the path if built, else exit 3
#
# Cached outside the checkout (see scripts/lib/go-build-cached.sh):
#   ${STAMPEDE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stampede}/prometheus/<key>/prometheus
# Built after promtool, most of its packages come from Go's build cache. Without the web UI's
# assets (the API is all the test needs). The last line on stdout is the absolute binary path.
# Built with -tags remove_all_sd: no cloud service discovery (AWS, Azure, GCE, … the largest packages
# of the tree); the tests use static targets and rule files only.
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=lib/go-build-cached.sh
source "$script_dir/lib/go-build-cached.sh"

go_build_cached prometheus "$(cd -- "$script_dir/.." && pwd -P)/go/promtool" github.com/prometheus/prometheus/cmd/prometheus "" remove_all_sd
