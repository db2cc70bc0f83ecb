#!/usr/bin/env bash
# What the fleet test (test/integration/fleet/) needs: the OpenSSH server (three sshd on loopback:
# a bastion and two replicas, each started by the test in a temp dir, never the system's service)
# and the OpenSSH client that `nqgw fleet` runs (ssh with ProxyJump, BatchMode=yes).
# Idempotent: safe to run again. Run as root.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"

PACKAGES=(
  openssh-server # /usr/sbin/sshd, started by the test on loopback ports
  openssh-client # /usr/bin/ssh, ssh-keygen: what nqgw fleet runs on the operator's host
)

apt_install_missing "${PACKAGES[@]}"
echo "fleet ci-deps: ${PACKAGES[*]} present"
