#!/usr/bin/env bash
# The whole test suite, from a fresh machine: Debian packages the real-part tests need, npm
# packages, build, lint, type check, then every test. Safe to run again (each step is idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ]; then
  for deps in scripts/ci-deps/*.sh; do
    [ -e "$deps" ] || continue
    echo "== installing test dependencies: $deps"
    bash "$deps"
  done
else
  echo "== not root: skipping Debian package installs (scripts/ci-deps/*.sh); tests needing them will say so"
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # npm install, not npm ci: npm 11 writes a lock without the other platforms' optional
  # packages (rollup's), and npm ci then refuses it as "out of sync"; install still follows the lock.
  echo "== npm install"
  npm install --no-audit --no-fund
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
# One plain closing line, whatever the reporter printed above.
node -e 'const r = require(process.argv[1]); console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`)' "$PWD/.vitest-results.json" || true
exit "$status"
