#!/usr/bin/env bash
# The bootable disk of the DR-site test (docs/drsite.md): a Debian 12 root from Debian's packages
# provisioned by the image's OWN scripts (image/scripts/*.sh, staged and run by
# scripts/check-image.sh provision, as packer stages and runs them), generic kernel included,
# turned into a qcow2 that qemu boots with -kernel/-initrd (no bootloader).
#
#   build-image.sh --bundle FILE --node FILE [--node-sha256 HEX] [--cache DIR]
#
# The result is cached by the hash of its inputs (every file under image/, the bundle's and the
# Node tarball's contents, this script and check-image.sh) in DIR/<hash>/ (default
# /var/cache/nqgw-drsite): root.qcow2, vmlinuz, initrd.img, build.json. The mmdebstrap root
# (the stand-in for Debian's cloud image, which packer would start from) is cached on its own
# by its package list, so a change of the appliance rebuilds only the provisioning.
# Prints "drsite-image: cache hit|miss <hash>" and, last, "drsite-image: DIR". Needs root.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache=/var/cache/nqgw-drsite
bundle=""
node_dist=""
node_sha256=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bundle) bundle="${2:?}"; shift 2 ;;
    --node) node_dist="${2:?}"; shift 2 ;;
    --node-sha256) node_sha256="${2:?}"; shift 2 ;;
    --cache) cache="${2:?}"; shift 2 ;;
    *) echo "usage: build-image.sh --bundle FILE --node FILE [--node-sha256 HEX] [--cache DIR]" >&2; exit 64 ;;
  esac
done
if [[ ! -s "$bundle" || ! -s "$node_dist" ]]; then
  echo "drsite-image: --bundle and --node must name existing files" >&2
  exit 64
fi
if [[ "$(id -u)" != 0 ]]; then
  echo "drsite-image: needs root (mmdebstrap, chroot, mkfs.ext4 -d with owners)" >&2
  exit 2
fi
for t in mmdebstrap mkfs.ext4 qemu-img sha256sum tar; do
  command -v "$t" >/dev/null 2>&1 || [[ -x "/usr/sbin/$t" ]] || {
    echo "drsite-image: $t is missing; run: sudo bash scripts/ci-deps/drsite.sh" >&2
    exit 2
  }
done

# What Debian's genericcloud image brings and the image's scripts take for granted (cloud-init,
# sshd, DHCP, sudo for the cloud user), plus initramfs-tools so that its configuration is in
# place before 10-base.sh installs the kernel. Changing this list rebuilds the base.
BASE_PACKAGES="systemd-sysv,udev,kmod,dbus,cloud-init,openssh-server,cifs-utils,chrony,ifupdown,isc-dhcp-client,iproute2,sudo,locales,initramfs-tools,ca-certificates,netbase"
# Only what virtio boot needs in the initrd: 6.5 MB instead of 36 MB, and a faster boot under TCG.
INITRD_MODULES="virtio_pci virtio_blk ext4 crc32c_generic"
DISK_SIZE=3G

mirror="$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
mirror="${NQGW_APT_MIRROR:-${mirror:-http://deb.debian.org/debian}}"

log() { printf 'drsite-image: %s\n' "$*"; }
now() { date +%s; }

# Content hash of a tarball: paths and file contents, not mtimes (a rebuilt bundle of the same
# sources has the same hash).
tar_content_hash() {
  local dir
  dir="$(mktemp -d)"
  tar -xf "$1" -C "$dir"
  (cd "$dir" && find . \( -type f -o -type l \) -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum) | sha256sum | cut -c1-64
  rm -rf "$dir"
}

t0=$(now)
image_hash="$(cd "$repo" && find image -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64)"
bundle_hash="$(tar_content_hash "$bundle")"
node_hash="$(tar_content_hash "$node_dist")"
script_hash="$(cat "$here/build-image.sh" "$repo/scripts/check-image.sh" | sha256sum | cut -c1-64)"
hash="$(printf '%s\n' "$image_hash" "$bundle_hash" "$node_hash" "$script_hash" "$mirror" | sha256sum | cut -c1-16)"
out="$cache/$hash"
if [[ -s "$out/root.qcow2" && -s "$out/build.json" ]]; then
  log "cache hit $hash (inputs hashed in $(($(now) - t0)) s)"
  log "$out"
  exit 0
fi
log "cache miss $hash (image $image_hash, bundle $bundle_hash, node $node_hash)"

