# Shared library of the Harrier lab: addresses, safety checks, namespace helpers,
# background processes, and the two logs the run turns into outputs
# (cluster events -> snapshot/*.json, scenario records -> ground-truth.json).
# Sourced by run.sh, teardown.sh and every scenario script.

# --- Naming: everything the lab creates carries this prefix, so teardown can find it.
LAB_PREFIX=hl-
# Run state (pids, pod table, logs) lives here; run.sh exports LAB_RUN.
LAB_RUN=${LAB_RUN:-/run/harrier-lab}
LAB_DIR=${LAB_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
PY=/usr/bin/python3   # Debian's python (the lab's servers use only its standard library)
LABSRV="$LAB_DIR/apps/labsrv.py"

# --- Address plan (README "Addresses" lists the same).
UNDERLAY_CIDR=172.30.0.0/24   # node host addresses, one L2 segment
GW_IP=172.30.0.1              # the "provider router" (underlay namespace)
NODE1_IP=172.30.0.11
NODE2_IP=172.30.0.12
CLUSTER_CIDR=10.244.0.0/16
NODE1_POD_CIDR=10.244.1.0/24
NODE2_POD_CIDR=10.244.2.0/24
SERVICE_CIDR=10.96.0.0/12
INET_LINK_GW=198.51.100.1     # router side of the link to the "internet" namespace
INET_LINK_IP=198.51.100.2
METADATA_IP=169.254.169.254
# External hosts (all in the "internet" namespace, reserved documentation ranges).
EXT_DNS_IP=198.51.100.53      # ns1.lab.test: authoritative for lab.test
EXT_CLIENT_IP=198.51.100.77   # a customer's browser
EXT_WEB_IP=203.0.113.10       # www.example.lab.test (HTTP + TLS)
EXT_PAY_IP=203.0.113.20       # api.payments.lab.test (TLS egress of the shop)
EXT_POOL_IP=203.0.113.30      # pool.minexmr.lab.test (stratum)
EXT_DROP_IP=203.0.113.40      # files.drop-box.lab.test (exfiltration target)
EXT_IODINE_IP=203.0.113.50    # ns of t.tun.lab.test (iodined)
EXT_DNS2TCP_IP=203.0.113.51   # ns of d.tun2.lab.test (dns2tcpd)
EXT_PTUN_IP=203.0.113.60      # ptunnel proxy
EXT_C2_IP=203.0.113.66        # c2.evil.lab.test (reverse shell listener)
EXT_ADDRS="$EXT_DNS_IP $EXT_CLIENT_IP $EXT_WEB_IP $EXT_PAY_IP $EXT_POOL_IP $EXT_DROP_IP $EXT_IODINE_IP $EXT_DNS2TCP_IP $EXT_PTUN_IP $EXT_C2_IP"
# Ranges every tool target must fall in (lab_assert_target).
# (10.53.0.0/27 is the inside of the iodine tunnel, which the lab creates.)
LAB_RANGES="172.30.0.0/24 10.244.0.0/16 10.53.0.0/27 10.96.0.0/12 198.51.100.0/24 203.0.113.0/24 169.254.169.254/32 127.0.0.0/8"

# Namespaces that are not pods.
NS_UL=${LAB_PREFIX}underlay
NS_INET=${LAB_PREFIX}internet
NS_NODE1=${LAB_PREFIX}node-1
NS_NODE2=${LAB_PREFIX}node-2

lab_now() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }
lab_log() { printf '[lab %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
lab_die() { printf 'lab: error: %s\n' "$*" >&2; exit 1; }

# ip2int / in_cidr: pure bash, so the safety check has no dependency.
lab_ip2int() { local IFS=.; local -a o=($1); echo $(( (o[0]<<24) + (o[1]<<16) + (o[2]<<8) + o[3] )); }
lab_in_cidr() { # ip cidr
  local ip=$1 net=${2%/*} len=${2#*/}
  local mask=$(( len == 0 ? 0 : (0xffffffff << (32 - len)) & 0xffffffff ))
  (( ( $(lab_ip2int "$ip") & mask ) == ( $(lab_ip2int "$net") & mask ) ))
}
# Refuse to run a tool against anything outside the lab. Called by every scenario
# for every target before the tool starts; a CIDR target is checked by its first and last address.
lab_assert_target() {
  local t r ok
  for t in "$@"; do
    local addrs=("$t")
    if [[ $t == */* ]]; then
      local len=${t#*/} base; base=$(lab_ip2int "${t%/*}")
      local last=$(( base + (1 << (32 - len)) - 1 ))
      addrs=("${t%/*}" "$(( (last>>24)&255 )).$(( (last>>16)&255 )).$(( (last>>8)&255 )).$(( last&255 ))")
    fi
    for a in "${addrs[@]}"; do
      [[ $a =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || lab_die "target '$a' is not an IPv4 address"
      ok=0
      for r in $LAB_RANGES; do lab_in_cidr "$a" "$r" && { ok=1; break; }; done
      ((ok)) || lab_die "target $a is outside the lab ranges ($LAB_RANGES); refusing"
    done
  done
}

# Run a command inside a lab namespace (refuses non-lab names).
lab_exec() {
  local ns=$1; shift
  [[ $ns == ${LAB_PREFIX}* ]] || lab_die "not a lab namespace: $ns"
  ip netns exec "$ns" "$@"
}

# Several `ip` commands in one lab namespace through one `ip -batch` process
# (process start-up dominates the set-up time on a loaded machine).
lab_ip() { # ns command...
  local ns=$1; shift
  [[ $ns == ${LAB_PREFIX}?* ]] || lab_die "not a lab namespace: '$ns'"
  printf '%s\n' "$@" | ip -n "$ns" -batch -
}

# Start a long-running process inside a namespace, in the background, logged and
# remembered (teardown also finds it through `ip netns pids`).
lab_bg() { # ns name cmd...
  local ns=$1 name=$2; shift 2
  mkdir -p "$LAB_RUN/logs"
  # (fd 9 closed: the run lock must not outlive run.sh in a background process)
  setsid ip netns exec "$ns" "$@" >"$LAB_RUN/logs/$name.log" 2>&1 < /dev/null 9<&- &
  echo "$! $ns $name" >> "$LAB_RUN/pids"
  disown "$!" 2>/dev/null || true   # teardown reaps it; no "Killed" job notices
}

# Stops a named background process (by the pid lab_bg recorded) and its children.
lab_stop_bg() {
  local pid ns name
  while read -r pid ns name; do
    # (its process group: lab_bg starts each one with setsid)
    if [[ $name == "$1" ]] && lab_pid_ours "$pid" "$ns"; then
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    fi
  done < "$LAB_RUN/pids"
}

# A remembered pid is ours only while it still lives in that lab namespace: after
# the process ended, its pid may belong to someone else's process.
lab_pid_ours() { # pid ns
  [[ -e /run/netns/$2 && -e /proc/$1/ns/net ]] &&
    [[ $(stat -Lc %i "/proc/$1/ns/net" 2>/dev/null) == "$(stat -Lc %i "/run/netns/$2" 2>/dev/null)" ]]
}

# Wait until a TCP port answers inside a namespace (bounded).
lab_wait_tcp() { # ns ip port [seconds]
  local ns=$1 ip=$2 port=$3 n=$(( ${4:-10} * 10 ))
  while (( n-- > 0 )); do
    lab_exec "$ns" bash -c "exec 3<>/dev/tcp/$ip/$port" 2>/dev/null && return 0
    sleep 0.1
  done
  lab_log "warning: $ip:$port in $ns did not come up"; return 1
}

# --- JSON without a jq process per record (jq costs ~0.1 s a call here).
# js STRING -> a JSON string literal; jo t:key=value ... -> an object, where t is
# s (string), n (number), b (boolean) or r (raw JSON, inserted as is).
js() {
  local v=$1
  v=${v//\\/\\\\}; v=${v//\"/\\\"}; v=${v//$'\n'/\\n}; v=${v//$'\t'/\\t}; v=${v//$'\r'/\\r}
  printf '"%s"' "$v"
}
jo() {
  local out= sep= kv t k v
  for kv in "$@"; do
    t=${kv%%:*} kv=${kv#*:} k=${kv%%=*} v=${kv#*=}
    [[ $t == s ]] && v=$(js "$v")
    out+="$sep\"$k\":$v" sep=,
  done
  printf '{%s}' "$out"
}

# --- Cluster event log (turned into kubectl-shaped snapshot documents at the end).
lab_event() { printf '%s\n' "$1" >> "$LAB_RUN/cluster-events.jsonl"; }

# --- Pod table: key -> netns, k8s namespace/name, ip, node. Persisted so scenario
# scripts (separate processes) see the same table.
declare -gA POD_NETNS POD_NAME POD_KNS POD_IP POD_NODE
# (declare -gA so that loading inside a function still sets the globals)
lab_pods_save() { declare -p POD_NETNS POD_NAME POD_KNS POD_IP POD_NODE | sed 's/^declare -A /declare -gA /' > "$LAB_RUN/pods.env"; }
lab_pods_load() { [[ -f $LAB_RUN/pods.env ]] && source "$LAB_RUN/pods.env"; return 0; }
lab_pods_load
lab_pod_ip() { lab_pods_load; [[ -n ${POD_IP[$1]:-} ]] || lab_die "unknown pod key $1"; echo "${POD_IP[$1]}"; }
lab_pod_ns() { lab_pods_load; [[ -n ${POD_NETNS[$1]:-} ]] || lab_die "unknown pod key $1"; echo "${POD_NETNS[$1]}"; }

# --- Ground truth: one JSON line per scenario (assembled into ground-truth.json).
# gt_begin NAME STAGE TOOL SRC DST [DESCRIPTION]; then run the tool; then gt_end.
# SRC/DST references, resolved when recorded (pods move and IPs are reused):
#   pod:KEY                      a pod of the lab's pod table (hostNetwork pods too)
#   svc:KEY@NS/NAME=CLUSTER-IP   the pod KEY reached through a ClusterIP service
#   ext:DOMAIN=IP                an external host (internet namespace or metadata)
#   cidr:CIDR                    a range (scans)
#   node:N                       node-N's own address (a process on the node, no pod)
gt_ep() {
  lab_pods_load
  local ref=$1 kind=${1%%:*} rest=${1#*:}
  case $kind in
    pod|svc)
      local key=${rest%%@*} svc= cip=
      [[ $kind == svc ]] && { svc=${rest#*@}; cip=${svc#*=}; svc=${svc%=*}; }
      [[ -n ${POD_IP[$key]:-} ]] || lab_die "ground truth: unknown pod key $key"
      local o; o=$(jo s:kind=pod "s:namespace=${POD_KNS[$key]}" "s:pod=${POD_NAME[$key]}" "s:ip=${POD_IP[$key]}" "s:node=${POD_NODE[$key]}")
      [[ -n $svc ]] && o="${o%\}},$(j=$(jo "s:service=$svc" "s:clusterIP=$cip"); echo "${j#\{}")"
      echo "$o" ;;
    ext) jo s:kind=external "s:domain=${rest%=*}" "s:ip=${rest#*=}" ;;
    cidr) jo s:kind=range "s:cidr=$rest" ;;
    node) jo s:kind=node "s:node=node-$rest" "s:ip=$([[ $rest == 1 ]] && echo "$NODE1_IP" || echo "$NODE2_IP")" ;;
    *) lab_die "ground truth: bad endpoint reference $ref" ;;
  esac
}
GT_NAME= GT_STAGE= GT_TOOL= GT_SRC= GT_DST= GT_DESC= GT_START=
gt_begin() {
  GT_NAME=$1 GT_STAGE=$2 GT_TOOL=$3 GT_DESC=${6:-}
  case $GT_STAGE in reconnaissance|exploitation|lateral-movement|exfiltration|command-and-control|denial-of-service|benign) ;;
    *) lab_die "unknown stage $GT_STAGE";; esac
  GT_SRC=$(gt_ep "$4"); GT_DST=$(gt_ep "$5")
  GT_LOG=$LAB_RUN/logs/$GT_NAME.log   # scenario scripts send their tools' output here
  GT_START=$(lab_now)
  lab_log "scenario $GT_NAME ($GT_STAGE, $GT_TOOL): $4 -> $5"
}
gt_end() { # [extra JSON object merged into the record, e.g. '{"ports":[80]}']
  local end; end=$(lab_now)
  local extra=${1:-}; [[ -n $extra ]] || extra='{}'
  gt_write "$GT_NAME" "$GT_STAGE" "$GT_TOOL" "$GT_SRC" "$GT_DST" "$GT_START" "$end" "$GT_DESC" "$extra"
}
gt_write() { # name stage tool src-json dst-json start end desc extra-json
  local extra=${9:-}; [[ -n $extra ]] || extra='{}'
  local o; o=$(jo "s:name=$1" "s:stage=$2" "s:tool=$3" "s:start=$6" "s:end=$7" "r:src=$4" "r:dst=$5" "s:description=$8")
  [[ $extra != '{}' ]] && o="${o%\}},${extra#\{}"
  echo "$o" >> "$LAB_RUN/ground-truth.jsonl"
}

# Word lists for the brute-force scenarios (short on purpose: bounded attempts).
lab_hydra_lists() {
  printf 'admin\nubuntu\n' > "$LAB_RUN/users.txt"
  printf '%s\n' 123456 password 12345678 qwerty 123456789 12345 1234 111111 1234567 dragon 123123 baseball \
    abc123 football monkey letmein 696969 shadow master 666666 qwertyuiop 123321 mustang 1234567890 michael \
    654321 superman 1qaz2wsx 7777777 admin > "$LAB_RUN/passwords.txt"
}
