#!/usr/bin/env bash
# Attach (or detach) the EKey exported by a usbip server: nqgw-usbip.service.
# USBIP_HOST and USBIP_BUSID come from /etc/nqgw/usbip.env.
set -euo pipefail

usage() {
  echo "usage: $0 attach|detach" >&2
  exit 64
}

[[ $# -eq 1 ]] || usage
: "${USBIP_HOST:?USBIP_HOST is not set (see /etc/nqgw/usbip.env)}"
: "${USBIP_BUSID:?USBIP_BUSID is not set (see /etc/nqgw/usbip.env)}"

case "$1" in
  attach)
    # Already attached (service restarted): nothing to do.
    if usbip port 2>/dev/null | grep -q "usbip://${USBIP_HOST}:3240/${USBIP_BUSID}"; then
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
  *) usage ;;
esac
