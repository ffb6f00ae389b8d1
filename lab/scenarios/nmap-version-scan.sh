#!/usr/bin/env bash
# Reconnaissance: service/version detection of postgres, legacy app and bastion.
set -euo pipefail
source "$LAB_DIR/lib.sh"
lab_assert_target 10.244.1.4 10.244.1.5 10.244.1.6
gt_begin nmap-version-scan reconnaissance nmap pod:toolbox "cidr:10.244.1.4/30" "nmap -sV on ports 22, 5432, 8080"
lab_exec "$(lab_pod_ns toolbox)" timeout 90 nmap -n -Pn -sV --version-light -p 22,5432,8080 --host-timeout 60s 10.244.1.4-6 -oN /dev/null >>"$GT_LOG" 2>&1
gt_end '{"ports":[22,5432,8080]}'
