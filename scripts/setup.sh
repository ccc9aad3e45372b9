#!/usr/bin/env bash
# Installs everything Holdfast needs to build, test, demo and benchmark on a
# fresh Debian machine (run as root). Idempotent.
source "$(dirname "$0")/lib.sh"
need_root() { [ "$(id -u)" = 0 ] || { echo "setup.sh must run as root" >&2; exit 1; }; }
need_root
packages=(
    libmnl-dev libnftables-dev libsqlite3-dev   # C libraries the targets link
    pkg-config                                  # systemLibrary targets find them with it
    iproute2 iputils-ping nftables              # tests: netns, ping, rule inspection
    containernetworking-plugins                 # the reference plugins we compare against
    procps util-linux                           # ps, flock, unshare used by tests
    strace                                      # tests: fsync before the result
)
install_missing "${packages[@]}"
if ! python3 -c 'import pytest' 2>/dev/null; then
    log "installing pytest"
    python3 -m pip install --quiet pytest || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pytest >/dev/null; }
fi
command -v swift >/dev/null || { echo "Swift toolchain not found (expected /opt/swift)" >&2; exit 1; }
log "dependencies ready"
