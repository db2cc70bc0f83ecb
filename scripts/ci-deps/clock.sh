#!/usr/bin/env bash
# What the clock tests need (docs/clock.md): chronyd and chronyc, for the real-chronyd
# interoperability test and the chrony second-opinion test. The tests start their own chronyd
# with -x on a loopback port; nothing here starts or enables the system service.
set -euo pipefail

if command -v chronyd >/dev/null 2>&1 && command -v chronyc >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chrony
