#!/usr/bin/env bash
# Reconnaissance: masscan over node-1's first 16 pod addresses, ports 1-256, at 500 packets/s.
set -euo pipefail
source "$LAB_DIR/lib.sh"
NET=10.244.1.0/28; lab_assert_target "$NET"
ns=$(lab_pod_ns toolbox)
gt_begin masscan reconnaissance masscan pod:toolbox "cidr:$NET" "masscan -p1-256 --rate 500"
# masscan has its own TCP stack: give it the gateway's MAC so that it does not have to ARP.
gw_mac=$(lab_exec "$ns" ip neigh show 10.244.2.1 | awk '{print $5}')
[[ -n $gw_mac ]] || { lab_exec "$ns" ping -c1 -W1 10.244.2.1 >/dev/null; gw_mac=$(lab_exec "$ns" ip neigh show 10.244.2.1 | awk '{print $5}'); }
# masscan (1.3.2) can hang after its --wait ("waiting -N secs"), so the time is bounded
# from outside: 4096 probes at 500/s take ~8 s, then 3 s for late answers. It runs in
# the run directory so that no paused.conf can land anywhere else; its progress
# display (stderr, one line per 250 ms) is dropped.
(cd "$LAB_RUN" && lab_exec "$ns" timeout -k 1 14 masscan "$NET" -p1-256 --rate 500 --wait 2 --adapter eth0 --router-mac "$gw_mac" >>"$GT_LOG" 2>/dev/null) || true
gt_end '{"ports":"1-256","rate":500}'
