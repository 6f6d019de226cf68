#!/usr/bin/env bash
# Build (or reuse) promtool (github.com/prometheus/prometheus/cmd/promtool) from the version pinned
# in go/promtool/go.mod, for the alert-rule and dashboard tests (`promtool test rules`,
# `promtool check rules`).
#
# Usage: BIN=$(scripts/build-promtool.sh)
#        STAMPEDE_CACHED_ONLY=1 scripts/build-promtool.sh   # print the path if built, else exit 3
#
# Cached outside the checkout (see scripts/lib/go-build-cached.sh):
#   ${STAMPEDE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stampede}/promtool/<key>/promtool
# A cold build (-tags remove_all_sd, ~1 100 packages) took 2 m 51 s after the control plane on a fresh
# 2-core machine (17.5 min without the tag on a busy one); the last line on stdout is the absolute
# binary path; progress goes to stderr.
# Built with -tags remove_all_sd: no cloud service discovery (AWS, Azure, GCE, … the largest packages
# of the tree); the tests use static targets and rule files only.
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=lib/go-build-cached.sh
source "$script_dir/lib/go-build-cached.sh"

go_build_cached promtool "$(cd -- "$script_dir/.." && pwd -P)/go/promtool" github.com/prometheus/prometheus/cmd/promtool "" remove_all_sd
