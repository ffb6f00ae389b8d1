# Benign workloads that run for the whole lab run, at modest realistic rates:
# customers on the NodePort -> frontend -> cart -> redis + postgres, DNS lookups of
# services and external names, TLS egress to a payment API, and a periodic job.
# Each loop is one background process in a namespace; benign_stop records one
# ground-truth window per (source, destination) pair.

BENIGN_START=

benign_start() {
  BENIGN_START=$(lab_now)
  local tls=$LAB_RUN/tls
  # Customers: ~1.5 requests/s from the internet to the NodePort on node-1.
  lab_bg "$NS_INET" benign-customers bash -c "while :; do
      curl -s -o /dev/null --max-time 3 --interface $EXT_CLIENT_IP http://$NODE1_IP:30080/ ; sleep 0.\$((RANDOM % 9 + 3)); done"
  # The shop's TLS egress to the payment provider, every ~2 s, with certificate checking.
  lab_bg "${POD_NETNS[frontend]}" benign-payments bash -c "while :; do
      curl -s -o /dev/null --max-time 3 --cacert $tls/web.crt -X POST -d amount=\$RANDOM https://api.payments.lab.test/v1/charges ; sleep 2; done"
  # The periodic report job: DNS lookups of a service and an external name, then HTTP.
  report_loop "${POD_NETNS[report]}" benign-report
}

report_loop() { # ns name
  lab_bg "$1" "$2" bash -c "while :; do
      dig +time=1 +tries=1 +short frontend.shop.svc.cluster.local >/dev/null
      dig +time=1 +tries=1 +short www.example.lab.test >/dev/null
      curl -s -o /dev/null --max-time 3 http://frontend.shop.svc.cluster.local/ ; sleep 3; done"
}

# Ground-truth windows of the benign traffic, one per (source, destination) pair,
# resolved to concrete pods when written: the cart pair is closed when cart moves
# (benign_cart_gt) and the job's when its pod is deleted (benign_report_gt).
CART_SINCE=
benign_stop() {
  local n
  for n in benign-customers benign-payments benign-report thumbnailer-fetch; do lab_stop_bg "$n"; done
  local end; end=$(lab_now)
  benign_gt benign-customers "$BENIGN_START" "$end" curl "ext:customer=$EXT_CLIENT_IP" pod:frontend "customers on NodePort 30080 (DNAT to the frontend pod)"
  benign_cart_gt "${CART_SINCE:-$BENIGN_START}" "$end"
  benign_gt benign-dns-upstream "$BENIGN_START" "$end" dnsmasq pod:coredns "ext:ns1.lab.test=$EXT_DNS_IP" "kube-dns forwards external names"
  benign_gt benign-tls-egress "$BENIGN_START" "$end" curl pod:frontend "ext:api.payments.lab.test=$EXT_PAY_IP" "TLS to the payment API"
  [[ -n ${POD_IP[report]:-} ]] && benign_report_gt "$end"
  return 0
}
benign_cart_gt() { # start end
  benign_gt benign-frontend-cart "$1" "$2" python-urllib pod:frontend "svc:cart@shop/cart=10.96.20.20" "frontend calls cart.shop.svc"
  benign_gt benign-cart-redis "$1" "$2" redis pod:cart "svc:redis@shop/redis=10.96.30.30" "cart counts views in redis"
  benign_gt benign-cart-postgres "$1" "$2" postgres pod:cart "svc:postgres@shop/postgres=10.96.40.40" "cart queries items in postgres"
}
benign_report_gt() { # end
  benign_gt benign-periodic-job "$BENIGN_START" "$1" dig+curl pod:report "svc:frontend@shop/frontend=10.96.10.10" "periodic report job calls the frontend"
  benign_gt benign-dns "$BENIGN_START" "$1" dig pod:report "svc:coredns@kube-system/kube-dns=10.96.0.10" "service and external lookups through kube-dns"
}

benign_gt() { # name start end tool src-ref dst-ref desc
  gt_write "$1" benign "$4" "$(gt_ep "$5")" "$(gt_ep "$6")" "$2" "$3" "$7" '{}'
}
