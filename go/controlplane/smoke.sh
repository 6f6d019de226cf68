#!/usr/bin/env bash
# Smoke check for the controlplane binary: etcd -> kube-apiserver (/readyz) ->
# kube-controller-manager (csrsigning only) -> one kubelet-serving CSR
# created, approved and issued. Uses a throwaway openssl PKI in a temp dir.
#
# Usage: go/controlplane/smoke.sh [path/to/controlplane]   (default: build/reuse via scripts/build-controlplane.sh)
# Set KEEP=1 to keep the temp dir (logs, PKI) afterwards.
# Needs: openssl, curl, jq, python3 (free-port picking).
set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
BIN=${1:-$("$here/../../scripts/build-controlplane.sh")}
D=$(mktemp -d /tmp/stampede-smoke.XXXXXX)
pids=()

cleanup() {
  local p
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    p=${pids[i]}
    kill -TERM "$p" 2>/dev/null || continue
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  if [[ -n "${KEEP:-}" ]]; then echo "kept $D" >&2; else rm -rf "$D"; fi
}
trap cleanup EXIT

now_ms() { date +%s%3N; }
log() { printf '[smoke] %s\n' "$*" >&2; }
fail() { log "FAIL: $*"; for f in "$D"/*.log; do echo "--- tail $f" >&2; tail -n 30 "$f" >&2; done; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# --- throwaway PKI (EC P-256, PKCS#8 keys) ------------------------------------
P=$D/pki; mkdir -p "$P"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$P/$1.key" 2>/dev/null; }
ca() { key "$1"; openssl req -x509 -new -key "$P/$1.key" -subj "/CN=$1" -days 2 -out "$P/$1.crt" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null; }
leaf() { # name ca subj extfile-lines...
  local n=$1 c=$2 s=$3; shift 3
  key "$n"
  openssl req -new -key "$P/$n.key" -subj "$s" -out "$P/$n.csr" 2>/dev/null
  printf '%s\n' "$@" > "$P/$n.ext"
  openssl x509 -req -in "$P/$n.csr" -CA "$P/$c.crt" -CAkey "$P/$c.key" -CAcreateserial -days 2 \
    -extfile "$P/$n.ext" -out "$P/$n.crt" 2>/dev/null
}
ca server-ca; ca client-ca; ca kubelet-serving-ca
leaf apiserver server-ca "/CN=kube-apiserver" \
  "subjectAltName=IP:127.0.0.1,DNS:localhost" "extendedKeyUsage=serverAuth" "keyUsage=critical,digitalSignature"
leaf admin client-ca "/O=system:masters/CN=admin" "extendedKeyUsage=clientAuth" "keyUsage=critical,digitalSignature"
leaf kcm client-ca "/O=system:masters/CN=system:kube-controller-manager" "extendedKeyUsage=clientAuth" "keyUsage=critical,digitalSignature"
key sa; openssl pkey -in "$P/sa.key" -pubout -out "$P/sa.pub" 2>/dev/null

C=$(free_port); PP=$(free_port); A=$(free_port)

# --- etcd ------------------------------------------------------------------
t0=$(now_ms)
"$BIN" etcd --name=default --data-dir="$D/etcd" \
  --listen-client-urls="http://127.0.0.1:$C" --advertise-client-urls="http://127.0.0.1:$C" \
  --listen-peer-urls="http://127.0.0.1:$PP" --initial-advertise-peer-urls="http://127.0.0.1:$PP" \
  --initial-cluster="default=http://127.0.0.1:$PP" \
  --unsafe-no-fsync --log-level=warn --quota-backend-bytes=4294967296 >"$D/etcd.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do
  curl -fsS "http://127.0.0.1:$C/health" 2>/dev/null | grep -q '"health":"true"' && break
  kill -0 "${pids[0]}" 2>/dev/null || fail "etcd exited"
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$C/health" | grep -q '"health":"true"' || fail "etcd not healthy"
log "etcd healthy after $(($(now_ms) - t0)) ms (client :$C)"

# --- kube-apiserver ----------------------------------------------------------
t0=$(now_ms)
"$BIN" kube-apiserver \
  --etcd-servers="http://127.0.0.1:$C" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$A" \
  --tls-cert-file="$P/apiserver.crt" --tls-private-key-file="$P/apiserver.key" \
  --client-ca-file="$P/client-ca.crt" \
  --authorization-mode=Node,RBAC \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$P/sa.pub" --service-account-signing-key-file="$P/sa.key" \
  --service-cluster-ip-range=10.0.0.0/24 \
  --endpoint-reconciler-type=none \
  --disable-admission-plugins=ServiceAccount --enable-admission-plugins=NodeRestriction \
  --v=0 >"$D/apiserver.log" 2>&1 &
pids+=($!)
CURL=(curl -fsS --cacert "$P/server-ca.crt")
ADMIN=("${CURL[@]}" --cert "$P/admin.crt" --key "$P/admin.key")
URL="https://127.0.0.1:$A"
for _ in $(seq 1200); do
  [[ "$("${CURL[@]}" "$URL/readyz" 2>/dev/null || true)" == ok ]] && break
  kill -0 "${pids[1]}" 2>/dev/null || fail "kube-apiserver exited"
  sleep 0.1
done
[[ "$("${CURL[@]}" "$URL/readyz")" == ok ]] || fail "apiserver /readyz not ok"
log "kube-apiserver /readyz ok after $(($(now_ms) - t0)) ms (:$A), version $("${CURL[@]}" "$URL/version" | jq -r .gitVersion)"

# ServiceAccount + TokenRequest (signed with --service-account-signing-key-file) + SelfSubjectReview.
"${ADMIN[@]}" -X POST -H 'Content-Type: application/json' -d '{"metadata":{"name":"smoke"}}' \
  "$URL/api/v1/namespaces/default/serviceaccounts" >/dev/null || fail "create SA"
tok=$("${ADMIN[@]}" -X POST -H 'Content-Type: application/json' \
  -d '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"expirationSeconds":600}}' \
  "$URL/api/v1/namespaces/default/serviceaccounts/smoke/token" | jq -r .status.token)
who=$("${CURL[@]}" -H "Authorization: Bearer $tok" -X POST -H 'Content-Type: application/json' \
  -d '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}' \
  "$URL/apis/authentication.k8s.io/v1/selfsubjectreviews" | jq -r .status.userInfo.username)
[[ "$who" == system:serviceaccount:default:smoke ]] || fail "SA token auth: got '$who'"
log "TokenRequest token authenticates as $who"

# --- kube-controller-manager ---------------------------------------------------
cat >"$D/kcm.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "$URL", certificate-authority: "$P/server-ca.crt"}
users:
- name: kcm
  user: {client-certificate: "$P/kcm.crt", client-key: "$P/kcm.key"}
contexts:
- name: kcm
  context: {cluster: local, user: kcm}
current-context: kcm
EOF
t0=$(now_ms)
"$BIN" kube-controller-manager \
  --kubeconfig="$D/kcm.kubeconfig" \
  --controllers=csrsigning \
  --cluster-signing-kubelet-serving-cert-file="$P/kubelet-serving-ca.crt" \
  --cluster-signing-kubelet-serving-key-file="$P/kubelet-serving-ca.key" \
  --cluster-signing-duration=24h \
  --leader-elect=false --secure-port=0 \
  --kube-api-qps=500 --kube-api-burst=1000 \
  --v=0 >"$D/kcm.log" 2>&1 &
pids+=($!)

# --- canary kubelet-serving CSR -------------------------------------------------
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$D/node.key" 2>/dev/null
openssl req -new -key "$D/node.key" -subj "/O=system:nodes/CN=system:node:canary" \
  -addext "subjectAltName=IP:127.0.0.1,DNS:canary" -out "$D/node.csr" 2>/dev/null
jq -n --arg req "$(base64 -w0 <"$D/node.csr")" '{apiVersion:"certificates.k8s.io/v1",kind:"CertificateSigningRequest",
  metadata:{name:"smoke-canary"},spec:{request:$req,signerName:"kubernetes.io/kubelet-serving",
  usages:["digital signature","server auth"],expirationSeconds:600}}' >"$D/csr.json"
CSRS="$URL/apis/certificates.k8s.io/v1/certificatesigningrequests"
"${ADMIN[@]}" -X POST -H 'Content-Type: application/json' --data @"$D/csr.json" "$CSRS" >/dev/null || fail "create CSR"
"${ADMIN[@]}" "$CSRS/smoke-canary" |
  jq '.status.conditions=[{type:"Approved",status:"True",reason:"Smoke",message:"smoke test"}]' >"$D/approve.json"
"${ADMIN[@]}" -X PUT -H 'Content-Type: application/json' --data @"$D/approve.json" "$CSRS/smoke-canary/approval" >/dev/null ||
  fail "approve CSR"
for _ in $(seq 600); do
  cert=$("${ADMIN[@]}" "$CSRS/smoke-canary" | jq -r '.status.certificate // empty')
  [[ -n "$cert" ]] && break
  kill -0 "${pids[2]}" 2>/dev/null || fail "kube-controller-manager exited"
  sleep 0.1
done
[[ -n "$cert" ]] || fail "CSR not issued"
log "kube-controller-manager issued the canary CSR $(($(now_ms) - t0)) ms after KCM start"
base64 -d <<<"$cert" | openssl x509 -noout -subject -issuer -ext subjectAltName,extendedKeyUsage >&2
base64 -d <<<"$cert" | openssl verify -CAfile "$P/kubelet-serving-ca.crt" >&2 || fail "issued cert does not chain to kubelet-serving CA"
"${ADMIN[@]}" -X DELETE "$CSRS/smoke-canary" >/dev/null
log "OK"
