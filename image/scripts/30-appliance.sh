#!/usr/bin/env bash
# The appliance bundle, its service user and its directories.
set -euo pipefail

# Set by packer (environment_vars, passed by execute_command's {{ .Vars }}); a missing one stops
# the build here, before anything is changed.
: "${NQGW_STAGE:?is not set: packer passes it through environment_vars (docs/image.md)}"
: "${NQGW_IMAGE_VERSION:?is not set: packer passes var.image_version (docs/image.md)}"
if [[ ! "$NQGW_IMAGE_VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+([.+~-][0-9A-Za-z.+~-]+)?$ ]]; then
  echo "30-appliance: NQGW_IMAGE_VERSION \"${NQGW_IMAGE_VERSION}\" is not a version like 0.1.0" >&2
  exit 1
fi
bundle="${NQGW_STAGE}/nqgw-bundle.tar.gz"

if [[ ! -s "$bundle" ]]; then
  echo "30-appliance: ${bundle} is missing or empty" >&2
  exit 1
fi

# Non-root service user: no shell, no password, home is the data directory.
if ! getent group nqgw >/dev/null; then
  groupadd --system nqgw
fi
if ! getent passwd nqgw >/dev/null; then
  useradd --system --gid nqgw --home-dir /var/lib/nqgw --no-create-home \
    --shell /usr/sbin/nologin --comment 'NEEQ trading gateway' nqgw
fi
passwd --lock nqgw >/dev/null

rm -rf /opt/nqgw
install -d -m 0755 -o root -g root /opt/nqgw
tar -xzf "$bundle" -C /opt/nqgw --no-same-owner
chown -R root:root /opt/nqgw
if [[ ! -f /opt/nqgw/bin/nqgw.js ]]; then
  echo "30-appliance: the bundle has no bin/nqgw.js" >&2
  exit 1
fi
# The bundle (scripts/bundle.sh) runs on the Node 20-node.sh installed: caught here, not at cutover.
if ! bundle_version="$(/opt/node/bin/node /opt/nqgw/bin/nqgw.js --version 2>&1)"; then
  echo "30-appliance: /opt/nqgw/bin/nqgw.js --version failed under $(/opt/node/bin/node --version): ${bundle_version}" >&2
  exit 1
fi

# The command operators and units call.
cat >/usr/local/bin/nqgw <<'WRAPPER'
#!/bin/sh
exec /opt/node/bin/node /opt/nqgw/bin/nqgw.js "$@"
WRAPPER
chmod 0755 /usr/local/bin/nqgw

# Data (NQWT.DBF/NQHB.DBF unless a shared mount is configured), state, logs, config.
install -d -m 0750 -o nqgw -g nqgw /var/lib/nqgw /var/lib/nqgw/state /var/log/nqgw
install -d -m 0750 -o root -g nqgw /etc/nqgw
install -d -m 0700 -o root -g root /var/lib/nqgw-firstboot
printf 'NQGW_IMAGE_VERSION=%s\n' "$NQGW_IMAGE_VERSION" >/etc/nqgw/image-release
chmod 0644 /etc/nqgw/image-release
echo "30-appliance: /opt/nqgw installed (${bundle_version}), user nqgw ready, image ${NQGW_IMAGE_VERSION}"
