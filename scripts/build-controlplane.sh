#!/usr/bin/env bash
# Build (or reuse) the multi-call control-plane binary from go/controlplane:
#   controlplane etcd | kube-apiserver | kube-controller-manager [flags...]
#
# Usage: BIN=$(scripts/build-controlplane.sh)
#
# Cached outside the checkout (see scripts/lib/go-build-cached.sh):
#   ${STAMPEDE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stampede}/controlplane/<key>/controlplane
# A cold build takes ~10 min on 2 cores and ~3 GiB RAM. The last line on stdout is the absolute
# binary path; progress goes to stderr.
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=lib/go-build-cached.sh
source "$script_dir/lib/go-build-cached.sh"

# Stamp the version the components report (kubectl version, /version) as upstream releases do.
controlplane_ldflags() {
  local k8s_version minor flags="" pkg
  k8s_version=$(go list -m -f '{{.Version}}' k8s.io/kubernetes) # e.g. v1.37.2
  minor=${k8s_version#v1.}
  minor=${minor%%.*}
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  printf '%s' "$flags"
}

go_build_cached controlplane "$(cd -- "$script_dir/.." && pwd -P)/go/controlplane" . controlplane_ldflags
