#!/usr/bin/env bash
# Debian's Ceph (16.2 in Debian 12) for the log-shipping tests against a real S3 implementation
# (test/helpers/ceph.ts starts a throwaway one-node cluster on loopback: mon, mgr, osd on
# memstore, radosgw). Without these packages those tests skip and say why.
# Idempotent: safe to run again; does nothing when everything is installed. Run as root.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

PACKAGES=(
  ceph-mon     # ceph-mon, monmaptool, ceph-authtool
  ceph-mgr     # the manager a healthy cluster wants (rgw creates its pools through the mon)
  ceph-osd     # ceph-osd with the memstore object store
  radosgw      # the S3 gateway, and radosgw-admin for the test user
  ceph-common  # the ceph CLI
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} > 0)); then
  # The packages' maintainer scripts must not start Ceph daemons on the CI machine: the tests
  # start their own, in a temp dir, and stop them.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "ceph ci-deps: $(ceph-mon --version 2>/dev/null | head -1 || echo 'ceph-mon missing')"
