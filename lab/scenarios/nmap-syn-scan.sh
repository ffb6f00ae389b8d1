#!/usr/bin/env bash
# Reconnaissance: a compromised pod SYN-scans the other node's pod subnet (top 100 ports).
set -euo pipefail
source "$LAB_DIR/lib.sh"
NET=10.244.1.0/28   # the first 16 addresses of node-1's pod CIDR: coredns, frontend, postgres, legacy, bastion, cart
lab_assert_target "$NET"
gt_begin nmap-syn-scan reconnaissance nmap pod:toolbox "cidr:$NET" "nmap -sS --top-ports 100 against node-1 pods"
lab_exec "$(lab_pod_ns toolbox)" timeout 60 nmap -n -Pn -sS --top-ports 100 -T4 --max-retries 1 "$NET" -oN /dev/null >>"$GT_LOG" 2>&1
gt_end '{"ports":"top-100"}'
