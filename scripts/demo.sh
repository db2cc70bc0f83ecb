#!/usr/bin/env bash
# The demo, from a fresh machine: build, write a loopback lab, start the main-station simulator
# and the gateway, feed orders as the broker's program would, and show the status screen live.
# DEMO_SECONDS (default 45) bounds it; DEMO_ORDERS and DEMO_RATE shape the feed. DEMO_EKEY=softhsm
# puts the station's key on a SoftHSM2 token (tls mode ekey, as with a real EKey). Ctrl-C stops.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${DEMO_SECONDS:-45}
orders=${DEMO_ORDERS:-2000}
rate=${DEMO_RATE:-100}
lab=${DEMO_LAB:-.lab/demo}

ekey=${DEMO_EKEY:-}
if [ "$(id -u)" = 0 ]; then
  bash scripts/ci-deps/base.sh
  if [ -n "$ekey" ]; then bash scripts/ci-deps/ekey.sh; fi
fi
# The same pinned Node 24 and node_modules as the test suite (scripts/lib/node-env.sh).
# shellcheck source=scripts/lib/node-env.sh
source scripts/lib/node-env.sh
use_pinned_node
npx tsc -p tsconfig.build.json

rm -rf "$lab"
# Log shipping goes to an embedded s3rver unless DEMO_S3_ENDPOINT names another store.
s3_endpoint=${DEMO_S3_ENDPOINT:-}
s3=
if [ -z "$s3_endpoint" ]; then
  rm -rf "$lab-s3" "$lab-s3.port" && mkdir -p "$lab-s3"
  node -e "const S = require('s3rver'); new S({ address: '127.0.0.1', port: 0, silent: true, directory: process.argv[1],
    configureBuckets: [{ name: 'nqgw-logs' }] }).run().then((a) => require('fs').writeFileSync(process.argv[1] + '.port', String(a.port)))" "$lab-s3" &
  s3=$!
  for _ in $(seq 50); do [ -s "$lab-s3.port" ] && break; sleep 0.1; done
  s3_endpoint="http://127.0.0.1:$(cat "$lab-s3.port")"
fi
ekey_args=()
if [ -n "$ekey" ]; then ekey_args=(--ekey "$ekey"); fi
node bin/nqgw.js lab init "$lab" --s3-endpoint "$s3_endpoint" --s3-bucket nqgw-logs "${ekey_args[@]}"
admin_url=$(node -e "console.log(require(require('path').resolve(process.argv[1], 'lab.json')).sim.adminUrl)" "$lab")
station=$(node -e "console.log(require(require('path').resolve(process.argv[1], 'lab.json')).station)" "$lab")
node bin/nqgw.js sim --config "$lab/sim.ini" >"$lab/sim.log" 2>&1 &
sim=$!
sleep 1
node bin/nqgw.js run --config "$lab/tw.ini" >"$lab/gateway.out" 2>&1 &
gw=$!
cleanup() {
  kill -TERM "$gw" "$sim" 2>/dev/null || true
  wait "$gw" "$sim" 2>/dev/null || true
  if [ -n "$s3" ]; then kill -TERM "$s3" 2>/dev/null || true; fi
}
trap cleanup EXIT INT TERM
node bin/nqgw.js feed --config "$lab/tw.ini" --count "$orders" --rate "$rate" >"$lab/feed.log" 2>&1 &

end=$((SECONDS + seconds))
while [ $SECONDS -lt $end ]; do
  clear 2>/dev/null || true
  node bin/nqgw.js status --config "$lab/tw.ini" || true
  echo
  echo "(demo: $((end - SECONDS)) s left; lab in $lab; simulator admin: $admin_url)"
  sleep 2
done
echo "== the simulator's view of the station:"
node -e "fetch(process.argv[1]).then((r) => r.text()).then((t) => console.log(t))" "$admin_url/stations/$station" || true
echo "== log shipping ($s3_endpoint, bucket nqgw-logs):"
node bin/nqgw.js logs ship-status --config "$lab/tw.ini" || true
echo
