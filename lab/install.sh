#!/usr/bin/env bash
# Installs the Debian packages the lab needs; idempotent (only what is missing).
# Run as root. Called by lab/run.sh --install and by CI before the short lab run.
set -euo pipefail
PKGS=(
  iproute2 iptables ethtool tcpdump tshark procps psmisc jq            # topology + capture
  dnsmasq redis-server postgresql openssh-server openssl    # services
  python3 curl socat ncat bind9-dnsutils                                 # small servers, clients
  nmap masscan hydra sqlmap hping3 gobuster                          # recon / brute force / exploitation
  iodine dns2tcp ptunnel transmission-cli                   # tunnels and p2p
)
missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "lab/install.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # wireshark-common asks whether non-root users may capture; the answer is no.
  echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
  # Services must not start in the root namespace: the lab starts its own copies inside namespaces.
  # (only if no policy is in place already; we remove only what we created)
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  # A fresh machine (CI) may have no package lists yet.
  apt-get update -qq
  apt-get install -y --no-install-recommends "${missing[@]}" </dev/null
else
  echo "lab/install.sh: all packages present"
fi
