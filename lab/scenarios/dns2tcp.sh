#!/usr/bin/env bash
# Command and control: TCP over DNS TXT records with dns2tcp, through kube-dns, to a
# dns2tcpd for d.tun2.lab.test that relays to www.example.lab.test:80.
set -euo pipefail
source "$LAB_DIR/lib.sh"
lab_assert_target "$EXT_DNS2TCP_IP" 10.96.0.10 "$EXT_WEB_IP"
ns=$(lab_pod_ns toolbox)
gt_begin dns2tcp command-and-control dns2tcp pod:toolbox "svc:coredns@kube-system/kube-dns=10.96.0.10" \
  "dns2tcpc -r web through kube-dns to d.tun2.lab.test (dns2tcpd at $EXT_DNS2TCP_IP), three HTTP requests inside"
cat > "$LAB_RUN/dns2tcpd.conf" <<CONF
listen = $EXT_DNS2TCP_IP
port = 53
user = nobody
domain = d.tun2.lab.test
resources = web:$EXT_WEB_IP:80
CONF
lab_bg "$NS_INET" dns2tcpd dns2tcpd -F -d 1 -f "$LAB_RUN/dns2tcpd.conf"
sleep 0.5
lab_bg "$ns" dns2tcpc dns2tcpc -z d.tun2.lab.test -r web -l 8081 10.96.0.10
lab_wait_tcp "$ns" 127.0.0.1 8081 10 || true
for _ in 1 2 3; do lab_exec "$ns" timeout 15 curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 -H 'Host: www.example.lab.test' http://127.0.0.1:8081/ >>"$GT_LOG" 2>&1 || true; done
lab_stop_bg dns2tcpc; lab_stop_bg dns2tcpd
gt_end '{"dport":53,"upstream":{"domain":"d.tun2.lab.test","ip":"'"$EXT_DNS2TCP_IP"'"}}'
