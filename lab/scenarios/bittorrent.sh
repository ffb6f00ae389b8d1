#!/usr/bin/env bash
# Benign-looking but policy-relevant: BitTorrent between two pods with transmission-cli.
# The seedbox pod (node-2) runs a tracker and seeds 3 MB; the bastion pod (node-1)
# downloads it. Unencrypted peer wire (-et), no DHT/LPD/uTP, so it stays in the lab.
set -euo pipefail
source "$LAB_DIR/lib.sh"
S=$(lab_pod_ip seedbox); L=$(lab_pod_ip bastion); lab_assert_target "$S" "$L"
bt=$LAB_RUN/bt; mkdir -p "$bt/seed" "$bt/leech" "$bt/cfg-seed" "$bt/cfg-leech"
head -c 3M /dev/urandom > "$bt/seed/lab-dataset.bin"
for c in cfg-seed cfg-leech; do
  printf '{"dht-enabled": false, "lpd-enabled": false, "utp-enabled": false, "pex-enabled": false, "port-forwarding-enabled": false, "encryption": 0}\n' > "$bt/$c/settings.json"
done
transmission-create -o "$bt/lab.torrent" -t "http://$S:6969/announce" "$bt/seed/lab-dataset.bin" >/dev/null
gt_begin bittorrent command-and-control transmission-cli pod:bastion pod:seedbox "transmission-cli downloads a 3 MB torrent from another pod (tracker on :6969, peer wire on :51413)"
lab_bg "$(lab_pod_ns seedbox)" bt-tracker "$PY" "$LABSRV" tracker --bind "$S" --port 6969
lab_wait_tcp "$(lab_pod_ns seedbox)" "$S" 6969 10 || true
lab_bg "$(lab_pod_ns seedbox)" bt-seed transmission-cli -g "$bt/cfg-seed" -w "$bt/seed" -p 51413 -et -M "$bt/lab.torrent"
sleep 2
lab_bg "$(lab_pod_ns bastion)" bt-leech transmission-cli -g "$bt/cfg-leech" -w "$bt/leech" -p 51414 -et -M "$bt/lab.torrent"
for _ in $(seq 80); do
  [[ -f $bt/leech/lab-dataset.bin && $(stat -c %s "$bt/leech/lab-dataset.bin") == 3145728 ]] && break
  sleep 0.5
done
sleep 1
lab_stop_bg bt-leech; lab_stop_bg bt-seed; lab_stop_bg bt-tracker
gt_end '{"dport":51413}'
