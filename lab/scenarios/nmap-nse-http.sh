#!/usr/bin/env bash
# Reconnaissance: NSE HTTP scripts (title, headers, methods, enum) against the legacy app.
set -euo pipefail
source "$LAB_DIR/lib.sh"
T=$(lab_pod_ip legacy); lab_assert_target "$T"
gt_begin nmap-nse-http reconnaissance nmap pod:toolbox pod:legacy "nmap --script http-title,http-headers,http-methods,http-enum"
lab_exec "$(lab_pod_ns toolbox)" timeout 90 nmap -n -Pn -p 8080 --script http-title,http-headers,http-methods,http-enum \
  --script-timeout 40s "$T" -oN /dev/null >>"$GT_LOG" 2>&1 || true
gt_end '{"dport":8080}'
