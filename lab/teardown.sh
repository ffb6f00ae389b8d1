#!/usr/bin/env bash
# Removes everything a lab run created, also after a crash or an interrupted run:
# processes inside lab namespaces (found through `ip netns pids`), remembered
# background pids, the namespaces themselves (which takes their links, bridges,
# VXLAN devices and iptables rules with them), /etc/netns/hl-* and the run state.
# Idempotent; touches only names with the lab prefix. Run as root.
set -uo pipefail
LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$LAB_DIR/lib.sh"
[[ $(id -u) == 0 ]] || { echo "lab/teardown.sh: needs root" >&2; exit 1; }

lab_namespaces() { ip netns list 2>/dev/null | awk '{print $1}' | grep "^${LAB_PREFIX}" || true; }

kill_ns_pids() { # signal
  local ns pid
  for ns in $(lab_namespaces); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "-$1" "$pid" 2>/dev/null || true; done
  done
}

# Captures first, with SIGINT, so tcpdump flushes its file.
if [[ -f $LAB_RUN/pids ]]; then
  while read -r pid ns name; do
    [[ $name == cap-* ]] && kill -INT "$pid" 2>/dev/null || true
  done < "$LAB_RUN/pids"
  sleep 0.5
fi
kill_ns_pids TERM
if [[ -f $LAB_RUN/pids ]]; then
  while read -r pid ns name; do kill -TERM "$pid" 2>/dev/null || true; done < "$LAB_RUN/pids"
fi
for _ in 1 2 3 4 5 6 7 8 9 10; do
  left=0
  for ns in $(lab_namespaces); do [[ -n $(ip netns pids "$ns" 2>/dev/null) ]] && left=1; done
  ((left)) || break
  sleep 0.2
done
kill_ns_pids KILL
# Anything of the lab not inside a namespace (e.g. a killed `ip netns exec` parent).
if [[ -f $LAB_RUN/pids ]]; then
  while read -r pid ns name; do kill -KILL "$pid" 2>/dev/null || true; done < "$LAB_RUN/pids"
fi

for ns in $(lab_namespaces); do
  ip netns del "$ns" 2>/dev/null || { sleep 0.3; ip netns del "$ns" 2>/dev/null; } ||
    echo "lab/teardown.sh: could not delete namespace $ns" >&2
done
rm -rf /etc/netns/${LAB_PREFIX}* 2>/dev/null
rmdir /etc/netns 2>/dev/null || true
rm -rf "$LAB_RUN"

left=$(lab_namespaces)
if [[ -n $left ]]; then echo "lab/teardown.sh: left behind: $left" >&2; exit 1; fi
exit 0
