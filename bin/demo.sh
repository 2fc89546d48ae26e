#!/usr/bin/env bash
# Builds the example model (fixtures/models/hello) into an image and pushes it to a local registry,
# without a Docker daemon. What it sets up, all on 127.0.0.1 and reused by later runs:
#   - a registry (Debian's docker-registry) on port ${COGTS_DEMO_REGISTRY_PORT:-5000};
#   - a base image made with debootstrap (bookworm minbase + python3) and umoci, pushed with skopeo
#     (stands in for nvidia/cuda or debian:bookworm-slim from Docker Hub, which this machine can't reach);
#   - a Python package index serving this machine's local wheel store (stands in for PyPI).
# The Debian mirror is the one this machine's apt uses. Run from the repository root after `npm run build`.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${COGTS_DEMO_REGISTRY_PORT:-5000}
state=${COGTS_DEMO_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cogts-demo}
registry=127.0.0.1:$port
mkdir -p "$state"

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! listening "$port"; then
  mkdir -p "$state/registry"
  cat >"$state/registry.yml" <<YML
version: 0.1
storage: { filesystem: { rootdirectory: $state/registry }, delete: { enabled: true } }
http: { addr: 127.0.0.1:$port }
log: { level: error }
YML
  nohup docker-registry serve "$state/registry.yml" >"$state/registry.log" 2>&1 &
  echo "$!" >"$state/registry.pid"
  for _ in $(seq 50); do listening "$port" && break; sleep 0.1; done
  echo "registry: started on $registry (stop: kill \$(cat $state/registry.pid))"
fi

mirror=$({ grep -hE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true; } |
  grep -v security | head -1 | sed -E 's/^URIs:[[:space:]]*//; s/^deb (\[[^]]*\] )?//; s/[[:space:]].*//')
[ -n "$mirror" ] || { echo "no Debian mirror in /etc/apt/sources.list(.d)" >&2; exit 1; }
if [ ! -f "$state/base/complete" ]; then
  echo "base: debootstrap bookworm (minbase + python3) from $mirror"
  rm -rf "$state/base" && mkdir -p "$state/base"
  debootstrap --variant=minbase --include=python3 bookworm "$state/base/rootfs" "$mirror" >"$state/debootstrap.log"
  umoci init --layout "$state/base/layout"
  umoci new --image "$state/base/layout:base"
  umoci insert --image "$state/base/layout:base" "$state/base/rootfs" /
  umoci config --image "$state/base/layout:base" --os linux --architecture amd64 \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  touch "$state/base/complete"
fi
skopeo copy --quiet --dest-tls-verify=false "oci:$state/base/layout:base" "docker://$registry/demo/base:bookworm"

index_args=()
store=$({ python3 -m pip config list 2>/dev/null || true; } | sed -nE "s/^global\.extra-index-url='file:\/\/([^ ']*)\/simple.*/\1/p" | head -1)
if [ -n "$store" ] && [ -d "$store/simple" ]; then
  index_port=${COGTS_DEMO_INDEX_PORT:-5001}
  if ! listening "$index_port"; then
    nohup python3 -m http.server --bind 127.0.0.1 --directory "$store" "$index_port" >"$state/index.log" 2>&1 &
    for _ in $(seq 50); do listening "$index_port" && break; sleep 0.1; done
  fi
  index_args=(--index-url "http://127.0.0.1:$index_port/simple/")
  echo "index: serving $store on 127.0.0.1:$index_port"
fi

ref=$(node bin/cogts.js build -f fixtures/models/hello/cog.yaml --base-image "$registry/demo/base:bookworm" \
  --push "$registry/demo/hello:latest" "${index_args[@]}")
echo
echo "pushed $ref"
echo "inspect:  node bin/cogts.js inspect $registry/demo/hello:latest"
echo "run (on a machine with Docker):  docker run -p 5000:5000 $registry/demo/hello:latest"
