#!/bin/sh
# docker compose's one-shot `kube-setup` (in the k3s image, which has kubectl): waits for the k3s
# server, applies deploy/base/rbac, and writes a kubeconfig per identity into the shared volume:
#   /kube/watcher.kubeconfig, /kube/worker.kubeconfig  ServiceAccount tokens (least privilege)
#   /kube/admin.kubeconfig                             k3s admin, for the fleet simulator only
# Every kubeconfig points at https://k3s:6443 (the server's name on the compose network).
set -eu
src=/output/kubeconfig.yaml
until [ -s "$src" ]; do sleep 1; done
sed 's#https://127.0.0.1:6443#https://k3s:6443#' "$src" >/kube/admin.kubeconfig
export KUBECONFIG=/kube/admin.kubeconfig
until kubectl get --raw=/readyz >/dev/null 2>&1; do sleep 1; done
kubectl apply -f /deploy/rbac/
server=$(kubectl config view --raw -o jsonpath='{.clusters[0].cluster.server}')
ca=$(kubectl config view --raw -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')
for service in watcher worker; do
  token=$(kubectl -n stampede-system create token "stampede-$service" --duration=8760h)
  cat >"/kube/$service.kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
  - name: k3s
    cluster: { server: "$server", certificate-authority-data: "$ca" }
users:
  - name: stampede-$service
    user: { token: "$token" }
contexts:
  - name: stampede-$service
    context: { cluster: k3s, user: stampede-$service }
current-context: stampede-$service
KUBECONFIG
done
chmod 0644 /kube/*.kubeconfig
echo "kube-setup: RBAC applied; kubeconfigs in /kube"
