#!/usr/bin/env bash
# The appliance bundle the image installs in /opt/nqgw (image/scripts/30-appliance.sh):
#
#   scripts/bundle.sh OUTDIR   OUTDIR/nqgw-bundle.tar.gz (and nqgw-bundle.sha256); prints its SHA-256
#
# In a temp dir, never in this clone's node_modules: the sources git knows (tracked and new,
# not ignored) are copied, compiled with the dev dependencies from the committed lock (`npm ci
# --ignore-scripts`: tsc needs no native addon), then the production dependencies alone are
# installed beside the output (`npm ci --omit=dev`), their native addons (pkcs11js) built against
# the headers of the pinned Node (scripts/node-dist.sh; npm_config_nodedir, so nothing is
# downloaded for them). Layout: bin/nqgw.js, dist/appliance/, appliance/{templates,data}/ (found
# at run time by walking up from dist/), node_modules/, package.json, package-lock.json.
# Deterministic: the addons' build leftovers (Makefiles, objects, paths of the temp dir) are
# dropped, and the tar is sorted, mtime 0, owner 0, gzip -n: two builds give the same SHA-256.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

die() {
  echo "bundle: $*" >&2
  exit 1
}
[[ $# -eq 1 && -n "$1" && "$1" != -* ]] || die "usage: $0 OUTDIR"
outdir="$1"
git -C "$repo" rev-parse --is-inside-work-tree >/dev/null 2>&1 || die "$repo is not a git work tree"

node_bin="$(bash "$repo/scripts/node-dist.sh" --bin-dir)"
export PATH="$node_bin:$PATH"
export npm_config_nodedir="${node_bin%/bin}"
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
echo "bundle: node $(node --version) ($node_bin), npm $(npm --version)" >&2

work="$(mktemp -d "${TMPDIR:-/tmp}/nqgw-bundle.XXXXXX")"
# shellcheck disable=SC2064 # expand now: work is fixed
trap "rm -rf '$work'" EXIT
mkdir "$work/build" "$work/app"

# What the build reads; a tracked file deleted in the work tree is not copied.
git -C "$repo" ls-files -z --cached --others --exclude-standard -- \
  package.json package-lock.json tsconfig.json tsconfig.build.json bin appliance scripts/bench \
  | while IFS= read -r -d '' f; do [[ -f "$repo/$f" ]] && printf '%s\0' "$f"; done \
  | tar -C "$repo" --null -T - -cf - | tar -C "$work/build" -xf -

step() {
  local what="$1" start=$SECONDS
  shift
  "$@" >"$work/step.log" 2>&1 || {
    tail -40 "$work/step.log" >&2
    die "$what failed"
  }
  echo "bundle: $what in $((SECONDS - start)) s" >&2
}

(cd "$work/build" && step "npm ci (build, dev dependencies)" npm ci --ignore-scripts)
(cd "$work/build" && step "tsc -p tsconfig.build.json" npx --no-install tsc -p tsconfig.build.json)

app="$work/app"
cp "$work/build/package.json" "$work/build/package-lock.json" "$app/"
(cd "$app" && step "npm ci --omit=dev (production dependencies, native addons for Node $(node --version))" npm ci --omit=dev)
mkdir -p "$app/dist" "$app/appliance"
cp -r "$work/build/bin" "$app/"
cp -r "$work/build/dist/appliance" "$app/dist/"
for d in templates data; do
  [[ -d "$work/build/appliance/$d" ]] && cp -r "$work/build/appliance/$d" "$app/appliance/"
done
[[ -f "$app/dist/appliance/src/cli/main.js" ]] || die "the build made no dist/appliance/src/cli/main.js"
for dev in typescript vitest eslint; do
  [[ ! -e "$app/node_modules/$dev" ]] || die "a dev dependency ($dev) is in the production node_modules"
done

# node-gyp's leftovers (in the build/ beside its config.gypi: Makefiles, objects, a python3 link)
# hold the temp dir's paths and timestamps; the addon itself (*.node) is all that loads.
find "$app/node_modules" -type f -path '*/build/config.gypi' | while IFS= read -r gypi; do
  b="$(dirname "$gypi")"
  find "$b" -type d -name obj.target -prune -exec rm -rf {} +
  find "$b" -mindepth 1 ! -type d ! -name '*.node' -delete
  find "$b" -mindepth 1 -type d -empty -delete
done
# The addon must load under the pinned Node (proof that it was built for this ABI).
(cd "$app" && node -e 'require("pkcs11js")') || die "pkcs11js does not load under node $(node --version)"

mkdir -p "$outdir"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu \
  --mode='u+rwX,go+rX,go-w' -C "$app" -cf - \
  appliance bin dist node_modules package-lock.json package.json \
  | gzip -n -6 >"$outdir/nqgw-bundle.tar.gz.new"
mv "$outdir/nqgw-bundle.tar.gz.new" "$outdir/nqgw-bundle.tar.gz"
sha="$(sha256sum <"$outdir/nqgw-bundle.tar.gz" | cut -d' ' -f1)"
echo "$sha" >"$outdir/nqgw-bundle.sha256"
echo "bundle: $outdir/nqgw-bundle.tar.gz ($(du -h "$outdir/nqgw-bundle.tar.gz" | cut -f1)) sha256 $sha" >&2
echo "$sha"
