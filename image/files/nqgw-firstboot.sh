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
