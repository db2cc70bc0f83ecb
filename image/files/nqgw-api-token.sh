#!/usr/bin/env bash
# The management API token of this replica, made at first boot (nqgw-firstboot.sh): nothing
# secret travels in Terraform state or user-data, and nqgw.service (ProtectSystem=strict) cannot
# create a file under /etc itself.
#
#   nqgw-api-token.sh --config TW_INI [--owner USER]
#
# Reads [management] token_file from TW_INI (relative paths are relative to TW_INI's directory;
# absent = /etc/nqgw/api.token, the templates' default). When the file does not exist it writes
# a random token (48 hex digits) there; either way the file ends up owned by USER (default nqgw)
# with mode 0600, which is what `nqgw run` accepts (NQ961 otherwise). An existing token is kept.
set -euo pipefail

config=""
owner=nqgw
while [[ $# -gt 0 ]]; do
  case "$1" in
    --config) config="${2:?--config needs a file}"; shift 2 ;;
    --owner) owner="${2:?--owner needs a user}"; shift 2 ;;
    *) echo "usage: nqgw-api-token.sh --config TW_INI [--owner USER]" >&2; exit 64 ;;
  esac
done
if [[ -z "$config" || ! -r "$config" ]]; then
  echo "nqgw-api-token: cannot read the tw.ini \"${config}\"" >&2
  exit 1
fi
if ! getent passwd "$owner" >/dev/null; then
  echo "nqgw-api-token: no user ${owner}" >&2
  exit 1
fi

# token_file = PATH in [management]; a ; or # starts a comment.
token_file="$(awk '
  /^[ \t]*\[/ { section = $0; gsub(/[ \t\[\]]/, "", section); next }
  section == "management" && /^[ \t]*token_file[ \t]*=/ {
    v = substr($0, index($0, "=") + 1)
    sub(/[ \t]+[;#].*$/, "", v); gsub(/^[ \t]+|[ \t]+$/, "", v)
    print v; exit
  }' "$config")"
token_file="${token_file:-/etc/nqgw/api.token}"
if [[ "$token_file" != /* ]]; then
  token_file="$(dirname "$config")/${token_file}"
fi

# chmod before chown throughout: nqgw-firstboot.service has CAP_CHOWN but not CAP_FOWNER, so
# root may change the mode only while it still owns the file.
if [[ -e "$token_file" ]]; then
  echo "nqgw-api-token: ${token_file} exists, kept"
  if [[ "$(stat -c '%U %a' "$token_file")" != "${owner} 600" ]]; then
    if ! chmod 0600 "$token_file" || ! chown "${owner}:" "$token_file"; then
      echo "nqgw-api-token: cannot make ${token_file} ${owner} 0600; as root: chmod 600 ${token_file} && chown ${owner}: ${token_file}" >&2
      exit 1
    fi
  fi
else
  tmp="$(mktemp "${token_file}.XXXXXX")"
  # 24 random bytes as hex, as `nqgw` makes them itself (ops/token.ts).
  od -An -N24 -tx1 /dev/urandom | tr -d ' \n' >"$tmp"
  printf '\n' >>"$tmp"
  chmod 0600 "$tmp"
  chown "${owner}:" "$tmp"
  mv -n "$tmp" "$token_file"
  rm -f "$tmp"
  echo "nqgw-api-token: created ${token_file}"
fi
echo "nqgw-api-token: ${token_file} is $(stat -c '%U %a' "$token_file")"
