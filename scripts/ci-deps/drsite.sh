#!/usr/bin/env bash
# Tools the DR-site-in-a-box test (test/integration/drsite, docs/drsite.md) needs on a Debian 12
# host: build a bootable image from Debian's packages, boot two replicas under qemu (TCG), and
# serve the counter's share with a private Samba. Idempotent: safe to run again. Run as root.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"

PACKAGES=(
  qemu-system-x86  # the replicas (qemu-system-x86_64 -accel tcg: no KVM on CI machines)
  qemu-utils       # qemu-img: the qcow2 base image and each replica's overlay
  mmdebstrap       # Debian 12 root filesystem from the mirror
  e2fsprogs        # mkfs.ext4 -d: the root filesystem into a disk image without loop mounts
  genisoimage      # NoCloud seed ISOs (volume id cidata)
  samba            # smbd: the counter's share, served from a private smb.conf
  smbclient        # the counter writing NQWT.DBF and the test reading NQHB.DBF through SMB
  cifs-utils       # mount.cifs (the guests have it from the image; here for manual checks)
  openssh-client   # ssh into the replicas through qemu's hostfwd
  iproute2         # ip netns: everything on loopback only
  xz-utils         # node.tar.xz
)

apt_install_missing "${PACKAGES[@]}"
echo "drsite ci-deps: ${PACKAGES[*]} present"
