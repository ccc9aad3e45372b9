#!/usr/bin/env bash
# Release build of the four binaries, statically linked against the Swift
# runtime so they run on hosts without a Swift toolchain.
#
# libstdc++ (which the Swift runtime needs) and libsqlite3 are linked
# statically too: the dynamic loader's symbol lookups in libstdc++.so and
# libsqlite3.so were about a third of a plugin's start-up (docs/benchmarks.md).
# A directory holding only their archives, searched before the system's, makes
# the linker pick them. libmnl has no archive in Debian, so holdfast links it
# dynamically; glibc stays dynamic because cluster mode dlopen()s libcurl.
source "$(dirname "$0")/lib.sh"
cd "$HOLDFAST_ROOT"
static_libs="$HOLDFAST_ROOT/.build/static-libs"
mkdir -p "$static_libs"
libstdcxx="$(find /usr/lib/gcc/x86_64-linux-gnu /usr/lib/gcc/aarch64-linux-gnu -name libstdc++.a 2>/dev/null | sort -V | tail -1 || true)"
libsqlite="$(dpkg -L libsqlite3-dev 2>/dev/null | grep '/libsqlite3\.a$' | head -1 || true)"
for archive in "$libstdcxx" "$libsqlite"; do
    if [ -n "$archive" ] && [ -f "$archive" ]; then
        ln -sfn "$archive" "$static_libs/$(basename "$archive")"
    else
        log "a static library is missing (${archive:-libstdc++.a or libsqlite3.a}): linking it dynamically"
    fi
done
link_flags=(-Xlinker "-L$static_libs")
# Concrete generic types are instantiated through metadata accessor functions
# instead of mangled type names: a mangled name is demangled at run time and
# its protocol requirements are looked up by scanning all ~4,000 conformance
# records, which a short-lived plugin paid for every type it touched
# (docs/benchmarks.md). Slightly larger code, 0.5–0.7 M fewer instructions per run.
swift_flags=(-Xswiftc -Xfrontend -Xswiftc -disable-concrete-type-metadata-mangled-name-accessors)
log "building release binaries (--static-swift-stdlib)"
# (pipefail: the build's status is the pipeline's; the filter drops glibc's
# link-time notes about NSS and mktemp in Foundation's static archive.)
swift build -c release --static-swift-stdlib "${swift_flags[@]}" "${link_flags[@]}" 2>&1 \
    | { grep -v "statically linked applications requires at runtime the shared libraries\|the use of \`mktemp' is dangerous" || true; }
