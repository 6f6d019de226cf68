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

step "Go helpers (control plane, kubelet, Jaeger, promtool, Prometheus and Helm: cached by go.sum; a cold build takes several minutes each)"
STAMPEDE_CONTROLPLANE_BIN="$(bash scripts/build-controlplane.sh)"
# After the control plane: the kubelet shares its module versions, so most packages are cached.
STAMPEDE_KUBELET_BIN="$(bash scripts/build-kubelet.sh)"
STAMPEDE_JAEGER_BIN="$(bash scripts/build-jaeger.sh)"
STAMPEDE_PROMTOOL_BIN="$(bash scripts/build-promtool.sh)"
# After promtool: the same module, so most packages are cached.
STAMPEDE_PROMETHEUS_BIN="$(bash scripts/build-prometheus.sh)"
# Helm's k8s.io/* modules are the control plane's, so most of its packages are cached by now.
STAMPEDE_HELM_BIN="$(bash scripts/build-helm.sh)"
export STAMPEDE_CONTROLPLANE_BIN STAMPEDE_KUBELET_BIN STAMPEDE_JAEGER_BIN STAMPEDE_PROMTOOL_BIN STAMPEDE_PROMETHEUS_BIN STAMPEDE_HELM_BIN
echo "control plane: $STAMPEDE_CONTROLPLANE_BIN" >&2
echo "kubelet: $STAMPEDE_KUBELET_BIN" >&2
echo "jaeger: $STAMPEDE_JAEGER_BIN" >&2
echo "promtool: $STAMPEDE_PROMTOOL_BIN" >&2
echo "prometheus: $STAMPEDE_PROMETHEUS_BIN" >&2
echo "helm: $STAMPEDE_HELM_BIN" >&2

step "policy core coverage (gate: lines 95%, branches 90%, functions 95%)"
mkdir -p artifacts
# A separate run so the gate covers the core alone and the suite's closing summary stays last below.
if ! node --test --experimental-test-coverage --test-reporter=spec \
  --test-coverage-include='packages/policy/src/**' --test-coverage-exclude='**/*.test.ts' \
  --test-coverage-lines=95 --test-coverage-branches=90 --test-coverage-functions=95 \
  'packages/policy/src/**/*.test.ts' 'packages/policy/test/**/*.test.ts' >artifacts/policy-coverage.log 2>&1; then
  grep -v '^ *✔' artifacts/policy-coverage.log | tail -80
  echo "policy coverage run failed (full log: artifacts/policy-coverage.log)" >&2
  exit 1
fi
sed -n '/start of coverage report/,/end of coverage report/p' artifacts/policy-coverage.log | grep -E 'all files|file +\|'

step "Debian packages for the tests: chromium (dashboard), libfaketime (clock skew); a no-op when installed"
bash scripts/ensure-test-packages.sh

step "tests (node --test)"
# One node --test run over every package, so the closing summary is the whole suite's.
node --test --test-reporter=spec --test-concurrency=2 \
  'packages/*/src/**/*.test.ts' 'services/*/src/**/*.test.ts' \
  'packages/*/test/**/*.test.ts' 'services/*/test/**/*.test.ts' \
  'load-tests/test/**/*.test.ts'

step "all tests passed in $((SECONDS - started)) s"
