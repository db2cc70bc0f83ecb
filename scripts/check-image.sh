#!/usr/bin/env bash
# Checks of the VM image sources (image/) with the real tools, from a shell.
#
#   scripts/check-image.sh            the fast checks (about 10 s): packer validate, systemd-analyze
#                                     verify + security, cloud-init schema, shellcheck, nft -c,
#                                     sshd -t, chronyd -p on the first-boot renderings
#   scripts/check-image.sh chroot DIR the slow check: debootstrap Debian 12 into DIR and run the
#                                     provisioning scripts in it (a few minutes; needs root)
#   scripts/check-image.sh provision ROOT  stage packer's uploads into an existing Debian root and
#                                     run the provisioning scripts in it (scripts/drsite/build-image.sh)
#
# Tools: scripts/ci-deps/infra.sh installs them. A missing tool fails the check.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
image="$repo/image"
failures=0

need() {
  local t
  for t in "$@"; do
    if ! command -v "$t" >/dev/null 2>&1 && [[ ! -x "/usr/sbin/$t" ]]; then
      echo "check-image: $t is not installed; run: sudo bash scripts/ci-deps/infra.sh" >&2
      exit 2
    fi
  done
}

step() { printf '== %s\n' "$*"; }
ok() { printf '   ok   %s\n' "$*"; }
bad() {
  printf '   FAIL %s\n' "$*"
  failures=$((failures + 1))
}

