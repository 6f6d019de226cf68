# shellcheck shell=bash
# Sourced by ./run and .ci/run. Puts a Node >= 24 first on PATH, installing Node 24 LTS
# from the npm registry into a cache outside the checkout when the machine's Node is older.
# Why: the stack (undici 8 inside @kubernetes/client-node 2, native .ts type stripping) needs Node >= 22.19,
# and the project targets Node 24 LTS.

STAMPEDE_CACHE="${STAMPEDE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stampede}"
STAMPEDE_NODE_VERSION="${STAMPEDE_NODE_VERSION:-24.21.0}"
export STAMPEDE_CACHE

node_major() { command -v node >/dev/null 2>&1 && node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "$(node_major)" -lt 24 ]; then
  node_dir="$STAMPEDE_CACHE/node-$STAMPEDE_NODE_VERSION"
  if [ ! -x "$node_dir/bin/node" ]; then
    if ! command -v npm >/dev/null 2>&1; then
      echo "stampede: Node $(node -v 2>/dev/null || echo 'is missing') is too old and npm is missing; install Node.js 24 LTS" >&2
      exit 1
    fi
    echo "stampede: Node $(node -v 2>/dev/null) is older than 24; installing node@$STAMPEDE_NODE_VERSION into $node_dir" >&2
    mkdir -p "$STAMPEDE_CACHE"
    tmp_dir="$(mktemp -d "$STAMPEDE_CACHE/node-install.XXXXXX")"
    npm install --global --no-fund --no-audit --loglevel=error --prefix "$tmp_dir" "node@$STAMPEDE_NODE_VERSION" >&2
    rm -rf "$node_dir" && mv "$tmp_dir" "$node_dir"
  fi
  # The node package ships only the node binary; the machine's npm runs on whichever node is first on PATH.
  export PATH="$node_dir/bin:$PATH"
  hash -r
fi
if [ "$(node_major)" -lt 24 ]; then
  echo "stampede: could not put Node 24 on PATH (found $(node -v))" >&2
  exit 1
fi
