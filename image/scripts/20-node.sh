#!/usr/bin/env bash
# Node.js from the tarball packer uploaded (not from the network).
set -euo pipefail

: "${NQGW_STAGE:=/tmp/nqgw-image}"
: "${NQGW_NODE_SHA256:=}"
tarball="${NQGW_STAGE}/node.tar.xz"

if [[ ! -s "$tarball" ]]; then
  echo "20-node: ${tarball} is missing or empty" >&2
  exit 1
fi
if [[ -n "$NQGW_NODE_SHA256" ]]; then
  echo "${NQGW_NODE_SHA256}  ${tarball}" | sha256sum --check --quiet -
fi

rm -rf /opt/node
install -d -m 0755 /opt/node
tar -xJf "$tarball" -C /opt/node --strip-components=1 --no-same-owner
chown -R root:root /opt/node
ln -sfn /opt/node/bin/node /usr/local/bin/node

major="$(/opt/node/bin/node -p 'process.versions.node.split(".")[0]')"
if [[ "$major" != 20 ]]; then
  echo "20-node: expected Node 20, the tarball holds Node ${major}" >&2
  exit 1
fi
echo "20-node: node $(/opt/node/bin/node --version) in /opt/node"
