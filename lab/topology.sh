# Topology of the lab: underlay + router, "internet", two nodes with cni0 bridges,
# a Flannel-style VXLAN overlay, pods as namespaces on veth pairs, and
# kube-proxy-style iptables DNAT for ClusterIP/NodePort services.
# Sourced by run.sh after lib.sh; every function is idempotent-free by design
# (run.sh always starts from teardown.sh's clean slate).

# Fixed VTEP MACs: Flannel publishes each node's VtepMAC in a node annotation, and
# the snapshot carries the same value.
VTEP_MAC_1=0e:4c:00:00:01:01
VTEP_MAC_2=0e:4c:00:00:02:01

# Segmentation and receive offloads off on every lab link: otherwise the captures
# hold 64 KB GSO/GRO "packets" instead of frames of the link's MTU, which no real
# wire carries and which would make the lab's pcaps unlike a sensor's input.
lab_no_offload() { # ns ifname...
  local ns=$1 i; shift
  for i in "$@"; do lab_exec "$ns" ethtool -K "$i" tso off gso off gro off >/dev/null 2>&1 || true; done
}

topo_underlay() {
  ip netns add "$NS_UL"; ip netns add "$NS_INET"
  # The metadata service lives on the provider router, as a link-local address;
  # both TEST-NET ranges are routed to the internet namespace.
  lab_ip "$NS_UL" "link set lo up" "link add ul0 type bridge" "addr add $GW_IP/24 dev ul0" "link set ul0 up" \
    "addr add $METADATA_IP/32 dev lo" "link add ul-inet type veth peer name eth0 netns $NS_INET" \
    "addr add $INET_LINK_GW/24 dev ul-inet" "link set ul-inet up" "route add 203.0.113.0/24 via $INET_LINK_IP"
  lab_exec "$NS_UL" sysctl -qw net.ipv4.ip_forward=1
  local a cmds=("link set lo up" "addr add $INET_LINK_IP/24 dev eth0")
  for a in $EXT_ADDRS; do cmds+=("addr add $a/32 dev eth0"); done
  cmds+=("link set eth0 up" "route add default via $INET_LINK_GW")
  lab_ip "$NS_INET" "${cmds[@]}"
  lab_no_offload "$NS_UL" ul0 ul-inet lo
  lab_no_offload "$NS_INET" eth0 lo
}

topo_node() { # n(1|2) node-ip pod-cidr-prefix(10.244.N) vtep-mac
  local n=$1 ip=$2 pfx=$3 mac=$4 ns=${LAB_PREFIX}node-$1
  ip netns add "$ns"
  lab_ip "$NS_UL" "link add ul-n$n type veth peer name eth0 netns $ns" "link set ul-n$n master ul0 up"
  # cni0 is the pods' bridge; flannel.1 is Flannel's VXLAN device: VNI 1, UDP 8472,
  # no learning (routes, neighbours and FDB entries are programmed, as flanneld does).
  lab_ip "$ns" "link set lo up" "addr add $ip/24 dev eth0" "link set eth0 up" "route add default via $GW_IP" \
    "link add cni0 type bridge" "link set cni0 mtu 1450" "addr add $pfx.1/24 dev cni0" "link set cni0 up" \
    "link add flannel.1 type vxlan id 1 local $ip dev eth0 dstport 8472 nolearning" \
    "link set flannel.1 address $mac mtu 1450" "addr add $pfx.0/32 dev flannel.1" "link set flannel.1 up"
  lab_exec "$ns" sh -c 'sysctl -qw net.ipv4.ip_forward=1
    # kube-proxy needs bridged pod-to-pod traffic to traverse iptables (hairpin to a local service backend).
    echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null || true'
  lab_no_offload "$NS_UL" "ul-n$n"
  lab_no_offload "$ns" eth0 cni0 flannel.1 lo
  # Flannel's masquerade: pod traffic leaving the cluster network takes the node's
  # address; kube-proxy's entry chain for services.
  lab_exec "$ns" iptables-restore <<EOF
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
-A PREROUTING -j KUBE-SERVICES
-A OUTPUT -j KUBE-SERVICES
-A POSTROUTING -s $CLUSTER_CIDR ! -d $CLUSTER_CIDR -o eth0 -j MASQUERADE
COMMIT
EOF
}

