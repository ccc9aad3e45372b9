#!/usr/bin/env bash
# Installs everything Holdfast needs to build, test, demo and benchmark on a
# fresh Debian machine (run as root). Idempotent.
source "$(dirname "$0")/lib.sh"
need_root() { [ "$(id -u)" = 0 ] || { echo "setup.sh must run as root" >&2; exit 1; }; }
need_root
packages=(
    libmnl-dev libnftables-dev libsqlite3-dev   # C libraries the targets link
    libcurl4-openssl-dev                        # headers for the etcd client (libcurl is dlopen()ed by cluster mode)
    pkg-config                                  # systemLibrary targets find them with it
    iproute2 iputils-ping nftables              # tests: netns, ping, rule inspection
    containernetworking-plugins                 # the reference plugins we compare against
    procps util-linux                           # ps, flock, unshare used by tests
)
install_missing "${packages[@]}"
# etcd for the cluster-mode tests, which start their own members. The package's
# own service must not run on the host: block service starts during the install
# (policy-rc.d) and stop/disable it in case a previous install started it.
if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
    own_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && own_policy=1
    fi
    install_missing etcd-server etcd-client
    if [ "$own_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
fi
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl disable --now etcd.service >/dev/null 2>&1 || true
fi
if ! python3 -c 'import pytest' 2>/dev/null; then
    log "installing pytest"
    python3 -m pip install --quiet pytest || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pytest >/dev/null; }
fi
command -v swift >/dev/null || { echo "Swift toolchain not found (expected /opt/swift)" >&2; exit 1; }
log "dependencies ready"
