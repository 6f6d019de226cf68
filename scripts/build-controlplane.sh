#!/usr/bin/env bash
# Build (or reuse) the multi-call control-plane binary from go/controlplane:
#   controlplane etcd | kube-apiserver | kube-controller-manager [flags...]
#
# Usage: BIN=$(scripts/build-controlplane.sh)
#
# The binary is cached outside the checkout, keyed by the sha256 of
# go/controlplane/{go.sum,go.mod,main.go}:
#   ${STAMPEDE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stampede}/controlplane/<key>/controlplane
# A cache hit prints the path and exits immediately without running `go`.
# The last line on stdout is always the absolute binary path; progress goes to stderr.
#
# Environment:
#   STAMPEDE_CACHE        cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/stampede)
#   STAMPEDE_BUILD_JOBS   go build -p (default 2; each compile can take >1 GiB)
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
src="$(cd -- "$script_dir/.." && pwd -P)/go/controlplane"

for f in go.sum go.mod main.go; do
  if [[ ! -f "$src/$f" ]]; then
    echo "build-controlplane: missing $src/$f" >&2
    exit 1
  fi
done

key=$(cat "$src/go.sum" "$src/go.mod" "$src/main.go" | sha256sum | cut -c1-16)
cache_root="${STAMPEDE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stampede}"
dir="$cache_root/controlplane/$key"
bin="$dir/controlplane"

# Fast path: no lock, no go.
if [[ -f "$bin" && -x "$bin" ]]; then
  case "$bin" in /*) ;; *) bin="$PWD/$bin" ;; esac
  printf '%s\n' "$bin"
  exit 0
fi

mkdir -p "$dir"
dir=$(cd -- "$dir" && pwd -P)
bin="$dir/controlplane"

# One builder per key; others wait, then reuse its result.
exec 9>"$dir/.lock"
if ! flock -n 9; then
  echo "build-controlplane: another build of $key is running; waiting for it…" >&2
  flock 9
fi
if [[ -f "$bin" && -x "$bin" ]]; then
  printf '%s\n' "$bin"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  if [[ -x /usr/local/go/bin/go ]]; then
    PATH="/usr/local/go/bin:$PATH"
  else
    echo "build-controlplane: 'go' not found in PATH (need Go >= 1.26 to build go/controlplane)" >&2
    exit 127
  fi
fi

export GOTOOLCHAIN=local CGO_ENABLED=0
# readonly: build exactly what go.mod/go.sum pin (never rewrites them);
# buildvcs=false: the checkout may have no commits / a dirty tree.
export GOFLAGS="-mod=readonly -buildvcs=false"
jobs="${STAMPEDE_BUILD_JOBS:-2}"

cd "$src"
k8s_version=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)  # e.g. v1.37.2
minor=${k8s_version#v1.}; minor=${minor%%.*}
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done

echo "build-controlplane: building control plane (k8s $k8s_version, key $key; cold build takes ~10 min on 2 cores and ~3 GiB RAM, later builds reuse the cache)…" >&2
echo "build-controlplane: downloading modules (if not cached)…" >&2
go mod download
total=$(go list -deps . | wc -l)

tmp=$(mktemp "$dir/.controlplane.tmp.XXXXXX")
trap 'rm -f "$tmp"' EXIT
start=$SECONDS
log="$dir/build.log"

# `go build -v` prints each package as it is compiled; turn that into one
# progress line every 30 s, and pass every other line (errors) through.
set +e
go build -v -p "$jobs" -trimpath -ldflags "$ldflags" -o "$tmp" . 2>&1 | tee "$log" | {
  n=0; last=""; next=$((SECONDS + 30))
  while :; do
    if IFS= read -r -t 5 line; then
      if [[ "$line" =~ ^[A-Za-z0-9._~/+-]+$ ]]; then
        n=$((n + 1)); last=$line
      else
        printf '%s\n' "$line" >&2
      fi
    elif (($? <= 128)); then
      break # EOF
    fi
    if ((SECONDS >= next)); then
      e=$((SECONDS - start))
      printf 'build-controlplane: [%dm%02ds] %d/~%d packages compiled (%s)\n' $((e / 60)) $((e % 60)) "$n" "$total" "${last:-linking or cached}" >&2
      next=$((SECONDS + 30))
    fi
  done
}
rc=${PIPESTATUS[0]}
set -e
if ((rc != 0)); then
  echo "build-controlplane: go build failed (exit $rc); full log: $log" >&2
  exit "$rc"
fi

chmod 0755 "$tmp"
mv -f "$tmp" "$bin"
trap - EXIT
e=$((SECONDS - start))
printf 'build-controlplane: built %s (%s MiB) in %dm%02ds\n' "$bin" $(( $(stat -c %s "$bin") / 1048576 )) $((e / 60)) $((e % 60)) >&2
printf '%s\n' "$bin"