# Each node learns the other's subnet through the overlay, as flanneld programs it.
topo_overlay_peer() { # local-n remote-ip remote-prefix remote-mac
  local ns=${LAB_PREFIX}node-$1
  lab_ip "$ns" "neigh add $3.0 lladdr $4 dev flannel.1 nud permanent" "route add $3.0/24 via $3.0 dev flannel.1 onlink"
  lab_exec "$ns" bridge fdb append "$4" dev flannel.1 dst "$2"
}

# Non-pod namespaces resolve through the lab's "internet" DNS, never through the
# machine's own resolver (ip netns exec bind-mounts /etc/netns/NAME/resolv.conf).
topo_resolver() { # ns...
  local ns
  for ns in "$@"; do
    mkdir -p "/etc/netns/$ns"
    printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$EXT_DNS_IP" > "/etc/netns/$ns/resolv.conf"
    printf '127.0.0.1 localhost\n' > "/etc/netns/$ns/hosts"
  done
}

topo_cluster_net() {
  topo_resolver "$NS_UL" "$NS_INET" "$NS_NODE1" "$NS_NODE2"
  topo_underlay
  topo_node 1 "$NODE1_IP" 10.244.1 "$VTEP_MAC_1"
  topo_node 2 "$NODE2_IP" 10.244.2 "$VTEP_MAC_2"
  topo_overlay_peer 1 "$NODE2_IP" 10.244.2 "$VTEP_MAC_2"
  topo_overlay_peer 2 "$NODE1_IP" 10.244.1 "$VTEP_MAC_1"
}

# --- Pods. lab_pod KEY NODE(1|2) IP K8S-NS K8S-NAME OWNER-KIND OWNER-NAME APP SA IMAGE PORTS-JSON
# Creates netns hl-p-KEY on a veth into the node's cni0, a resolv.conf pointing at
# kube-dns (ip netns exec bind-mounts /etc/netns/NAME/), and logs a pod-start event.
lab_pod() {
  local key=$1 n=$2 ip=$3 kns=$4 name=$5 okind=$6 oname=$7 app=$8 sa=$9 image=${10} ports=${11:-[]}
  local node=node-$n nodens=${LAB_PREFIX}node-$n pns=${LAB_PREFIX}p-$key veth="v-${key:0:13}"
  ip netns add "$pns"
  lab_ip "$nodens" "link add $veth type veth peer name eth0 netns $pns" "link set $veth master cni0 mtu 1450 up"
  lab_ip "$pns" "link set lo up" "link set eth0 mtu 1450" "addr add $ip/24 dev eth0" "link set eth0 up" \
    "route add default via ${ip%.*}.1"
  lab_no_offload "$nodens" "$veth"
  lab_no_offload "$pns" eth0 lo
  mkdir -p "/etc/netns/$pns"
  printf 'nameserver 10.96.0.10\nsearch %s.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5 timeout:1 attempts:2\n' \
    "$kns" > "/etc/netns/$pns/resolv.conf"
  printf '127.0.0.1 localhost\n%s %s\n' "$ip" "$name" > "/etc/netns/$pns/hosts"
  POD_NETNS[$key]=$pns POD_NAME[$key]=$name POD_KNS[$key]=$kns POD_IP[$key]=$ip POD_NODE[$key]=$node
  lab_pods_save
  lab_event "$(jo s:type=pod-start "s:t=$(lab_now)" "s:key=$key" "s:namespace=$kns" "s:name=$name" "s:ownerKind=$okind" \
    "s:ownerName=$oname" "s:app=$app" "s:serviceAccount=$sa" "s:node=$node" "s:ip=$ip" b:hostNetwork=false "s:image=$image" "r:ports=$ports")"
}

