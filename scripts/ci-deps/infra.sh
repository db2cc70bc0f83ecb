#!/usr/bin/env bash
# Tools the image checks (test/integration/image, scripts/check-image.sh) need on a Debian 12 host.
# Idempotent: safe to run again. Run as root.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

PACKAGES=(
  packer          # 1.6.6: packer validate -syntax-only on image/nqgw.pkr.hcl
  shellcheck      # image/scripts/*.sh, scripts/check-image.sh
  systemd         # systemd-analyze verify / security --offline=yes
  cloud-init      # cloud-init schema --config-file image/cloud-init/user-data.yaml
  nftables        # nft -c -f image/nftables/nftables.conf
  chrony          # chronyd -p (config parse) on the rendered chrony template
  openssh-server  # sshd -t on the drop-in
  debootstrap     # slow check: provisioning into a Debian chroot (NQGW_SLOW_IMAGE_CHECK=1)
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} > 0)); then
  # openssh-server and chrony are here only for their config checkers (sshd -t, chronyd -p):
  # keep their maintainer scripts from starting daemons on the CI machine.
  own_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    own_policy=1
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if ((own_policy)); then rm -f /usr/sbin/policy-rc.d; fi
fi
echo "infra ci-deps: ${PACKAGES[*]} present"
