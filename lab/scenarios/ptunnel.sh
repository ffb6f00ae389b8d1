#!/usr/bin/env bash
# Command and control: TCP over ICMP echo with ptunnel to a proxy on the internet,
# which relays to www.example.lab.test:80.
set -euo pipefail
source "$LAB_DIR/lib.sh"
lab_assert_target "$EXT_PTUN_IP" "$EXT_WEB_IP"
ns=$(lab_pod_ns toolbox)
gt_begin ptunnel command-and-control ptunnel pod:toolbox "ext:ptun.evil.lab.test=$EXT_PTUN_IP" "ptunnel ICMP tunnel, two HTTP requests to www.example.lab.test inside"
# The proxy host must not answer the echo requests itself: the kernel's reply would
# use up the node's masquerade (conntrack) entry and ptunnel's own reply be dropped.
# ptunnel's raw socket is not bound to the proxy address, so the kernel would give
# the replies the namespace's primary address and the node's masquerade would not
# match them: the default route's preferred source is the proxy's while it runs
# (every other server there is bound to its own address).
lab_exec "$NS_INET" sysctl -qw net.ipv4.icmp_echo_ignore_all=1
lab_ip "$NS_INET" "route replace default via $INET_LINK_GW src $EXT_PTUN_IP"
lab_bg "$NS_INET" ptunnel-proxy ptunnel -x labtunnel -v 1
sleep 0.5
lab_bg "$ns" ptunnel-client ptunnel -p "$EXT_PTUN_IP" -lp 8000 -da "$EXT_WEB_IP" -dp 80 -x labtunnel -v 1
lab_wait_tcp "$ns" 127.0.0.1 8000 10 || true
for _ in 1 2; do lab_exec "$ns" timeout 15 curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 -H 'Host: www.example.lab.test' http://127.0.0.1:8000/ >>"$GT_LOG" 2>&1 || true; done
lab_stop_bg ptunnel-client; lab_stop_bg ptunnel-proxy
lab_exec "$NS_INET" sysctl -qw net.ipv4.icmp_echo_ignore_all=0
lab_ip "$NS_INET" "route replace default via $INET_LINK_GW"
gt_end '{"proto":"icmp"}'
