#!/usr/bin/env bash
# Command and control (resource hijacking), Bitcoin-style: a miner's stratum v1
# handshake (mining.subscribe, mining.authorize) to the pool, as cgminer/ccminer send it.
set -euo pipefail
source "$LAB_DIR/lib.sh"
lab_assert_target "$EXT_POOL_IP"
ns=$(lab_pod_ns toolbox)
gt_begin stratum-v1 command-and-control ncat pod:toolbox "ext:pool.minexmr.lab.test=$EXT_POOL_IP" "mining.subscribe + mining.authorize to pool.minexmr.lab.test:3333"
{ printf '{"id": 1, "method": "mining.subscribe", "params": ["cgminer/4.12.1"]}\n'; sleep 0.5
  printf '{"id": 2, "method": "mining.authorize", "params": ["lab.worker1", "x"]}\n'; sleep 1; } |
  lab_exec "$ns" timeout 10 ncat pool.minexmr.lab.test 3333 >/dev/null 2>&1 || true
gt_end '{"dport":3333}'
