#!/usr/bin/env bash
# Harrier lab: one command sets up the two-node cluster, captures, runs benign
# traffic and the scenarios, writes captures + Kubernetes snapshot + ground
# truth to --out, and tears everything down (also on error or Ctrl-C).
#
#   lab/run.sh [--short|--demo|--full] [--out DIR] [--scenarios a,b,c] [--install]
#
# --short  CI mode: set-up, a little benign traffic, the IP reuse and the
#          reschedule, one attack (Log4Shell) and one scan, teardown (~1.5 min
#          on a busy 2-core machine).
# --demo   the run behind examples/demo: short plus a handful of quick attacks.
# --full   every scenario in lab/scenarios.list (< 10 min).
set -euo pipefail
LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$LAB_DIR/.." && pwd)
MODE=short OUT=$REPO/out/lab SCENARIOS= INSTALL=0
while (($#)); do
  case $1 in
    --short|--demo|--full) MODE=${1#--} ;;
    --out) OUT=$2; shift ;;
    --scenarios) SCENARIOS=$2; shift ;;
    --install) INSTALL=1 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "lab/run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[[ $(id -u) == 0 ]] || { echo "lab/run.sh: needs root (network namespaces)" >&2; exit 1; }
((INSTALL)) && bash "$LAB_DIR/install.sh"

export LAB_DIR LAB_RUN=/run/harrier-lab
source "$LAB_DIR/lib.sh"
source "$LAB_DIR/topology.sh"
source "$LAB_DIR/cluster.sh"
source "$LAB_DIR/benign.sh"

for t in ip iptables tcpdump tshark mergecap jq dnsmasq redis-server sshd curl dig openssl nmap; do
  command -v "$t" >/dev/null || [[ -x /usr/sbin/$t ]] || lab_die "$t is missing: run lab/install.sh (or pass --install)"
done
FINALIZE=$REPO/dist/lab/finalize.js
[[ -f $FINALIZE ]] || lab_die "$FINALIZE is missing: run 'npm run build' first"

# Scenario list: lines "name" of lab/scenarios.list whose modes column includes MODE,
# plus the two cluster events (@reuse-ip, @reschedule) at their place in the list.
if [[ -z $SCENARIOS ]]; then
  SCENARIOS=$(awk -v m="$MODE" '!/^#/ && NF >= 2 { n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == m) print $1 }' \
    "$LAB_DIR/scenarios.list" | paste -sd, -)
fi
IFS=, read -r -a LIST <<<"$SCENARIOS"
for s in "${LIST[@]}"; do
  [[ $s == @* || -f $LAB_DIR/scenarios/$s.sh ]] || lab_die "unknown scenario $s"
done

# One lab per machine (the names are fixed): an exclusive lock, held until exit
# and inherited by teardown.sh. It is taken on the directory /run itself so that
# no lock file is left behind. A second run waits up to LAB_LOCK_WAIT seconds.
exec 9</run
if ! flock -n 9; then
  lab_log "another lab run holds the lock; waiting up to ${LAB_LOCK_WAIT:-600} s"
  flock -w "${LAB_LOCK_WAIT:-600}" 9 || lab_die "another lab run is still active"
fi
export LAB_LOCK_HELD=1
bash "$LAB_DIR/teardown.sh" || lab_die "could not clean up a previous run"
mkdir -p "$LAB_RUN" "$OUT"
rm -rf "$OUT/captures" "$OUT/snapshot" "$OUT/ground-truth.json" "$OUT/cluster.pcap"
mkdir -p "$OUT/captures"
T0=$SECONDS

