#!/usr/bin/env bash
# Lateral movement: SSH password brute force from the compromised pod against the
# bastion (60 attempts, 4 tasks). No lab account exists, so none can succeed.
set -euo pipefail
source "$LAB_DIR/lib.sh"
T=$(lab_pod_ip bastion); lab_assert_target "$T"
ns=$(lab_pod_ns toolbox)
lab_hydra_lists
gt_begin hydra-ssh lateral-movement hydra pod:toolbox pod:bastion "hydra ssh, users admin/ubuntu, 30 passwords each"
lab_exec "$ns" timeout 90 hydra -L "$LAB_RUN/users.txt" -P "$LAB_RUN/passwords.txt" -t 4 -W 1 -I -f -o /dev/null "ssh://$T" >/dev/null 2>&1 || true
gt_end '{"dport":22}'
