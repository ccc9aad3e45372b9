# Shared helpers for Holdfast's scripts. Sourced, not executed.
set -euo pipefail
HOLDFAST_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export HOLDFAST_ROOT
# The Swift toolchain lives in /opt/swift on the project's machines.
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi
HOLDFAST_BIN_DIR="${HOLDFAST_BIN_DIR:-$HOLDFAST_ROOT/.build/release}"
export HOLDFAST_BIN_DIR
log() { printf '==> %s\n' "$*" >&2; }

# install_missing PKG...: apt-get installs the packages that are not installed
# yet (running `apt-get update` first), without recommends. Needs root.
install_missing() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
