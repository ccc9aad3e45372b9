#!/usr/bin/env bash
# Installs what the podman end-to-end test and benchmark need: podman (4.3 on
# Debian 12, which can still drive CNI plugins), runc (crun refuses the hybrid
# cgroup v1 hierarchy of the project's machines), busybox-static (the one binary
# the test image is made of; nothing is pulled from a registry) and the
# reference CNI plugins we compare against. Run as root. Idempotent: apt is only
# touched when something is missing.
#
# `--netavark` also tries to install netavark (podman's own network backend) for
# the overhead benchmark; that one is optional and its failure is only reported.
source "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "setup-podman.sh must run as root" >&2; exit 1; }
packages=(podman runc busybox-static containernetworking-plugins iproute2 iputils-ping nftables)
# No recommends: podman would pull in crun, slirp and a default netavark
# setup we neither need nor want to configure.
install_missing "${packages[@]}"
for b in podman runc busybox; do
    command -v "$b" >/dev/null || { echo "setup-podman.sh: $b still missing after install" >&2; exit 1; }
done
if [ "${1:-}" = --netavark ] && ! dpkg-query -W -f='${Status}' netavark 2>/dev/null | grep -q "install ok installed"; then
    log "installing netavark (optional)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends netavark >/dev/null; } \
        || log "netavark could not be installed; the benchmark will skip it"
fi
log "podman dependencies ready ($(podman --version))"
