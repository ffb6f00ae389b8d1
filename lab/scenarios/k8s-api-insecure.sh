#!/usr/bin/env bash
# Lateral movement in plaintext: a service-account token used against an API server
# port without TLS (the old insecure port, or what a mesh sidecar sees after it ends
# mTLS) — the token and the secrets request are visible on the wire.
set -euo pipefail
source "$LAB_DIR/lib.sh"
lab_assert_target "$NODE1_IP"
ns=$(lab_pod_ns toolbox)
gt_begin k8s-api-insecure lateral-movement curl pod:toolbox pod:apiserver "Bearer token over plain HTTP to node-1:8080: /api/v1/namespaces/kube-system/secrets"
tok="eyJhbGciOiJSUzI1NiIsImtpZCI6ImxhYiJ9.$(printf '{"iss":"kubernetes/serviceaccount","sub":"system:serviceaccount:dev:default"}' | base64 -w0 | tr '+/' '-_' | tr -d '=').bGFiLXNpZ25hdHVyZQ"
for p in /api/v1/namespaces/kube-system/secrets /api/v1/pods; do
  lab_exec "$ns" timeout 10 curl -s -o /dev/null --max-time 3 -H "Authorization: Bearer $tok" "http://$NODE1_IP:8080$p" || true
done
gt_end '{"dport":8080}'
