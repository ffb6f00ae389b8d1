#!/usr/bin/env bash
# Regenerates examples/rulepack: the lab captures behind Harrier's own rule pack
# (rules/harrier-k8s.rules) for the threats the demo run does not cover — kubelet,
# etcd, Docker API, the API server in plaintext, a web content scan. The demo
# capture (examples/demo) covers the others. Root; build first.
set -euo pipefail
LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEST=$LAB_DIR/../examples/rulepack
tmp=$(mktemp -d /tmp/harrier-rulepack.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
bash "$LAB_DIR/run.sh" --scenarios kubelet-api,etcd-access,docker-api,k8s-api-insecure,web-scan,cloud-metadata-clouds,scanner-agents,rce-payloads,stratum-v1 --out "$tmp"
mkdir -p "$DEST"
rm -rf "$DEST/snapshot"
cp "$tmp/cluster.pcap" "$DEST/rulepack.pcap"
cp -r "$tmp/snapshot" "$DEST/snapshot"
jq --arg bytes "$(stat -c %s "$DEST/rulepack.pcap")" \
  '.captures = [{point: "cluster", file: "rulepack.pcap", bytes: ($bytes | tonumber),
                 note: "bridge-node-2 plus bridge-node-1 without packets involving node-2 pods"}]' \
  "$tmp/ground-truth.json" > "$DEST/ground-truth.json"
echo "examples/rulepack: $(du -sh "$DEST" | cut -f1)"
