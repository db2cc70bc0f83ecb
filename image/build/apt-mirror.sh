#!/usr/bin/env bash
# Points every Debian apt source under ROOT at the build's mirrors (build-time only; 10-base.sh
# runs it before `apt-get update`, so an offline build VM never asks deb.debian.org).
#
#   apt-mirror.sh ROOT DEBIAN_URL SECURITY_URL
#
# Rewrites, where they exist:
#   ROOT/etc/apt/sources.list.d/*.sources   deb822 (Debian 12 cloud images: debian.sources with
#                                           URIs: mirror+file:///etc/apt/mirrors/debian.list
#                                           and .../debian-security.list)
#   ROOT/etc/apt/sources.list, *.list       one-line "deb [opts] URI suite components"
#   ROOT/etc/apt/mirrors/debian.list        the mirror+file lists themselves (cloud-init writes
#   ROOT/etc/apt/mirrors/debian-security.list  sources that point at them)
# A URI is Debian's when it is one of those mirror+file: lists (file:/// or file:/) or http(s)://*debian.org/debian
# or /debian-security; it becomes SECURITY_URL when its suite is *-security, DEBIAN_URL
# otherwise. Other repositories are left alone. Prints every file it changed.
set -euo pipefail

if [[ $# -ne 3 ]]; then
  echo "usage: apt-mirror.sh ROOT DEBIAN_URL SECURITY_URL" >&2
  exit 64
fi
root="${1%/}"
debian_url="${2%/}"
security_url="${3%/}"
for url in "$debian_url" "$security_url"; do
  if [[ ! "$url" =~ ^https?://[^[:space:]/]+(/[^[:space:]]*)?$ ]]; then
    echo "apt-mirror: \"${url}\" is not an http(s) URL" >&2
    exit 64
  fi
done

# Shared by both formats: is this URI one of Debian's own?
awk_lib='
function debian_uri(u) {
  return u ~ /^mirror\+file:(\/\/)?\/etc\/apt\/mirrors\/debian(-security)?\.list$/ ||
         u ~ /^https?:\/\/([A-Za-z0-9-]+\.)*debian\.org\/debian(-security)?\/?$/
}
function pick(u, security) {
  if (!debian_uri(u)) return u
  return security ? SEC : DEB
}'

# deb822: one paragraph (stanza) at a time, because Suites: may follow URIs:.
rewrite_deb822() {
  awk -v DEB="$debian_url" -v SEC="$security_url" "$awk_lib"'
    function flush(   i, j, n, parts, out, security) {
      security = (suites ~ /(^|[ \t])[^ \t]*-security([ \t]|$)/)
      for (i = 1; i <= count; i++) {
        if (is_uri[i]) {
          n = split(body[i], parts, /[ \t]+/)
          out = head[i]
          for (j = 1; j <= n; j++) if (parts[j] != "") out = out " " pick(parts[j], security)
          print out
        } else {
          print lines[i]
        }
      }
      count = 0; suites = ""; field = ""
    }
    /^[ \t]*$/ { flush(); print; next }
    {
      count++
      lines[count] = $0; is_uri[count] = 0; head[count] = ""; body[count] = ""
      if ($0 ~ /^[A-Za-z-]+:/) field = tolower(substr($0, 1, index($0, ":") - 1))
      else if ($0 !~ /^[ \t]/) field = ""
      if (field == "suites") suites = suites " " ($0 ~ /^[A-Za-z-]+:/ ? substr($0, index($0, ":") + 1) : $0)
      if (field == "uris") {
        is_uri[count] = 1
        if ($0 ~ /^[A-Za-z-]+:/) { head[count] = substr($0, 1, index($0, ":")); body[count] = substr($0, index($0, ":") + 1) }
        else { match($0, /^[ \t]+/); head[count] = substr($0, 1, RLENGTH - 1); body[count] = substr($0, RLENGTH + 1) }
      }
    }
    END { flush() }
  ' "$1"
}

# One-line format: deb [options] URI suite components...
rewrite_oneline() {
  awk -v DEB="$debian_url" -v SEC="$security_url" "$awk_lib"'
    $1 == "deb" || $1 == "deb-src" {
      i = 2
      if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
      if (i + 1 <= NF && debian_uri($i)) {
        $i = pick($i, $(i + 1) ~ /-security$/)
      }
    }
    { print }
  ' "$1"
}

# Replace FILE by the output of FUNCTION FILE when it differs (same mode and owner).
apply() {
  local fn="$1" file="$2" new
  new="$(mktemp "${file}.nqgw-XXXXXX")"
  "$fn" "$file" >"$new"
  if cmp -s "$file" "$new"; then
    rm -f "$new"
    return
  fi
  chmod --reference="$file" "$new"
  chown --reference="$file" "$new"
  mv -f "$new" "$file"
  echo "apt-mirror: rewrote ${file#"$root"}"
}

shopt -s nullglob
for f in "$root"/etc/apt/sources.list.d/*.sources; do apply rewrite_deb822 "$f"; done
for f in "$root"/etc/apt/sources.list "$root"/etc/apt/sources.list.d/*.list; do
  [[ -f "$f" ]] && apply rewrite_oneline "$f"
done
if [[ -f "$root/etc/apt/mirrors/debian.list" ]]; then
  printf '%s\n' "$debian_url" >"$root/etc/apt/mirrors/debian.list"
  echo "apt-mirror: wrote /etc/apt/mirrors/debian.list"
fi
if [[ -f "$root/etc/apt/mirrors/debian-security.list" ]]; then
  printf '%s\n' "$security_url" >"$root/etc/apt/mirrors/debian-security.list"
  echo "apt-mirror: wrote /etc/apt/mirrors/debian-security.list"
fi

# Check: no Debian source may still point anywhere but the two mirrors.
leftover="$(cat "$root"/etc/apt/sources.list.d/*.sources "$root"/etc/apt/sources.list.d/*.list \
  "$root"/etc/apt/sources.list 2>/dev/null | sed '/^[[:space:]]*#/d' |
  grep -Eo '(mirror\+file:(//)?/etc/apt/mirrors/debian[a-z-]*\.list|https?://([A-Za-z0-9-]+\.)*debian\.org/debian[a-z-]*/?)' |
  sed 's|/$||' | grep -Fvx -e "$debian_url" -e "$security_url" || true)"
if [[ -n "$leftover" ]]; then
  echo "apt-mirror: Debian sources still not on the mirror: ${leftover//$'\n'/ }" >&2
  exit 1
fi
