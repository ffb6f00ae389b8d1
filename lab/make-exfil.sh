#!/usr/bin/env bash
# Regenerates examples/exfil: the lab capture of the exfiltration scenario (the
# postgres pod uploads 6 MB over HTTPS to files.drop-box.lab.test), which the
# demo run does not include. With lab/intel it is the exfiltration case of
# issue 7's "every ground-truth C2, mining and exfiltration contact raises an
# intel alert naming the right pod" (test/intel/lab-intel.test.ts). Root; build first.
set -euo pipefail
LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEST=$LAB_DIR/../examples/exfil
tmp=$(mktemp -d /tmp/harrier-exfil.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
bash "$LAB_DIR/run.sh" --scenarios exfiltration --out "$tmp"
mkdir -p "$DEST"
rm -rf "$DEST/snapshot"
cp "$tmp/cluster.pcap" "$DEST/exfil.pcap"
cp -r "$tmp/snapshot" "$DEST/snapshot"
jq --arg bytes "$(stat -c %s "$DEST/exfil.pcap")" \
  '.captures = [{point: "cluster", file: "exfil.pcap", bytes: ($bytes | tonumber),
                 note: "bridge-node-2 plus bridge-node-1 without packets involving node-2 pods"}]' \
  "$tmp/ground-truth.json" > "$DEST/ground-truth.json"
echo "examples/exfil: $(du -sh "$DEST" | cut -f1)"
