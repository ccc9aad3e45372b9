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