on_exit() {
  local rc=$?
  trap - EXIT INT TERM
  ((rc)) && lab_log "run failed (exit $rc); tearing down"
  # The services' and tools' logs, for whoever investigates a run.
  [[ -d $LAB_RUN/logs ]] && { rm -rf "$OUT/logs"; cp -r "$LAB_RUN/logs" "$OUT/logs"; }
  local t=$SECONDS
  bash "$LAB_DIR/teardown.sh" || rc=1
  lab_log "teardown took $((SECONDS - t)) s"
  ((rc)) || lab_log "done in $((SECONDS - T0)) s; outputs in $OUT"
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# --- Captures: tcpdump per capture point, unbuffered, full packets.
CAPS=()
cap_start() { # name ns iface
  lab_bg "$2" "cap-$1" tcpdump -i "$3" -n -U -s 0 -Z root -w "$OUT/captures/$1.pcap"
  CAPS+=("$1")
}
cap_wait() {
  local c n
  for c in "${CAPS[@]}"; do
    for n in $(seq 50); do grep -q 'listening on' "$LAB_RUN/logs/cap-$c.log" 2>/dev/null && break; sleep 0.1; done
  done
}
cap_stop() {
  local c
  for c in "${CAPS[@]}"; do lab_stop_bg "cap-$c"; done
  sleep 1
}

# --- Cluster events in the middle of the run.
# The report job's pod is deleted; a new pod of another workload gets its IP.
event_reuse_ip() {
  REPORT_NAME=${POD_NAME[report]} REPORT_IP=${POD_IP[report]}
  lab_stop_bg benign-report
  benign_report_gt "$(lab_now)"
  lab_pod_delete report
  # Two seconds, so that the snapshot's whole-second timestamps (deletion rounded
  # up, creation rounded down) still put the old pod's end before the new one's start.
  sleep 2
  lab_pod thumbnailer 2 "$REPORT_IP" media thumbnailer-7c6b5d4f8-r2k8v ReplicaSet thumbnailer-7c6b5d4f8 thumbnailer default \
    ghcr.io/lab/thumbnailer:3.2 '[]'
  lab_log "IP $REPORT_IP: $REPORT_NAME deleted, now ${POD_NAME[thumbnailer]}"
  local start; start=$(lab_now)
  # The new pod's own benign traffic: lookups through kube-dns and image fetches.
  lab_bg "${POD_NETNS[thumbnailer]}" thumbnailer-fetch bash -c "while :; do
      dig +time=1 +tries=1 +short www.example.lab.test >/dev/null; curl -s -o /dev/null --max-time 3 http://www.example.lab.test/img/\$RANDOM.jpg; sleep 2; done"
  sleep 4
  gt_write thumbnailer-after-ip-reuse benign dig "$(gt_ep pod:thumbnailer)" "$(gt_ep 'svc:coredns@kube-system/kube-dns=10.96.0.10')" \
    "$start" "$(lab_now)" "the pod that inherited $REPORT_IP looks names up" '{}'
}
# cart is evicted from node-2 and its ReplicaSet starts a replacement on node-1.
event_reschedule() {
  local old=${POD_NAME[cart]} now; now=$(lab_now)
  benign_cart_gt "$BENIGN_START" "$now"
  lab_pod_delete cart
  lab_pod cart 1 10.244.1.7 shop cart-5d8c7b9f6-p8r4t ReplicaSet cart-5d8c7b9f6 cart cart ghcr.io/lab/shop-cart:2.1.0 \
    '[{"name":"http","containerPort":8080,"protocol":"TCP"}]'
  lab_bg "${POD_NETNS[cart]}" cart-2 "$PY" "$LABSRV" cart --bind "${POD_IP[cart]}" --port 8080
  lab_wait_tcp "${POD_NETNS[cart]}" "${POD_IP[cart]}" 8080
  lab_kube_proxy_sync
  CART_SINCE=$(lab_now)
  lab_log "rescheduled: $old (node-2) -> ${POD_NAME[cart]} (node-1, ${POD_IP[cart]})"
}

# --- The run.
lab_log "mode $MODE: ${LIST[*]}"
topo_cluster_net
cluster_initdb
cluster_pods
cap_start underlay-node-1 "$NS_NODE1" eth0
cap_start underlay-node-2 "$NS_NODE2" eth0
cap_start bridge-node-1 "$NS_NODE1" cni0
cap_start bridge-node-2 "$NS_NODE2" cni0
cap_start pod-toolbox "${POD_NETNS[toolbox]}" eth0
cap_start pod-legacy "${POD_NETNS[legacy]}" eth0
cap_start pod-frontend-lo "${POD_NETNS[frontend]}" lo
cap_wait
lab_log "topology and captures up after $((SECONDS - T0)) s"
cluster_certs
cluster_services
cluster_apps
benign_start
lab_log "set-up done in $((SECONDS - T0)) s"
sleep "$([[ $MODE == full ]] && echo 10 || echo 4)"

export OUT MODE
for s in "${LIST[@]}"; do
  case $s in
    @reuse-ip) event_reuse_ip ;;
    @reschedule) event_reschedule ;;
    *) timeout -k 5 150 bash "$LAB_DIR/scenarios/$s.sh" 9<&- || lab_log "warning: scenario $s failed (exit $?)" ;;
  esac
  sleep 1
done
sleep 2
benign_stop
sleep 1
cap_stop

# A cluster-wide view without duplicates: node-2's bridge in full plus node-1's
# bridge without packets that involve node-2 pods (node-2's bridge already has them).
tcpdump -r "$OUT/captures/bridge-node-1.pcap" -Z root -w "$OUT/captures/.n1.pcap" "not net $NODE2_POD_CIDR" 2>/dev/null
mergecap -F pcap -w "$OUT/cluster.pcap" "$OUT/captures/bridge-node-2.pcap" "$OUT/captures/.n1.pcap"
rm -f "$OUT/captures/.n1.pcap"
node "$FINALIZE" --run "$LAB_RUN" --out "$OUT" --mode "$MODE"
