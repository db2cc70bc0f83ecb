#!/usr/bin/env bash
# Debian packages the core tests need: openssl (lab PKI), faketime (libfaketime: the gateway, the
# simulator and the feeder on one shifted clock across CST midnight). Installed only when missing.
set -euo pipefail
need=()
command -v openssl >/dev/null || need+=(openssl)
command -v faketime >/dev/null || need+=(faketime)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
