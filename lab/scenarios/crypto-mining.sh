#!/usr/bin/env bash
# Command and control / mining: the pod that inherited a reused IP (thumbnailer) runs a
# miner speaking xmrig's stratum JSON-RPC (login, submit, keepalived) to a lab pool.
# Debian has no xmrig; lab/apps/labsrv.py's "miner" role speaks the same protocol.
set -euo pipefail
source "$LAB_DIR/lib.sh"
lab_pods_load; src=thumbnailer; [[ -n ${POD_IP[thumbnailer]:-} ]] || src=toolbox
lab_assert_target "$EXT_POOL_IP"
gt_begin crypto-mining command-and-control xmrig-protocol "pod:$src" "ext:pool.minexmr.lab.test=$EXT_POOL_IP" "stratum login/submit/keepalived to pool.minexmr.lab.test:3333 for 12 s"
lab_exec "$(lab_pod_ns $src)" timeout 30 "$PY" "$LABSRV" miner --host pool.minexmr.lab.test --port 3333 --seconds 12 --interval 1 || true
gt_end '{"dport":3333}'
