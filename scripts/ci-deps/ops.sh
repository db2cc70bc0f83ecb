#!/usr/bin/env bash
# What the ops tests need (docs/ops.md): Chromium for the status-page browser test (driven by
# playwright-core at /usr/bin/chromium), a CJK font so the page's Chinese renders in the
# screenshot (fonts-wqy-zenhei, 16 MB; the image's operators view the page in their own browser),
# and promtool (Debian's prometheus package) for
# `promtool check metrics` and `promtool check rules`. Installed only when missing; nothing here
# starts or enables the prometheus service.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
dpkg-query -W -f='${Status}' fonts-wqy-zenhei 2>/dev/null | grep -q 'install ok installed' || need+=(fonts-wqy-zenhei)
if ((${#need[@]} == 0)); then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
# policy-rc.d keeps the prometheus package from starting its daemon on the CI machine.
had_policy=0
[ -e /usr/sbin/policy-rc.d ] && had_policy=1
if [ "$had_policy" -eq 0 ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
