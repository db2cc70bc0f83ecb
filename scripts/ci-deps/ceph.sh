#!/usr/bin/env bash
# Debian's Ceph (16.2 in Debian 12) for the log-shipping tests against a real S3 implementation
# (test/helpers/ceph.ts starts a throwaway one-node cluster on loopback: mon, mgr, osd on
# memstore, radosgw). Without these packages those tests skip and say why.
# Idempotent: safe to run again; does nothing when everything is installed. Run as root.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"

PACKAGES=(
  ceph-mon     # ceph-mon, monmaptool, ceph-authtool
  ceph-mgr     # the manager a healthy cluster wants (rgw creates its pools through the mon)
  ceph-osd     # ceph-osd with the memstore object store
  radosgw      # the S3 gateway, and radosgw-admin for the test user
  ceph-common  # the ceph CLI
)

apt_install_missing "${PACKAGES[@]}"
echo "ceph ci-deps: $(ceph-mon --version 2>/dev/null | head -1 || echo 'ceph-mon missing')"
