#!/usr/bin/env bash
# Regenerates examples/demo (the README quick start's input and the demo test's
# fixture) from a `lab/run.sh --demo` run: the run's cluster-wide capture as
# demo.pcap, its Kubernetes snapshot and its ground truth. Root; build first.
set -euo pipefail
LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEMO=$LAB_DIR/../examples/demo
tmp=$(mktemp -d /tmp/harrier-demo.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
bash "$LAB_DIR/run.sh" --demo --out "$tmp"
mkdir -p "$DEMO"
rm -rf "$DEMO/snapshot"
cp "$tmp/cluster.pcap" "$DEMO/demo.pcap"
cp -r "$tmp/snapshot" "$DEMO/snapshot"
# Only the merged capture is committed; the ground truth names it.
jq --arg bytes "$(stat -c %s "$DEMO/demo.pcap")" \
  '.captures = [{point: "cluster", file: "demo.pcap", bytes: ($bytes | tonumber),
                 note: "bridge-node-2 plus bridge-node-1 without packets involving node-2 pods"}]' \
  "$tmp/ground-truth.json" > "$DEMO/ground-truth.json"
echo "examples/demo: $(du -sh "$DEMO" | cut -f1)"
