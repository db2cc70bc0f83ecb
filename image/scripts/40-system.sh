#!/usr/bin/env bash
# systemd units, udev rules, first-boot renderer and the host templates.
set -euo pipefail

# Set by packer (environment_vars, passed by execute_command's {{ .Vars }}); a missing one stops
# the build here, before anything is changed.
: "${NQGW_STAGE:?is not set: packer passes it through environment_vars (docs/image.md)}"
s="$NQGW_STAGE"

install -m 0644 "$s/systemd/nqgw.service" /etc/systemd/system/nqgw.service
install -m 0644 "$s/systemd/nqgw-firstboot.service" /etc/systemd/system/nqgw-firstboot.service
install -m 0644 "$s/systemd/nqgw-usbip.service" /etc/systemd/system/nqgw-usbip.service
install -m 0644 "$s/systemd/nqgw-usbip-tunnel.service" /etc/systemd/system/nqgw-usbip-tunnel.service
install -m 0644 "$s/systemd/nqgw-daily.service" /etc/systemd/system/nqgw-daily.service
install -m 0644 "$s/systemd/nqgw-daily.timer" /etc/systemd/system/nqgw-daily.timer

install -d -m 0755 /etc/udev/rules.d
install -m 0644 "$s/udev/70-nqgw-ekey.rules" /etc/udev/rules.d/70-nqgw-ekey.rules

install -d -m 0755 /usr/local/libexec/nqgw /usr/local/share/nqgw/templates
install -m 0755 "$s/files/nqgw-firstboot.sh" /usr/local/libexec/nqgw/nqgw-firstboot.sh
install -m 0755 "$s/files/nqgw-usbip.sh" /usr/local/libexec/nqgw/nqgw-usbip.sh
install -m 0755 "$s/files/nqgw-api-token.sh" /usr/local/libexec/nqgw/nqgw-api-token.sh
install -m 0644 "$s/files/nqgw-render-host.mjs" /usr/local/libexec/nqgw/nqgw-render-host.mjs
install -m 0644 "$s/files/nqgw-render-mounts.mjs" /usr/local/libexec/nqgw/nqgw-render-mounts.mjs
install -m 0755 "$s/files/nqgw-state-volume.sh" /usr/local/libexec/nqgw/nqgw-state-volume.sh
install -m 0644 "$s/templates/"*.tmpl /usr/local/share/nqgw/templates/

# nftables.service loads /etc/nftables.conf, which includes /etc/nftables.d/nqgw.nft: until
# first boot renders the replica's own, that is the no-ingress default below.
install -m 0755 "$s/nftables/nftables.conf" /etc/nftables.conf
install -d -m 0755 /etc/nftables.d
install -m 0644 "$s/nftables/nqgw-default.nft" /etc/nftables.d/nqgw.nft

# Chrony must not use the internet pool before first boot points it at the cloud's servers.
if [[ -f /etc/chrony/chrony.conf ]]; then
  sed -i -e 's/^pool /# pool /' -e 's/^sourcedir /# sourcedir /' /etc/chrony/chrony.conf
fi

# Unit state: first boot and the firewall on; the gateway itself is started at cutover
# (nqgw cutover), so it is installed but not enabled; usbip only when /etc/nqgw/usbip.env exists.
# The daily-start timer is on everywhere: it starts nqgw.service on trading mornings only where
# nqgw.service is enabled, which cutover does on a GO, so on a standby it does nothing.
# chrony-wait (shipped disabled by Debian) holds time-sync.target until chrony's correction is
# under 0.1 s, so nqgw.service's After=time-sync.target waits for a synchronised clock.
# (systemctl enable works the same inside a chroot, where nothing runs.)
systemctl enable --quiet nqgw-firstboot.service nqgw-usbip.service nftables.service \
  chrony.service chrony-wait.service ssh.service nqgw-daily.timer
# The counter's share over NFS is NFSv4 only (tcp 2049, no portmapper): nfs-common's rpcbind,
# enabled by its package, would only listen on port 111 for nothing. Disabled, not masked, so
# nothing that might ask for it fails.
if [[ -e /lib/systemd/system/rpcbind.service ]]; then
  systemctl disable --quiet rpcbind.service rpcbind.socket
fi

# Host monitoring (docs/ops.md): Debian's prometheus-node-exporter. Until first boot renders its
# command line from host.json (the replica's address, the collectors, nqgw.prom in its textfile
# directory) it listens on loopback only, and the drop-in starts it after first boot so it never
# comes up on every address of a fresh replica.
printf '# Replaced at first boot by nqgw-render-host (docs/ops.md).\nARGS="--web.listen-address=127.0.0.1:9100"\n' \
  >/etc/default/prometheus-node-exporter
install -d -m 0755 /etc/systemd/system/prometheus-node-exporter.service.d
printf '[Unit]\n# The listen address and collectors come from first boot (nqgw-render-host).\nAfter=nqgw-firstboot.service\n' \
  >/etc/systemd/system/prometheus-node-exporter.service.d/nqgw.conf
systemctl enable --quiet prometheus-node-exporter.service

# Times shown to people (journalctl, the console's date, sshd's log) in CST, the zone of the trading
# day; the gateway computes the trading day in CST whatever the host's zone (shared/time.ts).
if [[ ! -e /usr/share/zoneinfo/Asia/Shanghai ]]; then
  echo "40-system: /usr/share/zoneinfo/Asia/Shanghai is missing (tzdata, installed by 10-base.sh)" >&2
  exit 1
fi
ln -sfn /usr/share/zoneinfo/Asia/Shanghai /etc/localtime
echo Asia/Shanghai >/etc/timezone

# journald: kept across reboots (an incident is investigated after the VM was restarted) and
# bounded, so it never fills the root disk; the gateway's own logs are in /var/log/nqgw and shipped.
install -d -m 0755 /etc/systemd/journald.conf.d
printf '[Journal]\nStorage=persistent\nSystemMaxUse=1G\nSystemKeepFree=2G\nMaxRetentionSec=3month\n' \
  >/etc/systemd/journald.conf.d/50-nqgw.conf

echo "40-system: units, udev rules and templates installed"
