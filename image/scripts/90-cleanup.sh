#!/usr/bin/env bash
# Leave nothing of the build behind: the image must boot as a fresh machine.
set -euo pipefail

# Set by packer (environment_vars, passed by execute_command's {{ .Vars }}); a missing one stops
# the build here, before anything is changed.
: "${NQGW_STAGE:?is not set: packer passes it through environment_vars (docs/image.md)}"
export DEBIAN_FRONTEND=noninteractive

rm -rf "$NQGW_STAGE"
apt-get clean
rm -rf /var/lib/apt/lists/*

# The qemu build's throw-away password; the cloud's key_pair and cloud-init provide logins.
if getent passwd debian >/dev/null; then
  passwd --lock debian >/dev/null
  rm -f /home/debian/.ssh/authorized_keys
fi

# Host identity and cloud-init state are made again on the first boot of each replica.
rm -f /etc/ssh/ssh_host_*
truncate -s 0 /etc/machine-id
rm -f /var/lib/dbus/machine-id
if command -v cloud-init >/dev/null; then
  cloud-init clean --logs
fi
rm -f /var/lib/nqgw-firstboot/done
find /var/log -type f -name '*.log' -exec truncate -s 0 {} +
echo "90-cleanup: done"
