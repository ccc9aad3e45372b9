#!/usr/bin/env bash
# Release build of the four binaries, statically linked against the Swift
# runtime so they run on hosts without a Swift toolchain.
source "$(dirname "$0")/lib.sh"
cd "$HOLDFAST_ROOT"
log "building release binaries (--static-swift-stdlib)"
swift build -c release --static-swift-stdlib
