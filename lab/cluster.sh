# The simulated cluster: which pods run where, their services, and the processes
# inside them. Sourced by run.sh after lib.sh and topology.sh.

# Pod names follow Kubernetes' generated shapes: <deployment>-<rs hash>-<5 chars>,
# <cronjob>-<schedule number>-<5 chars>, <static pod>-<node>.
cluster_pods() {
  lab_node_events
  # node-1: 10.244.1.0/24
  lab_pod coredns 1 10.244.1.2 kube-system coredns-5d78c9869d-k7vbn ReplicaSet coredns-5d78c9869d kube-dns coredns \
    registry.k8s.io/coredns/coredns:v1.11.1 '[{"name":"dns","containerPort":53,"protocol":"UDP"},{"name":"dns-tcp","containerPort":53,"protocol":"TCP"}]'
  lab_pod frontend 1 10.244.1.3 shop frontend-6c8d7f9b4-h2xqp ReplicaSet frontend-6c8d7f9b4 frontend frontend \
    ghcr.io/lab/shop-frontend:1.4.2 '[{"name":"http","containerPort":8080,"protocol":"TCP"}]'
  lab_pod postgres 1 10.244.1.4 shop postgres-7f9c6b8d5-m4wzt ReplicaSet postgres-7f9c6b8d5 postgres postgres \
    docker.io/library/postgres:15 '[{"name":"pg","containerPort":5432,"protocol":"TCP"}]'
  lab_pod legacy 1 10.244.1.5 shop legacy-admin-84b6d7c9f-q2n7s ReplicaSet legacy-admin-84b6d7c9f legacy-admin default \
    ghcr.io/lab/legacy-admin:0.9 '[{"name":"http","containerPort":8080,"protocol":"TCP"}]'
  lab_pod bastion 1 10.244.1.6 ops bastion-7d4f8b6c5-zt5lk ReplicaSet bastion-7d4f8b6c5 bastion bastion \
    docker.io/linuxserver/openssh-server:9.3 '[{"name":"ssh","containerPort":22,"protocol":"TCP"}]'
  # node-2: 10.244.2.0/24
  lab_pod cart 2 10.244.2.2 shop cart-5d8c7b9f6-x2x9q ReplicaSet cart-5d8c7b9f6 cart cart \
    ghcr.io/lab/shop-cart:2.1.0 '[{"name":"http","containerPort":8080,"protocol":"TCP"}]'
  lab_pod redis 2 10.244.2.3 shop redis-6b9f8c7d4-v8hfp ReplicaSet redis-6b9f8c7d4 redis redis \
    docker.io/library/redis:7.0 '[{"name":"redis","containerPort":6379,"protocol":"TCP"}]'
  lab_pod toolbox 2 10.244.2.4 dev toolbox-5f6d8c9b7-wq4rt ReplicaSet toolbox-5f6d8c9b7 toolbox default \
    docker.io/nicolaka/netshoot:v0.11 '[]'
  lab_pod report 2 10.244.2.5 batch report-28391050-x7k2p Job report-28391050 report report \
    ghcr.io/lab/report:1.0 '[]'
  lab_pod seedbox 2 10.244.2.6 media seedbox-6f5c4d8b9-j3kxm ReplicaSet seedbox-6f5c4d8b9 seedbox default \
    docker.io/linuxserver/transmission:4.0 '[{"name":"peer","containerPort":51413,"protocol":"TCP"}]'
  # hostNetwork pods: the (fake) API server on node-1, node-exporter on node-2.
  lab_host_pod apiserver 1 kube-system kube-apiserver-node-1 Node node-1 kube-apiserver default \
    registry.k8s.io/kube-apiserver:v1.29.4 '[{"name":"https","containerPort":6443,"protocol":"TCP"},{"name":"insecure","containerPort":8080,"protocol":"TCP"}]'
  lab_host_pod exporter 2 monitoring node-exporter-8x2kd DaemonSet node-exporter node-exporter node-exporter \
    quay.io/prometheus/node-exporter:v1.7.0 '[{"name":"metrics","containerPort":9100,"protocol":"TCP"}]'
  # etcd as kubeadm runs it: a static hostNetwork pod on the control-plane node.
  lab_host_pod etcd 1 kube-system etcd-node-1 Node node-1 etcd default \
    registry.k8s.io/etcd:3.5.12-0 '[{"name":"client","containerPort":2379,"protocol":"TCP"}]'
}

lab_node_events() {
  local n ip cidr mac
  for n in 1 2; do
    ip=$([[ $n == 1 ]] && echo "$NODE1_IP" || echo "$NODE2_IP")
    cidr=$([[ $n == 1 ]] && echo "$NODE1_POD_CIDR" || echo "$NODE2_POD_CIDR")
    mac=$([[ $n == 1 ]] && echo "$VTEP_MAC_1" || echo "$VTEP_MAC_2")
    lab_event "$(jo s:type=node "s:t=$(lab_now)" "s:name=node-$n" "s:ip=$ip" "s:podCIDR=$cidr" "s:vtepMAC=$mac")"
  done
}

