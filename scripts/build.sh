#!/usr/bin/env bash
# Release build of the four binaries, statically linked against the Swift
# runtime so they run on hosts without a Swift toolchain.
#
# libstdc++ (which the Swift runtime needs) is linked statically too: the
# dynamic loader's symbol lookups for libstdc++.so were about a third of a
# plugin's start-up (docs/benchmarks.md). A directory holding only
# libstdc++.a, searched first, makes the linker pick the archive.
# holdfast-ipam is a fully static executable (Package.swift).
source "$(dirname "$0")/lib.sh"
cd "$HOLDFAST_ROOT"
static_libs="$HOLDFAST_ROOT/.build/static-libs"
mkdir -p "$static_libs"
libstdcxx="$(find /usr/lib/gcc/x86_64-linux-gnu /usr/lib/gcc/aarch64-linux-gnu -name libstdc++.a 2>/dev/null | sort -V | tail -1 || true)"
link_flags=()
if [ -n "$libstdcxx" ]; then
    ln -sfn "$libstdcxx" "$static_libs/libstdc++.a"
    link_flags=(-Xlinker "-L$static_libs")
else
    log "no libstdc++.a found: linking libstdc++ dynamically"
fi
log "building release binaries (--static-swift-stdlib)"
# (pipefail: the build's status is the pipeline's; the filter drops glibc's
# link-time notes about NSS and mktemp in Foundation's static archive.)
swift build -c release --static-swift-stdlib "${link_flags[@]}" 2>&1 \
    | { grep -v "statically linked applications requires at runtime the shared libraries\|the use of \`mktemp' is dangerous" || true; }
