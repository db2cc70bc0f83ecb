#!/usr/bin/env bash
# First boot of a replica (nqgw-firstboot.service): render the host settings and tw.ini from
# what cloud-init wrote, apply them, and never run again once it succeeded.
set -euo pipefail

etc=/etc/nqgw
libexec=/usr/local/libexec/nqgw
templates=/usr/local/share/nqgw/templates
done_marker=/var/lib/nqgw-firstboot/done

log() { printf 'nqgw-firstboot: %s\n' "$*"; }

/opt/node/bin/node "$libexec/nqgw-render-host.mjs" --host "$etc/host.json" --templates "$templates" --root /
# shellcheck source=/dev/null
. "$etc/firstboot.env"

# Firewall first: check, then load (nftables.service loads the same file on later boots).
nft -c -f /etc/nftables.conf
nft -f /etc/nftables.conf
log "nftables ruleset loaded"

sshd -t
systemctl try-reload-or-restart ssh.service
log "sshd: keys only, from the bastion only"

systemctl try-restart chrony.service
log "chrony pointed at the cloud's time servers"

# Where operators place the secrets through the bastion (PIN, share credentials, object-storage
# keys, CA): root:nqgw 0750, so the gateway reaches the files it owns and no one else looks in.
install -d -m 0750 -o root -g nqgw "$etc/secrets"

# Mounts (nqgw-render-mounts.mjs wrote the units): the state volume now, and waited for, before
# anything uses /var/lib/nqgw (formatted only when blank); the counter's share without waiting:
# its credentials are placed later, and its path unit starts it when they appear.
if [[ -n "${NQGW_UNITS_ENABLE:-}" ]]; then
  systemctl daemon-reload
  # Unit names hold no spaces: word splitting is what is wanted here.
  # shellcheck disable=SC2086
  systemctl enable $NQGW_UNITS_ENABLE
  # Terraform attaches the state volume once the server is up, so on first boot it may come a
  # little after us: wait for its device (the mount would give up after systemd's 90 s). Asked
  # of systemd's device unit: this unit's own /dev is private (PrivateDevices=).
  if [[ -n "${NQGW_STATE_DEVICE:-}" ]]; then
    device_unit="$(systemd-escape --path --suffix=device "$NQGW_STATE_DEVICE")"
    device_up=0
    for ((waited = 0; waited < 600; waited += 2)); do
      if [[ "$(systemctl show -p ActiveState --value "$device_unit")" == active ]]; then
        device_up=1
        break
      fi
      ((waited % 30 == 0)) && log "waiting for the state volume ${NQGW_STATE_DEVICE} (${waited} s)"
      sleep 2
    done
    if ((device_up == 0)); then
      log "the state volume ${NQGW_STATE_DEVICE} did not appear in 600 s (openstack server volume list)" >&2
      exit 1
    fi
  fi
  if [[ -n "${NQGW_UNITS_START:-}" ]]; then
    # shellcheck disable=SC2086
    systemctl start $NQGW_UNITS_START
    log "started ${NQGW_UNITS_START}"
  fi
  if [[ -n "${NQGW_UNITS_START_NO_BLOCK:-}" ]]; then
    # shellcheck disable=SC2086
    systemctl start --no-block $NQGW_UNITS_START_NO_BLOCK
    log "starting ${NQGW_UNITS_START_NO_BLOCK} (the share mounts once its credentials file is in place)"
  fi
fi

# tw.ini: the appliance renders and checks it; a bad values.json stops here, loudly.
# values.json is the FLAT document of template values ({"station": "W888888T", "units": [...],
# "orders": ..., "management_listen": ...}); nqgw config templates lists the keys.
/usr/local/bin/nqgw config render --template "${NQGW_TW_TEMPLATE:-cloud-production}" \
  --values "$etc/values.json" --out "$etc/tw.ini.new"
chgrp nqgw "$etc/tw.ini.new"
chmod 0640 "$etc/tw.ini.new" "$etc/values.json" "$etc/host.json"
mv -f "$etc/tw.ini.new" "$etc/tw.ini"
log "tw.ini rendered from template ${NQGW_TW_TEMPLATE:-cloud-production}"

# The API token ([management] token_file): made here, on the replica, never sent in user-data;
# nqgw.service cannot make it itself (ProtectSystem=strict keeps /etc read-only for it).
"$libexec/nqgw-api-token.sh" --config "$etc/tw.ini" --owner nqgw

install -d -m 0700 "$(dirname "$done_marker")"
date -u +%Y-%m-%dT%H:%M:%SZ >"$done_marker"
log "done"
