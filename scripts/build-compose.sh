#!/usr/bin/env bash
# Build (or reuse) Docker Compose from the Go module proxy, for validating docker-compose.yml with a
# real compose implementation's `config` command (no Docker engine is needed for `config`).
#
# Usage: COMPOSE=$(scripts/build-compose.sh); "$COMPOSE" -f docker-compose.yml config --quiet
#
# The module github.com/docker/compose/v5 carries `exclude` directives, so `go install pkg@version`
# refuses it; instead the module is downloaded and its ./cmd built in place, with the go.sum it ships.
# Cached outside the checkout, keyed by the version:
#   ${STAMPEDE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stampede}/compose/<version>/docker-compose
# A cache hit prints the path and exits without running `go`. The last line on stdout is the binary's
# absolute path; progress goes to stderr. A cold build takes about 1-3 minutes on 2 cores.
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=lib/go-build-cached.sh
source "$script_dir/lib/go-build-cached.sh"

version="${STAMPEDE_COMPOSE_VERSION:-v5.6.0}" # needs Go >= 1.26.8 (its go.mod)
module="github.com/docker/compose/v5"
cache_root="${STAMPEDE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stampede}"
dir="$cache_root/compose/$version"
bin="$dir/docker-compose"

if [[ -x "$bin" ]]; then
  printf '%s\n' "$(cd -- "$dir" && pwd -P)/docker-compose"
  exit 0
fi

mkdir -p "$dir"
dir=$(cd -- "$dir" && pwd -P)
bin="$dir/docker-compose"
lock_build compose "$version" "$dir"
if [[ -x "$bin" ]]; then
  printf '%s\n' "$bin"
  exit 0
fi
go_on_path compose # Go >= 1.26.8 (compose's go.mod)

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false"
echo "build-compose: building docker compose $version from the Go module proxy…" >&2
start=$SECONDS
src=$(go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [[ -z "$src" || ! -d "$src/cmd" ]]; then
  echo "build-compose: could not download $module@$version" >&2
  exit 1
fi
tmp=$(mktemp "$dir/.docker-compose.tmp.XXXXXX")
trap 'rm -f "$tmp"' EXIT
(cd "$src" && go build -p "${STAMPEDE_BUILD_JOBS:-2}" -trimpath -ldflags "-s -w -X $module/internal.Version=$version" -o "$tmp" ./cmd) >&2
chmod 0755 "$tmp"
mv -f "$tmp" "$bin"
trap - EXIT
echo "build-compose: built $bin in $((SECONDS - start)) s" >&2
printf '%s\n' "$bin"
