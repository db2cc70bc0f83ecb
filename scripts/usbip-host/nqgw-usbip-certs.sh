#!/usr/bin/env bash
# The USB host's side of the USB/IP tunnel (docs/ekey.md, "USB over IP through a TLS tunnel"):
# a CA of its own, its stunnel server's certificate and configuration, and the replicas' client
# certificates signed from their requests. Run as root on the USB host; needs openssl.
#
#   nqgw-usbip-certs.sh init DIR ADDRESS [TUNNEL_PORT [USBIPD_PORT]]
#       Makes DIR/ca.key, ca.crt (the CA the replicas pin), server.key, server.crt (for ADDRESS,
#       the address the replicas connect to, as an IP subjectAltName: they check it) and
#       DIR/stunnel-usbip.conf (accept ADDRESS:TUNNEL_PORT, default 3241; connect
#       127.0.0.1:USBIPD_PORT, default 3240). Refuses to overwrite an existing CA.
#   nqgw-usbip-certs.sh sign DIR NAME CSR
#       Signs a replica's request (made on the replica by `nqgw-usbip.sh tunnel-csr NAME`; its key
#       never leaves the replica) as a client certificate DIR/clients/NAME.crt. The request's CN
#       must be NAME.
#
# Keys are 0600 and DIR 0700. Exit 0 done; 64 usage; 1 refused or openssl failed.
set -euo pipefail

CA_DAYS=3650
CERT_DAYS=825
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
IPV4='^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$'

usage() {
  sed -n '6,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 64
}

fail() {
  echo "nqgw-usbip-certs: $*" >&2
  exit 1
}

port() {
  if [[ ! "$1" =~ ^[1-9][0-9]{0,4}$ ]] || (($1 > 65535)); then
    fail "$2 \"$1\": a TCP port number"
  fi
}

new_key() {
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.new" 2>/dev/null
  chmod 0600 "$1.new"
  mv "$1.new" "$1"
}

fill() {
  # {{name}} placeholders of the server template; the values were checked above (no newlines).
  local t
  t="$(cat "$HERE/stunnel-usbip-server.conf.tmpl")"
  t="${t//\{\{dir\}\}/$1}"
  t="${t//\{\{address\}\}/$2}"
  t="${t//\{\{tunnel_port\}\}/$3}"
  t="${t//\{\{usbipd_port\}\}/$4}"
  printf '%s\n' "$t"
}

init() {
  local dir="$1" address="$2" tunnel_port="${3:-3241}" usbipd_port="${4:-3240}"
  [[ "$address" =~ $IPV4 ]] || fail "ADDRESS \"$address\": the USB host's IPv4 address the replicas connect to"
  port "$tunnel_port" TUNNEL_PORT
  port "$usbipd_port" USBIPD_PORT
  [[ "$tunnel_port" != 3240 ]] || fail "TUNNEL_PORT 3240 is plain USB/IP's port: pick another (3241)"
  [[ "$dir" == /* && "$dir" != *$'\n'* ]] || fail "DIR \"$dir\": an absolute path"
  [[ ! -e "$dir/ca.key" ]] || fail "$dir/ca.key exists: not making a second CA over it"
  install -d -m 0700 "$dir" "$dir/clients"

  new_key "$dir/ca.key"
  openssl req -x509 -new -key "$dir/ca.key" -days "$CA_DAYS" -sha256 \
    -subj "/CN=nqgw USB-IP tunnel CA $(hostname -s 2>/dev/null || echo host) $(openssl rand -hex 4)" \
    -addext 'basicConstraints=critical,CA:TRUE,pathlen:0' \
    -addext 'keyUsage=critical,keyCertSign,cRLSign' \
    -addext 'subjectKeyIdentifier=hash' \
    -out "$dir/ca.crt"
  chmod 0644 "$dir/ca.crt"

  new_key "$dir/server.key"
  # serverAuth only: a replica's client certificate (clientAuth only) from the same CA cannot
  # stand in for this server, and this one cannot log in as a replica.
  sign_with_ca "$dir" "$dir/server.key" "/CN=${address}" "$dir/server.crt" \
    "subjectAltName=IP:${address}" 'extendedKeyUsage=serverAuth'

  fill "$dir" "$address" "$tunnel_port" "$usbipd_port" >"$dir/stunnel-usbip.conf.new"
  chmod 0600 "$dir/stunnel-usbip.conf.new"
  mv "$dir/stunnel-usbip.conf.new" "$dir/stunnel-usbip.conf"
  echo "nqgw-usbip-certs: CA, server certificate for ${address} and $dir/stunnel-usbip.conf made"
  echo "nqgw-usbip-certs: give $dir/ca.crt to each replica; never ca.key"
}

# sign_with_ca DIR KEY|CSR SUBJECT OUT EXT...: a certificate from DIR's CA for a key (made here)
# or a request (from a replica).
sign_with_ca() {
  local dir="$1" input="$2" subject="$3" out="$4"
  shift 4
  local ext csr
  ext="$(mktemp)"
  csr="$(mktemp)"
  # shellcheck disable=SC2064 # expand now: the paths are local
  trap "rm -f '$ext' '$csr'" RETURN
  {
    echo 'basicConstraints=critical,CA:FALSE'
    echo 'keyUsage=critical,digitalSignature'
    echo 'authorityKeyIdentifier=keyid'
    printf '%s\n' "$@"
  } >"$ext"
  if [[ "$input" == *.key ]]; then
    openssl req -new -key "$input" -subj "$subject" -out "$csr"
  else
    cp "$input" "$csr"
  fi
  openssl x509 -req -in "$csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -CAserial "$dir/ca.srl" -days "$CERT_DAYS" -sha256 -extfile "$ext" -out "$out.new" 2>/dev/null
  chmod 0644 "$out.new"
  mv "$out.new" "$out"
}

sign() {
  local dir="$1" name="$2" csr="$3"
  [[ "$name" =~ ^[a-z][a-z0-9-]{0,62}$ ]] || fail "NAME \"$name\": the replica's name (lower-case letters, digits, '-')"
  [[ -s "$dir/ca.key" ]] || fail "$dir/ca.key is missing: run init first"
  openssl req -in "$csr" -noout -verify >/dev/null 2>&1 || fail "$csr: not a valid certificate request"
  local cn
  cn="$(openssl req -in "$csr" -noout -subject -nameopt multiline | awk -F' = ' '$1 ~ /commonName/ { print $2 }')"
  [[ "$cn" == "$name" ]] || fail "$csr: its CN is \"$cn\", not \"$name\""
  install -d -m 0700 "$dir/clients"
  sign_with_ca "$dir" "$csr" "/CN=${name}" "$dir/clients/${name}.crt" 'extendedKeyUsage=clientAuth'
  echo "nqgw-usbip-certs: $dir/clients/${name}.crt signed for ${name}"
}

case "${1:-}" in
  init) (($# >= 3 && $# <= 5)) || usage; umask 077; init "${@:2}" ;;
  sign) (($# == 4)) || usage; umask 077; sign "${@:2}" ;;
  *) usage ;;
esac
