# shellcheck shell=bash
# Sourced by scripts/test.sh and scripts/demo.sh (not run): the pinned Node and node_modules.
#
# Node: the version pinned in image/build/node.env (the image's), from scripts/node-dist.sh's
# cache outside the clone, first on PATH for everything after (npm and npx too: they run on the
# first node on PATH). Native addons (pkcs11js) build against its headers, nothing downloaded.
# node_modules follows the committed lock (npm ci: it refuses a lock out of sync with
# package.json, and never rewrites it); once per lock change. The addons are rebuilt when
# node_modules was built for another Node ABI (recorded beside it).
use_pinned_node() {
  local node_bin abi abi_file
  node_bin="$(bash scripts/node-dist.sh --bin-dir)"
  export PATH="$node_bin:$PATH"
  export npm_config_nodedir="${node_bin%/bin}"
  echo "== node $(node --version) ($node_bin), npm $(npm --version)"
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
}