cluster_services() {
  lab_service default kubernetes 10.96.0.1 tcp 443 6443 apiserver - https
  lab_service kube-system kube-dns 10.96.0.10 udp 53 53 coredns - dns
  lab_service kube-system kube-dns 10.96.0.10 tcp 53 53 coredns - dns-tcp
  lab_service shop frontend 10.96.10.10 tcp 80 8080 frontend 30080 http
  lab_service shop cart 10.96.20.20 tcp 80 8080 cart - http
  lab_service shop redis 10.96.30.30 tcp 6379 6379 redis - redis
  lab_service shop postgres 10.96.40.40 tcp 5432 5432 postgres - pg
  lab_service shop legacy-admin 10.96.50.50 tcp 80 8080 legacy - http
  lab_service ops bastion 10.96.60.60 tcp 22 22 bastion - ssh
  lab_kube_proxy_sync
}

# TLS material: one self-signed certificate for *.lab.test and one for the API server.
cluster_certs() {
  local d=$LAB_RUN/tls; mkdir -p "$d"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj '/CN=*.lab.test' \
    -addext 'subjectAltName=DNS:*.lab.test,DNS:*.payments.lab.test,DNS:*.example.lab.test,DNS:*.drop-box.lab.test' \
    -keyout "$d/web.key" -out "$d/web.crt" 2>/dev/null
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj '/CN=kube-apiserver' \
    -addext "subjectAltName=DNS:kubernetes,DNS:kubernetes.default.svc,IP:10.96.0.1,IP:$NODE1_IP" \
    -keyout "$d/api.key" -out "$d/api.crt" 2>/dev/null
}

cluster_dns() {
  # "Internet" authoritative DNS for lab.test; the two tunnel zones are delegated
  # (forwarded) to the tunnel servers, as a recursive resolver would follow NS records.
  lab_bg "$NS_INET" dns-internet dnsmasq --no-daemon --no-resolv --no-hosts --bind-interfaces \
    --listen-address="$EXT_DNS_IP" --pid-file= --user=root --log-queries --no-negcache \
    --address=/www.example.lab.test/$EXT_WEB_IP --address=/api.payments.lab.test/$EXT_PAY_IP \
    --address=/pool.minexmr.lab.test/$EXT_POOL_IP --address=/files.drop-box.lab.test/$EXT_DROP_IP \
    --address=/c2.evil.lab.test/$EXT_C2_IP --address=/ptun.evil.lab.test/$EXT_PTUN_IP \
    --server=/t.tun.lab.test/$EXT_IODINE_IP --server=/d.tun2.lab.test/$EXT_DNS2TCP_IP --local=/lab.test/
  # kube-dns: cluster names from the service table, the rest forwarded upstream.
  lab_bg "${POD_NETNS[coredns]}" kube-dns dnsmasq --no-daemon --no-resolv --no-hosts --bind-interfaces \
    --listen-address="${POD_IP[coredns]}" --pid-file= --user=root --log-queries --no-negcache \
    --addn-hosts="$LAB_RUN/cluster-hosts" --local=/cluster.local/ --server="$EXT_DNS_IP"
}

# initdb takes seconds on a busy machine, so it runs in the background from the
# start of the set-up (cluster_initdb) and cluster_postgres waits for it.
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
cluster_initdb() {
  local d=$LAB_RUN/pg
  mkdir -p "$d/sock"; chown -R postgres "$d"
  su postgres -s /bin/sh -c "$PG_BIN/initdb -N -D $d/data -A trust -U postgres >/dev/null && echo 'host all all 0.0.0.0/0 trust' >> $d/data/pg_hba.conf" 9<&- &
  PG_INIT_PID=$!
}
cluster_postgres() {
  local d=$LAB_RUN/pg bin=$PG_BIN
  wait "$PG_INIT_PID" || lab_die "initdb failed"
  lab_bg "${POD_NETNS[postgres]}" postgres su postgres -s /bin/sh -c \
    "exec $bin/postgres -D $d/data -c listen_addresses=${POD_IP[postgres]} -c unix_socket_directories=$d/sock -c fsync=off -c shared_buffers=16MB"
  lab_wait_tcp "${POD_NETNS[postgres]}" "${POD_IP[postgres]}" 5432 20
  lab_exec "${POD_NETNS[postgres]}" su postgres -s /bin/sh -c "psql -q -h $d/sock -U postgres -c \"CREATE ROLE shop LOGIN\" -c \"CREATE DATABASE shop OWNER shop\"" >/dev/null
  lab_exec "${POD_NETNS[postgres]}" su postgres -s /bin/sh -c "psql -q -h $d/sock -U shop shop -c \"CREATE TABLE items(id serial primary key, name text, price numeric); INSERT INTO items(name, price) SELECT 'item ' || g, g * 1.5 FROM generate_series(1, 20) g\"" >/dev/null
}

