#!/usr/bin/env bash
# The whole test suite, from a fresh machine: Debian packages the real-part tests need, npm
# packages, build, lint, type check, then every test. Safe to run again (each step is idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ]; then
  # Every apt-get below (lib/apt.sh's and the scripts' own) waits up to 10 minutes for the dpkg
  # lock another apt run holds, instead of failing at once: APT_CONFIG is read after apt.conf.
  apt_conf="$(mktemp)"
  # shellcheck disable=SC2064 # expand now: the file is fixed
  trap "rm -f '$apt_conf'" EXIT
  printf 'DPkg::Lock::Timeout "600";\n' >"$apt_conf"
  for deps in scripts/ci-deps/*.sh; do
    [ -e "$deps" ] || continue
    echo "== installing test dependencies: $deps"
    # Only for the installs: the tests' own apt runs (chroots, mmdebstrap) keep their config.
    APT_CONFIG="$apt_conf" bash "$deps"
  done
else
  echo "== not root: skipping Debian package installs (scripts/ci-deps/*.sh); tests needing them will say so"
fi

# The pinned Node 24 first on PATH, node_modules from the committed lock (scripts/lib/node-env.sh).
# shellcheck source=scripts/lib/node-env.sh
source scripts/lib/node-env.sh
use_pinned_node

echo "== build"
npx tsc -p tsconfig.build.json
echo "== type check (tests included)"
npx tsc -p tsconfig.json --noEmit
echo "== lint"
npx eslint appliance test scripts
echo "== tests"
status=0
npx vitest run --reporter=default --reporter=json --outputFile=.vitest-results.json "$@" || status=$?
# One plain closing line, whatever the reporter printed above. A test file that failed outside
# any test (a beforeAll that threw, a module that did not load) reports its tests as skipped or
# not at all: it counts as one failure here, never as skips.
node scripts/test-summary.mjs "$PWD/.vitest-results.json" || status=1
exit "$status"
