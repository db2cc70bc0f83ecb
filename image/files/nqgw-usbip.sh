#!/usr/bin/env bash
# Attach (or detach) the EKey exported by a usbip server, or keep it attached: nqgw-usbip.service
# runs `watch`. USBIP_HOST and USBIP_BUSID come from /etc/nqgw/usbip.env; USBIP_CHECK_S (default 5)
# is how often `watch` looks.
set -euo pipefail

usage() {
  echo "usage: $0 attach|detach|watch" >&2
  exit 64
}

attached() {
  # Not `usbip port | grep -q` under pipefail: grep quitting early would fail usbip with EPIPE and
  # the token would read as not attached.
  local ports
  ports="$(usbip port 2>/dev/null || true)"
  grep -q "usbip://${USBIP_HOST}:3240/${USBIP_BUSID}" <<<"$ports"
}

[[ $# -eq 1 ]] || usage
: "${USBIP_HOST:?USBIP_HOST is not set (see /etc/nqgw/usbip.env)}"
: "${USBIP_BUSID:?USBIP_BUSID is not set (see /etc/nqgw/usbip.env)}"

case "$1" in
  attach)
    # Already attached (service restarted): nothing to do.
    if attached; then
      echo "nqgw-usbip: ${USBIP_BUSID} from ${USBIP_HOST} already attached"
      exit 0
    fi
    usbip attach --remote="$USBIP_HOST" --busid="$USBIP_BUSID"
    echo "nqgw-usbip: attached ${USBIP_BUSID} from ${USBIP_HOST}"
    ;;
  detach)
    # `usbip port` prints "Port NN: <...>" and, a few lines later, the remote URL.
    port="$(usbip port 2>/dev/null | awk -v url="usbip://${USBIP_HOST}:3240/${USBIP_BUSID}" '
      /^Port [0-9]+:/ { p = $2; sub(":", "", p) }
      index($0, url) { print p + 0; exit }')"
    if [[ -z "$port" ]]; then
      echo "nqgw-usbip: ${USBIP_BUSID} from ${USBIP_HOST} is not attached"
      exit 0
    fi
    usbip detach --port="$port"
    echo "nqgw-usbip: detached port ${port}"
    ;;
  watch)
    # A USB/IP connection that drops (network blip, USB server restart) takes the token away from
    # the VM; nothing in the kernel brings it back. Look every USBIP_CHECK_S seconds and attach
    # again: the gateway sees the token return in its slot and reconnects by itself (NQ125).
    interval="${USBIP_CHECK_S:-5}"
    [[ "$interval" =~ ^[1-9][0-9]*$ ]] || { echo "nqgw-usbip: USBIP_CHECK_S must be whole seconds" >&2; exit 64; }
    was_attached=unknown
    while true; do
      if attached; then
        [[ "$was_attached" == yes ]] || echo "nqgw-usbip: ${USBIP_BUSID} from ${USBIP_HOST} attached"
        was_attached=yes
      else
        [[ "$was_attached" == no ]] || echo "nqgw-usbip: ${USBIP_BUSID} from ${USBIP_HOST} is not attached; attaching"
        was_attached=no
        usbip attach --remote="$USBIP_HOST" --busid="$USBIP_BUSID" ||
          echo "nqgw-usbip: attach failed; next try in ${interval} s" >&2
      fi
      sleep "$interval"
    done
    ;;
  *) usage ;;
esac
