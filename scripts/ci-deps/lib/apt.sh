# shellcheck shell=bash
# Sourced by the ci-deps scripts, not run (in lib/ so that scripts/test.sh, which runs every ci-deps/*.sh, leaves it alone). Run them as root.

# apt_install_missing PACKAGE...: installs those of the Debian packages not installed yet, and
# does nothing when all are. For the time of the install a policy-rc.d keeps their maintainer
# scripts from starting daemons on the CI machine: the tests start their own, in temp dirs.
apt_install_missing() {
  local p
  local missing=()
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
  ((${#missing[@]} > 0)) || return 0
  (
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
      chmod 0755 /usr/sbin/policy-rc.d
      trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  )
}
