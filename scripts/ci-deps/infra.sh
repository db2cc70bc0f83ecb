#!/usr/bin/env bash
# Tools the image checks (test/integration/image, scripts/check-image.sh) need on a Debian 12 host.
# Idempotent: safe to run again. Run as root.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"

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

apt_install_missing "${PACKAGES[@]}"
echo "infra ci-deps: ${PACKAGES[*]} present"
