#!/usr/bin/env bash
# Node.js from the tarball packer uploaded (not from the network).
set -euo pipefail

# Set by packer (environment_vars, passed by execute_command's {{ .Vars }}); a missing one stops
# the build here, before anything is changed.
: "${NQGW_STAGE:?is not set: packer passes it through environment_vars (docs/image.md)}"
: "${NQGW_NODE_SHA256:?is not set: packer passes var.node_sha256, the SHA-256 of the tarball (docs/image.md)}"
if [[ ! "$NQGW_NODE_SHA256" =~ ^[0-9a-f]{64}$ ]]; then
  echo "20-node: NQGW_NODE_SHA256 \"${NQGW_NODE_SHA256}\" is not a SHA-256 (64 lower-case hex digits)" >&2
  exit 1
fi
tarball="${NQGW_STAGE}/node.tar.xz"

if [[ ! -s "$tarball" ]]; then
  echo "20-node: ${tarball} is missing or empty" >&2
  exit 1
fi
if ! echo "${NQGW_NODE_SHA256}  ${tarball}" | sha256sum --check --quiet - >/dev/null 2>&1; then
  echo "20-node: ${tarball} does not match NQGW_NODE_SHA256 ${NQGW_NODE_SHA256} (sha256 $(sha256sum <"$tarball" | cut -d' ' -f1))" >&2
  exit 1
fi
echo "20-node: ${tarball} matches SHA-256 ${NQGW_NODE_SHA256}"

# The version pinned for the image and the tests (image/build/node.env, uploaded with the stage;
# scripts/node-dist.sh makes the tarball from it): the one place that names it.
pin="${NQGW_STAGE}/build/node.env"
expected="$(sed -n 's/^NODE_VERSION=//p' "$pin" 2>/dev/null || true)"
if [[ ! "$expected" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "20-node: ${pin} names no NODE_VERSION (it comes with image/build/)" >&2
  exit 1
fi

rm -rf /opt/node
install -d -m 0755 /opt/node
tar -xJf "$tarball" -C /opt/node --strip-components=1 --no-same-owner
chown -R root:root /opt/node
ln -sfn /opt/node/bin/node /usr/local/bin/node

got="$(/opt/node/bin/node -p 'process.versions.node')"
if [[ "$got" != "$expected" ]]; then
  echo "20-node: expected Node ${expected} (${pin}), the tarball holds Node ${got}" >&2
  exit 1
fi
echo "20-node: node $(/opt/node/bin/node --version) in /opt/node"