mkdir -p "$cache"
work="$(mktemp -d "$cache/build-$hash.XXXXXX")"
root="$work/root"
cleanup() {
  # Never recurse into a mounted /proc of the chroot.
  umount "$root/proc" 2>/dev/null || true
  if mountpoint -q "$root/proc" 2>/dev/null; then
    echo "drsite-image: $root/proc still mounted; left $work in place" >&2
    return
  fi
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

# 1. The base root (cached by package list, initrd modules and mirror).
base_hash="$(printf '%s\n' "$BASE_PACKAGES" "$INITRD_MODULES" "$mirror" | sha256sum | cut -c1-16)"
base_tar="$cache/base-$base_hash.tar"
t=$(now)
if [[ -s "$base_tar" ]]; then
  log "base root: cache hit $base_tar"
else
  log "base root: mmdebstrap bookworm from $mirror"
  # shellcheck disable=SC2016 # $1 is the hook's argument (the root), expanded by mmdebstrap's sh
  mmdebstrap --variant=minbase --format=tar --include="$BASE_PACKAGES" \
    --customize-hook='printf "MODULES=list\n" > "$1/etc/initramfs-tools/conf.d/nqgw-drsite"' \
    --customize-hook="printf '%s\n' $INITRD_MODULES >> \"\$1/etc/initramfs-tools/modules\"" \
    bookworm "$base_tar.tmp" "$mirror" >"$work/mmdebstrap.log" 2>&1 ||
    { tail -30 "$work/mmdebstrap.log" >&2; rm -f "$base_tar.tmp"; exit 1; }
  mv "$base_tar.tmp" "$base_tar"
fi
mkdir -p "$root"
tar -xpf "$base_tar" --numeric-owner -C "$root"
base_s=$(($(now) - t))
log "base root ready in ${base_s} s"

# 2. The image's own provisioning, as packer runs it. The disk has no bootloader (qemu boots
# the kernel directly), so 10-base.sh's update-grub is a no-op here, for this build only.
t=$(now)
printf '#!/bin/sh\necho "update-grub: no bootloader in the DR-site test disk (qemu -kernel)"\n' >"$root/usr/sbin/update-grub"
chmod 0755 "$root/usr/sbin/update-grub"
NQGW_BUNDLE="$bundle" NQGW_NODE_DIST="$node_dist" NQGW_NODE_SHA256="$node_sha256" NQGW_APT_MIRROR="$mirror" \
  NQGW_IMAGE_VERSION="0.0.0-drsite" NQGW_SKIP_KERNEL=0 bash "$repo/scripts/check-image.sh" provision "$root" |
  tee "$work/provision.log"
rm -f "$root/usr/sbin/update-grub"
provision_s=$(($(now) - t))

# 3. Kernel and initrd beside the disk; the root filesystem into an ext4 image, then qcow2.
t=$(now)
mkdir -p "$work/out"
kernel="$(find "$root/boot" -maxdepth 1 -name 'vmlinuz-*' | sort | tail -1)"
initrd="$(find "$root/boot" -maxdepth 1 -name 'initrd.img-*' | sort | tail -1)"
[[ -n "$kernel" && -n "$initrd" ]] || { echo "drsite-image: no kernel/initrd in $root/boot" >&2; exit 1; }
cp "$kernel" "$work/out/vmlinuz"
cp "$initrd" "$work/out/initrd.img"
mkfs.ext4 -q -L root -d "$root" "$work/root.raw" "$DISK_SIZE"
qemu-img convert -O qcow2 "$work/root.raw" "$work/out/root.qcow2"
rm -f "$work/root.raw"
disk_s=$(($(now) - t))
cat >"$work/out/build.json" <<JSON
{"hash": "$hash", "kernel": "$(basename "$kernel")", "base_seconds": $base_s, "provision_seconds": $provision_s,
 "disk_seconds": $disk_s, "qcow2_bytes": $(stat -c %s "$work/out/root.qcow2"), "initrd_bytes": $(stat -c %s "$work/out/initrd.img"),
 "built": "$(date -u +%Y-%m-%dT%H:%M:%SZ)"}
JSON
rm -rf "$out"
mv "$work/out" "$out"
# Keep the cache bounded (about 1 GB an image): the three newest images, and no build directory
# left by a killed run more than two hours ago.
find "$cache" -mindepth 1 -maxdepth 1 -type d -regextype posix-extended -regex '.*/[0-9a-f]{16}' -printf '%T@ %p\n' |
  sort -rn | tail -n +4 | cut -d' ' -f2- | xargs -r rm -rf --one-file-system
find "$cache" -mindepth 1 -maxdepth 1 -type d -name 'build-*' -mmin +120 -exec rm -rf --one-file-system {} +
log "built in $(($(now) - t0)) s (base ${base_s} s, provisioning ${provision_s} s, disk ${disk_s} s): $(tr -d '\n' <"$out/build.json")"
log "$out"
