#!/usr/bin/env bash
# What the USB/IP tunnel test (test/integration/image/usbip-tunnel.test.ts) needs: stunnel4, the
# same TLS tunnel the image runs in front of usbip (docs/ekey.md), and openssl to make the test's
# certificates with scripts/usbip-host/nqgw-usbip-certs.sh. Installs only what is missing; the
# test starts its own stunnel processes in temp dirs, nothing here starts a service. Run as root.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"

apt_install_missing stunnel4 openssl