cluster_sshd() {
  local d=$LAB_RUN/ssh; mkdir -p "$d"
  # sshd insists on its privilege-separation directory; made (and later removed) only if missing.
  [[ -d /run/sshd ]] || { mkdir /run/sshd && touch "$LAB_RUN/made-run-sshd"; }
  ssh-keygen -q -t ed25519 -N '' -f "$d/host_ed25519" </dev/null
  # No lab user exists on the machine, so no password can ever succeed.
  cat > "$d/sshd_config" <<EOF
ListenAddress ${POD_IP[bastion]}
HostKey $d/host_ed25519
PasswordAuthentication yes
KbdInteractiveAuthentication no
PermitRootLogin no
UsePAM no
MaxAuthTries 6
MaxStartups 64:30:128
PidFile none
EOF
  lab_bg "${POD_NETNS[bastion]}" sshd /usr/sbin/sshd -D -e -f "$d/sshd_config"
}

cluster_apps() {
  local tls=$LAB_RUN/tls
  cluster_dns
  lab_bg "${POD_NETNS[frontend]}" frontend "$PY" "$LABSRV" frontend --bind "${POD_IP[frontend]}" --port 8080
  lab_bg "${POD_NETNS[frontend]}" frontend-sidecar "$PY" "$LABSRV" sidecar --bind 127.0.0.1 --port 9000
  lab_bg "${POD_NETNS[cart]}" cart "$PY" "$LABSRV" cart --bind "${POD_IP[cart]}" --port 8080
  lab_bg "${POD_NETNS[redis]}" redis redis-server --bind "${POD_IP[redis]}" --port 6379 --save '' --appendonly no --protected-mode no
  lab_bg "${POD_NETNS[legacy]}" legacy "$PY" "$LABSRV" legacy --bind "${POD_IP[legacy]}" --port 8080
  lab_bg "$NS_NODE1" kube-apiserver "$PY" "$LABSRV" kubeapi --bind "$NODE1_IP" --port 6443 --cert "$tls/api.crt" --key "$tls/api.key"
  lab_bg "$NS_NODE2" node-exporter "$PY" "$LABSRV" exporter --bind "$NODE2_IP" --port 9100
  # Node services a compromised pod should never reach: the kubelet (HTTPS, and the
  # legacy read-only HTTP port), etcd's client port, a Docker API left open on TCP.
  lab_bg "$NS_NODE1" kube-apiserver-insecure "$PY" "$LABSRV" kubeapi --bind "$NODE1_IP" --port 8080
  lab_bg "$NS_NODE1" kubelet-1 "$PY" "$LABSRV" kubelet --bind "$NODE1_IP" --port 10250 --cert "$tls/api.crt" --key "$tls/api.key"
  lab_bg "$NS_NODE2" kubelet-2-ro "$PY" "$LABSRV" kubelet --bind "$NODE2_IP" --port 10255
  lab_bg "$NS_NODE1" etcd "$PY" "$LABSRV" etcd --bind "$NODE1_IP" --port 2379
  lab_bg "$NS_NODE2" dockerd "$PY" "$LABSRV" dockerd --bind "$NODE2_IP" --port 2375
  lab_bg "$NS_UL" metadata "$PY" "$LABSRV" metadata --bind "$METADATA_IP" --port 80
  lab_bg "$NS_INET" www "$PY" "$LABSRV" web --bind "$EXT_WEB_IP" --port 443 --cert "$tls/web.crt" --key "$tls/web.key" --name www.example.lab.test
  lab_bg "$NS_INET" www-http "$PY" "$LABSRV" web --bind "$EXT_WEB_IP" --port 80 --name www.example.lab.test
  lab_bg "$NS_INET" payments "$PY" "$LABSRV" web --bind "$EXT_PAY_IP" --port 443 --cert "$tls/web.crt" --key "$tls/web.key" --name api.payments.lab.test
  lab_bg "$NS_INET" dropbox "$PY" "$LABSRV" web --bind "$EXT_DROP_IP" --port 443 --cert "$tls/web.crt" --key "$tls/web.key" --name files.drop-box.lab.test
  lab_bg "$NS_INET" pool "$PY" "$LABSRV" pool --bind "$EXT_POOL_IP" --port 3333
  cluster_postgres
  cluster_sshd
  lab_wait_tcp "${POD_NETNS[frontend]}" "${POD_IP[frontend]}" 8080
  lab_wait_tcp "${POD_NETNS[cart]}" "${POD_IP[cart]}" 8080
  lab_wait_tcp "${POD_NETNS[legacy]}" "${POD_IP[legacy]}" 8080
  lab_wait_tcp "${POD_NETNS[redis]}" "${POD_IP[redis]}" 6379
  lab_wait_tcp "$NS_INET" "$EXT_PAY_IP" 443
}
