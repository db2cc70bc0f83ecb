#!/usr/bin/env bash
# What the mount tests need (test/integration/image/state-volume.test.ts, mount-units.test.ts):
# e2fsprogs (mkfs.ext4, debugfs), util-linux (blkid, losetup, mkswap), fdisk (sfdisk) for the
# state volume's format-if-blank script on a loop device; cifs-utils and nfs-common so
# systemd-analyze verify sees the mount helpers the image has (mount.cifs, mount.nfs4).
# Installs only what is missing; starts nothing. Run as root.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"

apt_install_missing e2fsprogs util-linux fdisk cifs-utils nfs-common
