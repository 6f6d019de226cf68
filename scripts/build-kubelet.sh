#!/usr/bin/env bash
# Build (or reuse) the test kubelet from go/kubelet: a real kubelet with a fake CRI in one binary:
#   kubelet --fake-cri-endpoint=unix:///path/cri.sock [kubelet flags...]
#
# Usage: BIN=$(scripts/build-kubelet.sh)
#
# Cached outside the checkout (see scripts/lib/go-build-cached.sh):
#   ${STAMPEDE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stampede}/kubelet/<key>/kubelet
# go/kubelet pins the same k8s.io module versions as go/controlplane, so after the control plane
# was built the Go build cache already holds most packages; see go/kubelet/README.md for times.
# The last line on stdout is the absolute binary path; progress goes to stderr.
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=lib/go-build-cached.sh
source "$script_dir/lib/go-build-cached.sh"

# Stamp the version the kubelet reports (Node status.nodeInfo.kubeletVersion) as upstream does.
kubelet_ldflags() {
  local k8s_version minor flags="" pkg
  k8s_version=$(go list -m -f '{{.Version}}' k8s.io/kubernetes) # e.g. v1.37.2
  minor=${k8s_version#v1.}
  minor=${minor%%.*}
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  printf '%s' "$flags"
}

go_build_cached kubelet "$(cd -- "$script_dir/.." && pwd -P)/go/kubelet" . kubelet_ldflags
