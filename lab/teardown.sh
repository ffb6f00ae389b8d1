#!/usr/bin/env bash
# Removes everything a lab run created, also after a crash or an interrupted run:
# processes inside lab namespaces, the namespaces themselves (which takes their
# links, bridges, VXLAN devices and iptables rules with them), /etc/netns/hl-*
# and the run state. Idempotent; touches only names with the lab prefix. Root.
set -uo pipefail
LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$LAB_DIR/lib.sh"
[[ $(id -u) == 0 ]] || { echo "lab/teardown.sh: needs root" >&2; exit 1; }

# Run by hand, teardown must not pull the namespaces from under an active run.
if [[ -z ${LAB_LOCK_HELD:-} ]]; then
  exec 9</run
  flock -n 9 || { echo "lab/teardown.sh: a lab run is active (it tears down itself on exit)" >&2; exit 1; }
fi

lab_namespaces() { ip netns list 2>/dev/null | awk '{print $1}' | grep "^${LAB_PREFIX}" || true; }

# The processes living in a lab namespace: those whose /proc/PID/ns/net is the
# same namespace (inode) as a /run/netns/hl-* mount. This is what `ip netns pids`
# does, for all namespaces with two stat calls instead of one process each.
lab_ns_pids() {
  local -A inodes=()
  local ino path
  while read -r ino path; do inodes[$ino]=1; done < <(stat -Lc '%i %n' /run/netns/${LAB_PREFIX}* 2>/dev/null)
  ((${#inodes[@]})) || return 0
  while read -r ino path; do
    [[ -n ${inodes[$ino]:-} ]] || continue
    path=${path#/proc/}; echo "${path%%/*}"
  done < <(stat -Lc '%i %n' /proc/[0-9]*/ns/net 2>/dev/null)
}

# Captures first, with SIGINT, so that tcpdump completes its file.
if [[ -f $LAB_RUN/pids ]]; then
  while read -r pid ns name; do
    [[ $name == cap-* ]] && lab_pid_ours "$pid" "$ns" && kill -INT "$pid" 2>/dev/null || true
  done < "$LAB_RUN/pids"
  sleep 0.5
fi
pids=$(lab_ns_pids)
if [[ -n $pids ]]; then
  kill -TERM $pids 2>/dev/null
  # One grace period, then KILL whatever is left.
  for _ in 1 2 3 4 5; do sleep 0.2; pids=$(lab_ns_pids); [[ -n $pids ]] || break; done
  [[ -n $pids ]] && kill -KILL $pids 2>/dev/null
fi

ns_list=$(lab_namespaces)
if [[ -n $ns_list ]]; then
  printf 'netns del %s\n' $ns_list | ip -force -batch - 2>/dev/null
fi
rm -rf /etc/netns/${LAB_PREFIX}* 2>/dev/null
rmdir /etc/netns 2>/dev/null || true
[[ -f $LAB_RUN/made-run-sshd ]] && rmdir /run/sshd 2>/dev/null
rm -rf "$LAB_RUN"

left=$(lab_namespaces)
if [[ -n $left ]]; then echo "lab/teardown.sh: left behind: $left" >&2; exit 1; fi
exit 0
