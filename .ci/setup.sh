#!/usr/bin/env bash
# System tools the tests use as real peers: a registry (distribution 2.8), skopeo/umoci to make and
# check images with tools that are not cogts, debootstrap for base images, runc/unshare to run a
# built image, htpasswd for the basic-auth registry, xz/zstd/ar to make .deb fixtures.
set -euo pipefail
pkgs=(docker-registry skopeo umoci debootstrap runc pigz apache2-utils xz-utils zstd binutils
  util-linux ca-certificates openssl jq gcc python3-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The Debian package starts a registry service on :5000 in some setups; tests start their own.
systemctl stop docker-registry 2>/dev/null || true
