#!/usr/bin/env bash
# Reconnaissance: masscan over node-1's first 16 pod addresses, ports 1-1024, at 300 packets/s.
set -euo pipefail
source "$LAB_DIR/lib.sh"
NET=10.244.1.0/28; lab_assert_target "$NET"
ns=$(lab_pod_ns toolbox)
gt_begin masscan reconnaissance masscan pod:toolbox "cidr:$NET" "masscan -p1-1024 --rate 300"
# masscan has its own TCP stack: give it the gateway's MAC so that it does not have to ARP.
gw_mac=$(lab_exec "$ns" ip neigh show 10.244.2.1 | awk '{print $5}')
[[ -n $gw_mac ]] || { lab_exec "$ns" ping -c1 -W1 10.244.2.1 >/dev/null; gw_mac=$(lab_exec "$ns" ip neigh show 10.244.2.1 | awk '{print $5}'); }
lab_exec "$ns" timeout 90 masscan "$NET" -p1-1024 --rate 300 --wait 2 --adapter eth0 --router-mac "$gw_mac" >/dev/null 2>&1 || true
gt_end '{"ports":"1-1024","rate":300}'
