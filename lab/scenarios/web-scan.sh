#!/usr/bin/env bash
# Reconnaissance: a content-discovery scan of the legacy app with gobuster (a short
# word list, bounded rate), the kind of noise scanners make before an exploit.
set -euo pipefail
source "$LAB_DIR/lib.sh"
T=$(lab_pod_ip legacy)
lab_assert_target "$T"
ns=$(lab_pod_ns toolbox)
gt_begin web-scan reconnaissance gobuster pod:toolbox pod:legacy "gobuster dir with a 40-word list against legacy:8080"
printf '%s\n' admin backup .git .env config login wp-admin wp-login.php phpmyadmin server-status \
  api v1 v2 debug console actuator actuator/env .aws/credentials .kube/config uploads cgi-bin test old \
  dev staging private secret db.sql dump.sql web.config robots.txt sitemap.xml .htaccess .htpasswd \
  shell.php cmd.php install setup status metrics > "$LAB_RUN/web-words.txt"
lab_exec "$ns" timeout 30 gobuster dir -q -t 4 --delay 20ms --exclude-length 45 --exclude-length 46 -u "http://$T:8080/" -w "$LAB_RUN/web-words.txt" -o /dev/null >>"$GT_LOG" 2>&1 || true
gt_end '{"dport":8080}'
