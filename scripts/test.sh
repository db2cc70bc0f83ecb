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

# Node: the version pinned in image/build/node.env (the image's), from scripts/node-dist.sh's
# cache outside the clone, first on PATH for everything below (npm and npx too: they run on the
# first node on PATH). Native addons (pkcs11js) build against its headers, nothing downloaded.
node_bin="$(bash scripts/node-dist.sh --bin-dir)"
export PATH="$node_bin:$PATH"
export npm_config_nodedir="${node_bin%/bin}"
echo "== node $(node --version) ($node_bin), npm $(npm --version)"

# node_modules follows the committed lock (npm ci: it refuses a lock out of sync with
# package.json, and never rewrites it); once per lock change. The addons are rebuilt when
# node_modules was built for another Node ABI (recorded beside it).
abi="$(node -p 'process.versions.modules + " " + process.platform + "-" + process.arch')"
abi_file=node_modules/.nqgw-node-abi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund
  echo "$abi" >"$abi_file"
elif [ "$(cat "$abi_file" 2>/dev/null)" != "$abi" ]; then
  echo "== npm rebuild (node_modules was built for ABI $(cat "$abi_file" 2>/dev/null || echo unknown), node is $abi)"
  npm rebuild
  echo "$abi" >"$abi_file"
fi

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
