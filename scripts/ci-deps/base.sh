#!/usr/bin/env bash
# Debian packages the core tests need: openssl (lab PKI). Installed only when missing.
set -euo pipefail
need=()
command -v openssl >/dev/null || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
