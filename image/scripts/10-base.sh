#!/usr/bin/env bash
# Debian packages the appliance needs, from the build-time mirror only.
# Nothing here runs at boot; the image never fetches anything when it starts.
set -euo pipefail

: "${NQGW_APT_MIRROR:=http://deb.debian.org/debian}"
export DEBIAN_FRONTEND=noninteractive

# On 深证云 the mirror is the cloud's package source (补丁源), not the internet.
if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
  sed -i "s|^URIs: http[s]*://deb.debian.org/debian/*$|URIs: ${NQGW_APT_MIRROR}|" \
    /etc/apt/sources.list.d/debian.sources
fi

apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  ca-certificates \
  chrony \
  nftables \
  openssh-server \
  usbip \
  kmod \
  udev \
  usbutils \
  opensc \
  pcscd \
  libengine-pkcs11-openssl \
  xz-utils \
  tar \
  >/dev/null

# USB over IP needs vhci-hcd; Debian's cloud kernel does not build USB host drivers, so an image
# started from a genericcloud base gets the generic kernel. NQGW_SKIP_KERNEL=1 skips this
# (the debootstrap chroot check, which boots nothing).
if [[ "${NQGW_SKIP_KERNEL:-0}" != 1 ]]; then
  if ! find /lib/modules -name 'vhci-hcd.ko*' -print -quit 2>/dev/null | grep -q .; then
    apt-get install -y -qq --no-install-recommends linux-image-amd64 >/dev/null
  fi
fi
echo "10-base: packages installed"
