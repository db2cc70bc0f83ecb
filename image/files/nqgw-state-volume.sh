#!/usr/bin/env bash
# The replica's state volume (nqgw-state-volume.service, before /var/lib/nqgw is mounted):
# format it as ext4 when, and only when, it is blank. Never reformat a volume that holds data.
#
#   nqgw-state-volume.sh DEVICE
#
# blank  = blkid's low-level probe finds no signature at all (no filesystem, no partition table,
#          no RAID/LVM member) AND its first 4 MiB are zeros (what a new Cinder volume reads as)
#          -> mkfs.ext4 -L nqgw-state
# ext4   -> kept as it is (a re-created replica gets its state back)
# other  -> refused (exit 1), untouched: someone attached the wrong volume, or it is not ours
set -euo pipefail

label=nqgw-state
dev="${1:?usage: nqgw-state-volume.sh DEVICE}"
log() { printf 'nqgw-state-volume: %s\n' "$*"; }

# A regular file stands in for the device only in the tests (a loop device needs more rights
# than some CI containers give).
if [[ ! -b "$dev" && ! ( "${NQGW_STATE_VOLUME_TEST:-0}" == 1 && -f "$dev" ) ]]; then
  log "${dev} is not a block device (is the volume attached? openstack server volume list)" >&2
  exit 1
fi

# -p: probe the device itself, not the blkid cache; exit 2 = nothing found.
rc=0
probe="$(blkid -p -o export "$dev" 2>&1)" || rc=$?
case "$rc" in
  0)
    type="$(sed -n 's/^TYPE=//p' <<<"$probe")"
    if [[ "$type" == ext4 ]]; then
      log "${dev} holds an ext4 filesystem ($(sed -n 's/^LABEL=/label /p' <<<"$probe")): kept, not formatted"
      exit 0
    fi
    what="$(grep -E '^(TYPE|PTTYPE|USAGE)=' <<<"$probe" | tr '\n' ' ')"
    log "${dev} is not blank and not ext4 (${what:-unknown signature}): refused, nothing changed" >&2
    exit 1
    ;;
  2) ;;
  *)
    log "cannot probe ${dev}: ${probe}" >&2
    exit 1
    ;;
esac

# No signature: blank only if it reads as zeros where any filesystem would have written.
if ! cmp -s -n $((4 * 1024 * 1024)) "$dev" /dev/zero; then
  log "${dev} has no known signature but holds data in its first 4 MiB: refused, nothing changed" >&2
  exit 1
fi

log "${dev} is blank: formatting ext4, label ${label}"
mkfs.ext4 -q -F -L "$label" -m 1 "$dev"
if [[ "$(blkid -p -o value -s TYPE "$dev")" != ext4 ]]; then
  log "${dev}: mkfs.ext4 finished but no ext4 is found on it" >&2
  exit 1
fi
log "${dev} formatted"
