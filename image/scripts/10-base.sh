#!/usr/bin/env bash
# Debian packages the appliance needs, from the build-time mirror only, and the generic kernel.
# Nothing here runs at boot; the image never fetches anything when it starts.
set -euo pipefail

# Set by packer (environment_vars, passed by execute_command's {{ .Vars }}). A missing one stops
# the build here, before anything is changed: no silent fallback to the internet.
: "${NQGW_STAGE:?is not set: packer passes it through environment_vars (docs/image.md)}"
: "${NQGW_APT_MIRROR:?is not set: packer passes var.apt_mirror (docs/image.md)}"
: "${NQGW_APT_SECURITY_MIRROR:?is not set: packer passes var.apt_security_mirror (docs/image.md)}"
export DEBIAN_FRONTEND=noninteractive

# On 深证云 the mirrors are the cloud's package source (补丁源), not the internet. Debian 12
# cloud images keep their sources in deb822 form with mirror+file: URIs; the rewrite covers
# that, the one-line form and the security suite, and fails if a Debian source is left over.
bash "$NQGW_STAGE/build/apt-mirror.sh" / "$NQGW_APT_MIRROR" "$NQGW_APT_SECURITY_MIRROR"

apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  ca-certificates \
  chrony \
  nftables \
  openssh-server \
  usbip \
  stunnel4 \
  kmod \
  udev \
  usbutils \
  opensc \
  pcscd \
  libengine-pkcs11-openssl \
  xz-utils \
  cifs-utils \
  nfs-common \
  e2fsprogs \
  tzdata \
  prometheus-node-exporter \
  tar \
  >/dev/null
echo "10-base: packages installed from ${NQGW_APT_MIRROR} and ${NQGW_APT_SECURITY_MIRROR}"

# The generic kernel only. Debian's cloud kernel (linux-image-cloud-amd64) is built without USB
# (CONFIG_USB_SUPPORT unset): no passthrough, no vhci-hcd for USB/IP, so the EKey never shows
# up. Installing the generic one beside it is not enough (grub may boot either), so the cloud
# kernel is purged and grub's menu rebuilt. NQGW_SKIP_KERNEL=1 skips this: only for the
# debootstrap chroot check, which boots nothing and has no kernel.
if [[ "${NQGW_SKIP_KERNEL:-0}" == 1 ]]; then
  echo "10-base: kernel left alone (NQGW_SKIP_KERNEL=1, chroot check)"
  exit 0
fi

apt-get install -y -qq --no-install-recommends linux-image-amd64 >/dev/null
mapfile -t cloud_kernels < <(dpkg-query -W -f '${Package} ${db:Status-Status}\n' 'linux-image-*' 2>/dev/null |
  awk '$2 == "installed" && $1 ~ /cloud/ { print $1 }')
if ((${#cloud_kernels[@]} > 0)); then
  # The build VM runs the cloud kernel: linux-base's removal check asks whether to abort removing
  # the running kernel and, unattended, its default ("abort") stands. The generic kernel is
  # installed and in grub already, so answer "remove".
  echo 'linux-base linux-base/removing-running-kernel boolean false' | debconf-set-selections
  apt-get purge -y -qq "${cloud_kernels[@]}" >/dev/null
  echo "10-base: purged ${cloud_kernels[*]}"
fi
update-grub

# Check what boots: kernels in /boot, none of them cloud, each with USB and vhci-hcd.
shopt -s nullglob
kernels=(/boot/vmlinuz-*)
if ((${#kernels[@]} == 0)); then
  echo "10-base: no kernel in /boot after installing linux-image-amd64" >&2
  exit 1
fi
for k in "${kernels[@]}"; do
  version="${k#/boot/vmlinuz-}"
  if [[ "$version" == *cloud* ]]; then
    echo "10-base: the cloud kernel ${version} is still in /boot (no USB support)" >&2
    exit 1
  fi
  if ! grep -qx 'CONFIG_USB_SUPPORT=y' "/boot/config-${version}"; then
    echo "10-base: kernel ${version} has no CONFIG_USB_SUPPORT=y" >&2
    exit 1
  fi
  vhci=(/lib/modules/"${version}"/kernel/drivers/usb/usbip/vhci-hcd.ko*)
  if ((${#vhci[@]} == 0)); then
    echo "10-base: kernel ${version} has no vhci-hcd module (USB/IP)" >&2
    exit 1
  fi
  echo "10-base: kernel ${version}: USB support and vhci-hcd present"
done
