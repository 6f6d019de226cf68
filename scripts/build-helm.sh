#!/usr/bin/env bash
# Build (or reuse) Helm (helm.sh/helm/v4/cmd/helm) from the version pinned in go/helm/go.mod, for
# the chart tests (`helm lint --strict`, `helm template`, then a server-side dry-run of the output).
#
# Usage: BIN=$(scripts/build-helm.sh)
#        STAMPEDE_CACHED_ONLY=1 scripts/build-helm.sh   # print the path if built, else exit 3
#
# Cached outside the checkout (see scripts/lib/go-build-cached.sh):
#   ${STAMPEDE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stampede}/helm/<key>/helm
# The last line on stdout is the absolute binary path; progress goes to stderr. Helm's k8s.io/*
# modules are the control plane's (v0.37.2), so a machine that built the control plane has most of
# the module cache and the shared packages' build cache already.
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=lib/go-build-cached.sh
source "$script_dir/lib/go-build-cached.sh"

# Stamp the version `helm version` reports, as Helm's own Makefile does for a release tag.
helm_ldflags() {
  local v pkg=helm.sh/helm/v4/internal/version
  v=$(go list -m -f '{{.Version}}' helm.sh/helm/v4) # e.g. v4.3.2
  printf '%s' "-X $pkg.version=$v -X $pkg.metadata= -X $pkg.gitTreeState=clean"
}

go_build_cached helm "$(cd -- "$script_dir/.." && pwd -P)/go/helm" helm.sh/helm/v4/cmd/helm helm_ldflags
