#!/usr/bin/env bash
# What the host-monitoring tests need (docs/ops.md "Host monitoring"): promtool (Debian's
# prometheus package) for `promtool check rules` / `promtool test rules` on the host rules, and
# Debian's prometheus-node-exporter, the exporter the image ships, run by the tests on a loopback
# port with the image's flags to check that the series the rules use are there. Installed only
# when missing; nothing here starts or enables a service (apt_install_missing's policy-rc.d).
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"
apt_install_missing prometheus prometheus-node-exporter
