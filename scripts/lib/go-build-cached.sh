# shellcheck shell=bash
# Shared by the scripts that build Go programs for the tests into the cache outside the checkout
# (build-controlplane.sh, build-jaeger.sh; build-compose.sh uses go_on_path and lock_build).
#
# go_build_cached NAME SRC_DIR PACKAGE [LDFLAGS_FUNCTION] [TAGS]
#
# Builds (or reuses) one Go program from a small module under go/, cached outside the checkout and
# keyed by the sha256 of the module's go.sum, go.mod and *.go files:
#   ${STAMPEDE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stampede}/NAME/<key>/NAME
# A cache hit prints the path and returns without running `go`. The last line on stdout is always
# the absolute binary path; progress (one line every 30 s) goes to stderr. LDFLAGS_FUNCTION, when
# given, is called inside SRC_DIR on a cache miss only and prints extra -ldflags. TAGS, when given,
# is passed to `go build -tags` and is part of the key.
#
# Environment:
#   STAMPEDE_CACHE        cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/stampede)
#   STAMPEDE_BUILD_JOBS   go build -p (default 2; each compile can take >1 GiB)
go_build_cached() {
  local name=$1 src=$2 pkg=$3 ldflags_fn=${4:-} tags=${5:-}
  local f
  for f in go.sum go.mod; do
    if [[ ! -f "$src/$f" ]]; then
      echo "build-$name: missing $src/$f" >&2
      return 1
    fi
  done

  local key cache_root dir bin
  key=$(cd "$src" && { cat go.sum go.mod $(ls -- *.go 2>/dev/null); [[ -z "$tags" ]] || printf 'tags=%s' "$tags"; } | sha256sum | cut -c1-16)
  cache_root="${STAMPEDE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stampede}"
  dir="$cache_root/$name/$key"
  bin="$dir/$name"

  # Fast path: no lock, no go.
  if [[ -f "$bin" && -x "$bin" ]]; then
    case "$bin" in /*) ;; *) bin="$PWD/$bin" ;; esac
    printf '%s\n' "$bin"
    return 0
  fi
  if [[ -n "${STAMPEDE_CACHED_ONLY:-}" ]]; then
    echo "build-$name: not built yet (key $key)" >&2
    return 3
  fi

  mkdir -p "$dir"
  dir=$(cd -- "$dir" && pwd -P)
  bin="$dir/$name"

  # One builder per key; others wait, then reuse its result. The lock is released when the
  # subshell below exits, so a caller that sources this file keeps no descriptor open.
  (
    lock_build "$name" "$key" "$dir"
    if [[ -f "$bin" && -x "$bin" ]]; then
      exit 0
    fi
    go_on_path "$name"

    export GOTOOLCHAIN=local CGO_ENABLED=0
    # readonly: build exactly what go.mod/go.sum pin (never rewrites them);
    # buildvcs=false: the checkout may have no commits / a dirty tree.
    export GOFLAGS="-mod=readonly -buildvcs=false"
    local jobs="${STAMPEDE_BUILD_JOBS:-2}"

    cd "$src"
    local ldflags="-s -w"
    if [[ -n "$ldflags_fn" ]]; then
      ldflags+=" $("$ldflags_fn")"
    fi

    echo "build-$name: building $pkg (key $key) into $dir; a cold build takes minutes, later runs reuse it…" >&2
    echo "build-$name: downloading modules (if not cached)…" >&2
    go mod download
    local total
    total=$(go list -tags "$tags" -deps "$pkg" | wc -l)

    local tmp start log rc
    tmp=$(mktemp "$dir/.$name.tmp.XXXXXX")
    trap 'rm -f "$tmp"' EXIT
    start=$SECONDS
    log="$dir/build.log"

    # `go build -v` prints each package as it is compiled; turn that into one
    # progress line every 30 s, and pass every other line (errors) through.
    set +e
    go build -v -p "$jobs" -trimpath -tags "$tags" -ldflags "$ldflags" -o "$tmp" "$pkg" 2>&1 | tee "$log" | {
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
          printf 'build-%s: [%dm%02ds] %d/~%d packages compiled (%s)\n' "$name" $((e / 60)) $((e % 60)) "$n" "$total" "${last:-linking or cached}" >&2
          next=$((SECONDS + 30))
        fi
      done
    }
    rc=${PIPESTATUS[0]}
    set -e
    if ((rc != 0)); then
      echo "build-$name: go build failed (exit $rc); full log: $log" >&2
      exit "$rc"
    fi

    chmod 0755 "$tmp"
    mv -f "$tmp" "$bin"
    trap - EXIT
    e=$((SECONDS - start))
    printf 'build-%s: built %s (%s MiB) in %dm%02ds\n' "$name" "$bin" $(( $(stat -c %s "$bin") / 1048576 )) $((e / 60)) $((e % 60)) >&2
  ) || return $?
  printf '%s\n' "$bin"
}

# go_on_path NAME: puts Go on PATH (also when it is only at /usr/local/go) or fails with 127.
go_on_path() {
  if command -v go >/dev/null 2>&1; then return 0; fi
  if [[ -x /usr/local/go/bin/go ]]; then
    PATH="/usr/local/go/bin:$PATH"
    return 0
  fi
  echo "build-$1: 'go' not found in PATH (need Go >= 1.26)" >&2
  return 127
}

# lock_build NAME KEY DIR: one builder per key; the others wait on fd 9, then reuse its result.
lock_build() {
  exec 9>"$3/.lock"
  if ! flock -n 9; then
    echo "build-$1: another build of $2 is running; waiting for it…" >&2
    flock 9
  fi
}
