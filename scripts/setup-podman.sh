#!/usr/bin/env bash
# Installs what the podman end-to-end test and benchmark need: podman (4.3 on
# Debian 12, which can still drive CNI plugins), runc (crun refuses the hybrid
# cgroup v1 hierarchy of the project's machines), busybox-static (the one binary
# the test image is made of; nothing is pulled from a registry) and the
# reference CNI plugins we compare against. Run as root. Idempotent: apt is only
# touched when something is missing.
source "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "setup-podman.sh must run as root" >&2; exit 1; }
packages=(podman runc busybox-static containernetworking-plugins iproute2 iputils-ping nftables)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "installing: ${missing[*]}"
    apt-get update -qq
    # No recommends: podman would pull in crun, slirp and a default netavark
    # setup we neither need nor want to configure.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
for b in podman runc busybox; do
    command -v "$b" >/dev/null || { echo "setup-podman.sh: $b still missing after install" >&2; exit 1; }
done
log "podman dependencies ready ($(podman --version))"
