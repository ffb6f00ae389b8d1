#!/usr/bin/env bash
# Reconnaissance: Nmap's HTTP scripts against the legacy app, then requests carrying
# the user agents other scanners send (Nikto, Nuclei, ffuf, WPScan, zgrab — tools
# Debian does not package; curl sends their User-Agent strings as they write them).
set -euo pipefail
source "$LAB_DIR/lib.sh"
T=$(lab_pod_ip legacy)
lab_assert_target "$T"
ns=$(lab_pod_ns toolbox)
gt_begin scanner-agents reconnaissance nmap+curl pod:toolbox pod:legacy "nmap --script http-title,http-headers; scanner user agents on /"
lab_exec "$ns" timeout 60 nmap -n -Pn -p 8080 --script http-title,http-headers "$T" >>"$GT_LOG" 2>&1 || true
for ua in 'Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000001)' \
          'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0 Safari/537.36 Nuclei - Open-source project (github.com/projectdiscovery/nuclei)' \
          'Fuzz Faster U Fool v2.1.0-dev' 'WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)' 'Mozilla/5.0 zgrab/0.x'; do
  lab_exec "$ns" timeout 10 curl -s -o /dev/null --max-time 3 -A "$ua" "http://$T:8080/" || true
done
gt_end '{"dport":8080}'
