#!/usr/bin/env bash
# Attach (or detach) the EKey exported by the USB host, or keep it attached: nqgw-usbip.service
# runs `watch`. USB/IP itself is plain and unauthenticated, and the PIN crosses it, so usbip only
# ever talks to 127.0.0.1:3240, the stunnel client of nqgw-usbip-tunnel.service, which carries it
# over mutual TLS to the USB host (docs/ekey.md). USBIP_SERVER (the USB host, for messages) and
# USBIP_BUSID come from /etc/nqgw/usbip.env; USBIP_CHECK_S (default 5) is how often `watch` looks.
#
# `tunnel-csr NAME` makes the tunnel's client key on this replica (it never leaves it) and prints
# the certificate request to sign on the USB host (scripts/usbip-host/nqgw-usbip-certs.sh sign).
set -euo pipefail

# The local end of the tunnel; never the USB host's address (that would be USB/IP in clear).
TUNNEL=127.0.0.1

usage() {
  echo "usage: $0 attach|detach|watch|tunnel-csr NAME" >&2
  exit 64
}

attached() {
  # Not `usbip port | grep -q` under pipefail: grep quitting early would fail usbip with EPIPE and
  # the token would read as not attached.
  local ports
  ports="$(usbip port 2>/dev/null || true)"
  grep -q "usbip://${TUNNEL}:3240/${USBIP_BUSID}" <<<"$ports"
}

tunnel_csr() {
  local name="$1"
  local dir="${USBIP_TUNNEL_DIR:-/etc/nqgw/usbip-tunnel}"
  [[ "$name" =~ ^[a-z][a-z0-9-]{0,62}$ ]] || {
    echo "nqgw-usbip: NAME must be the replica's name (lower-case letters, digits, '-')" >&2
    exit 64
  }
  # An existing key is kept (the USB host may have signed it already): only the request is new.
  umask 077
  install -d -m 0700 "$dir"
  if [[ ! -s "$dir/client.key" ]]; then
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/client.key.new" 2>/dev/null
    chmod 0600 "$dir/client.key.new"
    mv "$dir/client.key.new" "$dir/client.key"
    echo "nqgw-usbip: made the tunnel key $dir/client.key (0600)" >&2
  fi
  openssl req -new -key "$dir/client.key" -subj "/CN=${name}" -out "$dir/client.csr"
  echo "nqgw-usbip: sign $dir/client.csr on the USB host (nqgw-usbip-certs.sh sign DIR ${name} FILE)," >&2
  echo "nqgw-usbip: then put its client.crt and ca.crt in $dir (0600)" >&2
  cat "$dir/client.csr"
}

case "${1:-}" in
  tunnel-csr)
    [[ $# -eq 2 ]] || usage
    tunnel_csr "$2"
    exit 0
    ;;
  attach | detach | watch) [[ $# -eq 1 ]] || usage ;;
  *) usage ;;
esac

: "${USBIP_SERVER:?USBIP_SERVER is not set (see /etc/nqgw/usbip.env)}"
: "${USBIP_BUSID:?USBIP_BUSID is not set (see /etc/nqgw/usbip.env)}"
from="${USBIP_BUSID} from ${USBIP_SERVER} (through the tunnel)"

case "$1" in
  attach)
    # Already attached (service restarted): nothing to do.
    if attached; then
      echo "nqgw-usbip: ${from} already attached"
      exit 0
    fi
    usbip attach --remote="$TUNNEL" --busid="$USBIP_BUSID"
    echo "nqgw-usbip: attached ${from}"
    ;;
  detach)
    # `usbip port` prints "Port NN: <...>" and, a few lines later, the remote URL.
    port="$(usbip port 2>/dev/null | awk -v url="usbip://${TUNNEL}:3240/${USBIP_BUSID}" '
      /^Port [0-9]+:/ { p = $2; sub(":", "", p) }
      index($0, url) { print p + 0; exit }')"
    if [[ -z "$port" ]]; then
      echo "nqgw-usbip: ${from} is not attached"
      exit 0
    fi
    usbip detach --port="$port"
    echo "nqgw-usbip: detached port ${port}"
    ;;
  watch)
    # A USB/IP connection that drops (network blip, USB host or tunnel restart) takes the token
    # away from the VM; nothing in the kernel brings it back. Look every USBIP_CHECK_S seconds and
    # attach again: the gateway sees the token return in its slot and reconnects by itself (NQ125).
    interval="${USBIP_CHECK_S:-5}"
    [[ "$interval" =~ ^[1-9][0-9]*$ ]] || { echo "nqgw-usbip: USBIP_CHECK_S must be whole seconds" >&2; exit 64; }
    was_attached=unknown
    while true; do
      if attached; then
        [[ "$was_attached" == yes ]] || echo "nqgw-usbip: ${from} attached"
        was_attached=yes
      else
        [[ "$was_attached" == no ]] || echo "nqgw-usbip: ${from} is not attached; attaching"
        was_attached=no
        usbip attach --remote="$TUNNEL" --busid="$USBIP_BUSID" ||
          echo "nqgw-usbip: attach failed (is nqgw-usbip-tunnel running? journalctl -u nqgw-usbip-tunnel); next try in ${interval} s" >&2
      fi
      sleep "$interval"
    done
    ;;
esac
