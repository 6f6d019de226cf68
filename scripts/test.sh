#!/usr/bin/env bash
# The whole test suite. Called by `./run test` (after setup) and therefore by CI.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }
started=$SECONDS

step "format check (prettier)"
npx prettier --check . >/dev/null || { npx prettier --check .; exit 1; }
step "lint (eslint, type-aware)"
npx eslint --max-warnings=0 .
step "type-check (tsc, every package)"
npx turbo run typecheck --log-prefix=none --output-logs=errors-only

step "Go helpers (control plane: cached by go.sum; a cold build takes several minutes)"
STAMPEDE_CONTROLPLANE_BIN="$(bash scripts/build-controlplane.sh)"
export STAMPEDE_CONTROLPLANE_BIN
echo "control plane: $STAMPEDE_CONTROLPLANE_BIN" >&2

step "tests (node --test)"
# One node --test run over every package, so the closing summary is the whole suite's.
node --test --test-reporter=spec --test-concurrency=2 \
  'packages/*/src/**/*.test.ts' 'services/*/src/**/*.test.ts' \
  'packages/*/test/**/*.test.ts' 'services/*/test/**/*.test.ts'

step "all tests passed in $((SECONDS - started)) s"