# A hostNetwork pod: a process in the node's own namespace; only the event is needed.
lab_host_pod() { # KEY NODE(1|2) K8S-NS NAME OWNER-KIND OWNER-NAME APP SA IMAGE PORTS-JSON
  local key=$1 n=$2 ip; ip=$([[ $2 == 1 ]] && echo "$NODE1_IP" || echo "$NODE2_IP")
  POD_NETNS[$key]=${LAB_PREFIX}node-$n POD_NAME[$key]=$4 POD_KNS[$key]=$3 POD_IP[$key]=$ip POD_NODE[$key]=node-$n
  lab_pods_save
  lab_event "$(jo s:type=pod-start "s:t=$(lab_now)" "s:key=$key" "s:namespace=$3" "s:name=$4" "s:ownerKind=$5" \
    "s:ownerName=$6" "s:app=$7" "s:serviceAccount=$8" "s:node=node-$n" "s:ip=$ip" b:hostNetwork=true "s:image=$9" "r:ports=${10}")"
}

# Deleting a pod: processes in its namespace are killed, the namespace goes, and a
# pod-delete event (deletionTimestamp) is logged.
lab_pod_delete() { # KEY
  local key=$1 pns=${POD_NETNS[$1]} pid
  for pid in $(ip netns pids "$pns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null || true; done
  sleep 0.3
  for pid in $(ip netns pids "$pns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
  ip netns del "$pns"
  rm -rf "/etc/netns/$pns"
  lab_event "$(jo s:type=pod-delete "s:t=$(lab_now)" "s:namespace=${POD_KNS[$key]}" "s:name=${POD_NAME[$key]}" "s:ip=${POD_IP[$key]}")"
  unset "POD_NETNS[$key]" "POD_NAME[$key]" "POD_KNS[$key]" "POD_IP[$key]" "POD_NODE[$key]"
  lab_pods_save
}

# --- Services (ClusterIP, optional NodePort), programmed on both nodes like kube-proxy.
# SERVICES lines: "k8s-ns name clusterIP proto port targetPort endpoint-pod-key nodePort(-)"
SERVICES=()
lab_service() { # NS NAME CLUSTER-IP PROTO PORT TARGET-PORT POD-KEY [NODEPORT] [PORT-NAME]
  SERVICES+=("$1 $2 $3 $4 $5 $6 $7 ${8:--}")
  local np=${8:--}; [[ $np == - ]] && np=null
  lab_event "$(jo s:type=service "s:t=$(lab_now)" "s:namespace=$1" "s:name=$2" "s:clusterIP=$3" "s:protocol=$4" "n:port=$5" \
    "n:targetPort=$6" "s:selectorKey=$7" "r:nodePort=$np" "s:portName=${9:-}")"
}

# Rebuilds KUBE-SERVICES on both nodes from SERVICES and the current pod table
# (called again after a pod moves, as kube-proxy resyncs on an EndpointSlice change).
lab_kube_proxy_sync() {
  lab_pods_load
  local n ns line k8sns name cip proto port tport key np ip nodeip
  for n in 1 2; do
    ns=${LAB_PREFIX}node-$n; nodeip=$([[ $n == 1 ]] && echo "$NODE1_IP" || echo "$NODE2_IP")
    # One atomic iptables-restore per node, as kube-proxy does.
    local rules="*nat"$'\n'"-F KUBE-SERVICES"$'\n'
    for line in "${SERVICES[@]}"; do
      read -r k8sns name cip proto port tport key np <<<"$line"
      ip=${POD_IP[$key]:-}
      [[ -n $ip ]] || continue
      rules+="-A KUBE-SERVICES -d $cip/32 -p $proto --dport $port -m comment --comment \"$k8sns/$name\" -j DNAT --to-destination $ip:$tport"$'\n'
      [[ $np == - ]] ||
        rules+="-A KUBE-SERVICES -d $nodeip/32 -p $proto --dport $np -m comment --comment \"$k8sns/$name nodePort\" -j DNAT --to-destination $ip:$tport"$'\n'
    done
    printf '%sCOMMIT\n' "$rules" | lab_exec "$ns" iptables-restore --noflush
  done
  # Names the kube-dns pod serves for services (dnsmasq re-reads it on SIGHUP).
  : > "$LAB_RUN/cluster-hosts"
  for line in "${SERVICES[@]}"; do
    read -r k8sns name cip _ <<<"$line"
    grep -q " $name.$k8sns.svc.cluster.local\$" "$LAB_RUN/cluster-hosts" ||
      echo "$cip $name.$k8sns.svc.cluster.local" >> "$LAB_RUN/cluster-hosts"
  done
}