# Debian mirror of this machine (deb822 .sources or the one-line sources.list).
debian_mirror() {
  local uri=""
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    uri="$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)"
  fi
  if [[ -z "$uri" && -f /etc/apt/sources.list ]]; then
    uri="$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' /etc/apt/sources.list)"
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

# Debian security mirror of this machine: the URI of the stanza or line whose suite is *-security.
debian_security_mirror() {
  local uri=""
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    uri="$(awk -v RS= '/Suites:[^\n]*-security/ { if (match($0, /URIs: *[^ \n]+/)) { u = substr($0, RSTART, RLENGTH); sub(/URIs: */, "", u); print u; exit } }' /etc/apt/sources.list.d/debian.sources)"
  fi
  if [[ -z "$uri" && -f /etc/apt/sources.list ]]; then
    uri="$(awk '$1 == "deb" { for (i = 2; i < NF; i++) if ($i ~ /^https?:/ && $(i + 1) ~ /-security$/) { print $i; exit } }' /etc/apt/sources.list)"
  fi
  [[ "$uri" == http* ]] || uri=""
  echo "${uri:-http://deb.debian.org/debian-security}"
}

fast_checks() {
  need packer systemd-analyze cloud-init shellcheck nft chronyd sshd unshare node
  local tmp
  tmp="$(mktemp -d)"
  # shellcheck disable=SC2064 # expand now: tmp is fixed
  trap "rm -rf '$tmp'" EXIT

  step "packer $(packer version | head -1)"
  if packer validate -syntax-only "$image" >/dev/null; then ok "validate -syntax-only image/"; else bad "validate -syntax-only image/"; fi
  : >"$tmp/bundle.tar.gz"
  : >"$tmp/node.tar.xz"
  # The openstack source authenticates to Keystone while validating, so its full validation
  # runs only where 深证云 is reachable; here: syntax of both sources, full check of qemu.
  if packer validate -only=qemu.local -var "appliance_bundle=$tmp/bundle.tar.gz" \
    -var "node_dist=$tmp/node.tar.xz" -var "node_sha256=$(sha256sum <"$tmp/node.tar.xz" | cut -d' ' -f1)" "$image" >"$tmp/packer.out" 2>&1; then
    ok "validate -only=qemu.local image/ (source, provisioners, uploaded files)"
  else
    cat "$tmp/packer.out"
    bad "validate -only=qemu.local image/"
  fi

  step "systemd-analyze (verify, security --offline=yes)"
  local root="$tmp/root" unit exe score
  mkdir -p "$root/usr/lib/systemd" "$root/etc/systemd/system"
  cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
  for unit in "$image"/systemd/*.service; do
    cp "$unit" "$root/etc/systemd/system/"
    while read -r exe; do
      mkdir -p "$root$(dirname "$exe")"
      printf '#!/bin/sh\nexit 0\n' >"$root$exe"
      chmod 0755 "$root$exe"
    done < <(sed -n 's/^Exec[A-Za-z]*=[-+!@:]*\(\/[^ ]*\).*/\1/p' "$unit")
  done
  for unit in "$image"/systemd/*.service; do
    unit="$(basename "$unit")"
    if systemd-analyze verify --man=no --root="$root" "$unit" >"$tmp/verify.out" 2>&1 && [[ ! -s "$tmp/verify.out" ]]; then
      ok "verify $unit"
    else
      cat "$tmp/verify.out"
      bad "verify $unit"
    fi
    score="$(systemd-analyze security --offline=yes --root="$root" --no-pager "$unit" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')"
    ok "security $unit: exposure ${score:-?}"
  done

  step "cloud-init schema"
  local ud
  for ud in "$image/cloud-init/user-data.yaml" "$image/qemu-seed/user-data"; do
    if cloud-init schema --config-file "$ud" >/dev/null 2>&1; then ok "${ud#"$repo"/}"; else bad "${ud#"$repo"/}"; fi
  done

  step "shellcheck"
  local sh
  for sh in "$image"/scripts/*.sh "$image"/build/*.sh "$image"/files/*.sh "$repo/scripts/check-image.sh" "$repo/scripts/ci-deps/infra.sh"; do
    if shellcheck -x "$sh"; then ok "${sh#"$repo"/}"; else bad "${sh#"$repo"/}"; fi
  done

  step "first-boot renderings of image/cloud-init/user-data.yaml (nft -c, sshd -t, chronyd -p)"
  node -e '
    const fs = require("fs");
    const text = fs.readFileSync(process.argv[1], "utf8");
    const m = /path: \/etc\/nqgw\/host\.json\n(?:\s+\w+: .*\n)*?\s+content: \|\n((?: {6}.*\n)+)/.exec(text);
    fs.writeFileSync(process.argv[2], m[1].replace(/^ {6}/gm, ""));
  ' "$image/cloud-init/user-data.yaml" "$tmp/host.json"
  node "$image/files/nqgw-render-host.mjs" --host "$tmp/host.json" --templates "$image/templates" --root "$tmp/r" >/dev/null
  if nft -c -f "$image/nftables/nqgw-default.nft" && nft -c -f "$tmp/r/etc/nftables.d/nqgw.nft"; then
    ok "nft -c (image default and rendered ruleset)"
  else
    bad "nft -c"
  fi
  if chronyd -p -f "$tmp/r/etc/chrony/chrony.conf" >/dev/null; then ok "chronyd -p"; else bad "chronyd -p"; fi
  ssh-keygen -q -t ed25519 -N '' -f "$tmp/hostkey"
  printf 'HostKey %s\nInclude %s\nUsePAM yes\n' "$tmp/hostkey" "$tmp/r/etc/ssh/sshd_config.d/*.conf" >"$tmp/sshd_config"
  # sshd -t wants /run/sshd: give it one in a private mount namespace, not on this machine.
  # shellcheck disable=SC2016 # $1 is expanded by the inner sh
  if unshare --mount sh -c 'mount -t tmpfs tmpfs /run && mkdir -m 0755 /run/sshd && /usr/sbin/sshd -t -f "$1"' sh "$tmp/sshd_config"; then
    ok "sshd -t"
  else
    bad "sshd -t"
  fi

  if ((failures > 0)); then
    echo "check-image: ${failures} check(s) failed" >&2
    exit 1
  fi
  echo "check-image: all fast checks passed"
}

# The slow check: a Debian 12 root from the mirror, provisioned by image/scripts/*.sh exactly as
# packer runs them (same stage layout and variables), minus the kernel.
chroot_check() {
  local target="$1"
  need debootstrap node
  if [[ "$(id -u)" != 0 ]]; then
    echo "check-image: the chroot check needs root" >&2
    exit 2
  fi
  local mirror start
  mirror="$(debian_mirror)"
  start=$(date +%s)
  step "debootstrap bookworm from $mirror into $target"
  mkdir -p "$target"
  debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,passwd bookworm "$target" "$mirror" >"$target.debootstrap.log" 2>&1 \
    || { tail -20 "$target.debootstrap.log"; exit 1; }
  ok "debootstrap in $(($(date +%s) - start)) s"
  NQGW_SKIP_KERNEL=1 provision_root "$target"
}

# Stages what packer uploads (bundle, Node tarball, image/ directories, the scripts) into
# ROOT/tmp/nqgw-image and runs image/scripts/*.sh in ROOT with chroot, in order, with the
# environment packer's environment_vars give them. Also used by scripts/drsite/build-image.sh
# (the DR-site test's bootable image), so the staging is written once.
# Bundle and Node come from $NQGW_BUNDLE and $NQGW_NODE_DIST (with $NQGW_NODE_SHA256 when given)
# when set, else a stub bundle and this machine's Node binary (its SHA-256 computed here).
# NQGW_SKIP_KERNEL=1 leaves the kernel out (10-base.sh); NQGW_IMAGE_VERSION defaults to 0.0.0-chroot.
provision_root() {
  local target="$1"
  need node
  if [[ "$(id -u)" != 0 ]]; then
    echo "check-image: provisioning a root needs root" >&2
    exit 2
  fi
  local mirror security_mirror start
  mirror="${NQGW_APT_MIRROR:-$(debian_mirror)}"
  security_mirror="${NQGW_APT_SECURITY_MIRROR:-$(debian_security_mirror)}"

  local stage="$target/tmp/nqgw-image"
  mkdir -p "$stage"
  cp -r "$image/build" "$image/systemd" "$image/udev" "$image/files" "$image/templates" "$image/nftables" "$stage/"
  if [[ -n "${NQGW_BUNDLE:-}" ]]; then
    cp "$NQGW_BUNDLE" "$stage/nqgw-bundle.tar.gz"
  else
    local b="$target.bundle"
    mkdir -p "$b/bin"
    printf '%s\n' '#!/usr/bin/env node' 'console.log("nqgw stub bundle", process.argv.slice(2).join(" "));' >"$b/bin/nqgw.js"
    printf '{"name":"nqgw","version":"0.0.0-chroot","type":"module"}\n' >"$b/package.json"
    tar -czf "$stage/nqgw-bundle.tar.gz" -C "$b" .
  fi
  if [[ -n "${NQGW_NODE_DIST:-}" ]]; then
    cp "$NQGW_NODE_DIST" "$stage/node.tar.xz"
  else
    local n
    n="$target.node/node-v$(node -p process.versions.node)-linux-x64"
    mkdir -p "$n/bin"
    cp "$(command -v node)" "$n/bin/node"
    XZ_OPT='-0 -T0' tar -cJf "$stage/node.tar.xz" -C "$(dirname "$n")" "$(basename "$n")"
  fi
  cp "$image"/scripts/*.sh "$stage/"
  local node_sha256="${NQGW_NODE_SHA256:-}"
  if [[ -z "$node_sha256" ]]; then
    node_sha256="$(sha256sum <"$stage/node.tar.xz" | cut -d' ' -f1)"
  fi

  # No daemons start inside the chroot.
  printf '#!/bin/sh\nexit 101\n' >"$target/usr/sbin/policy-rc.d"
  chmod 0755 "$target/usr/sbin/policy-rc.d"
  mount -t proc proc "$target/proc"
  # shellcheck disable=SC2064 # expand now: target is fixed
  trap "umount '$target/proc' 2>/dev/null || true" EXIT

  local script
  for script in "$stage"/[0-9][0-9]-*.sh; do
    script="$(basename "$script")"
    step "provision: $script"
    start=$(date +%s)
    chroot "$target" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      NQGW_STAGE=/tmp/nqgw-image NQGW_APT_MIRROR="$mirror" NQGW_APT_SECURITY_MIRROR="$security_mirror" \
      NQGW_NODE_SHA256="$node_sha256" NQGW_SKIP_KERNEL="${NQGW_SKIP_KERNEL:-0}" \
      NQGW_IMAGE_VERSION="${NQGW_IMAGE_VERSION:-0.0.0-chroot}" bash "/tmp/nqgw-image/$script"
    ok "$script in $(($(date +%s) - start)) s"
  done
  rm -f "$target/usr/sbin/policy-rc.d"
  umount "$target/proc"
  trap - EXIT
  echo "check-image: provisioned chroot at $target"
}

case "${1:-fast}" in
  fast) fast_checks ;;
  chroot)
    [[ $# -eq 2 ]] || { echo "usage: $0 chroot DIR" >&2; exit 64; }
    chroot_check "$2"
    ;;
  provision)
    [[ $# -eq 2 ]] || { echo "usage: $0 provision ROOT" >&2; exit 64; }
    provision_root "$2"
    ;;
  *)
    echo "usage: $0 [fast | chroot DIR | provision ROOT]" >&2
    exit 64
    ;;
esac
