#!/usr/bin/env bash
# What the EKey tests need (docs/ekey.md): SoftHSM2 as the token, opensc's pkcs11-tool to load
# keys and certificates onto it, and OpenSSL's pkcs11 engine (libp11) that Node's tls loads to
# sign the handshake on the token. Installs only what is missing; starts nothing.
set -euo pipefail

missing=()
command -v softhsm2-util >/dev/null 2>&1 || missing+=(softhsm2)
command -v pkcs11-tool >/dev/null 2>&1 || missing+=(opensc)
if ! ls /usr/lib/*-linux-gnu/engines-3/pkcs11.so >/dev/null 2>&1; then
  missing+=(libengine-pkcs11-openssl)
fi
# The usb package's prebuilt binary (USB attach/detach hints for the EKey watcher) links libudev.
ls /usr/lib/*-linux-gnu/libudev.so.1 >/dev/null 2>&1 || missing+=(libudev1)
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
