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
#
# The unwinder too: the Swift driver asks for -lgcc_s, and libgcc_s.so.1 was
# one of five libraries the loader mapped, relocated and searched at every
# start, plus a constructor (__cpu_indicator_init). GCC's static unwinder,
# libgcc_eh.a, under the name the driver asks for, resolves the same _Unwind_*
# symbols from inside the executable (VERSION: 0.13 ms less CPU per run,
# docs/benchmarks.md). libm cannot follow: its archive needs glibc internals.
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
libgcc_eh="$(find /usr/lib/gcc/x86_64-linux-gnu /usr/lib/gcc/aarch64-linux-gnu -name libgcc_eh.a 2>/dev/null | sort -V | tail -1 || true)"
if [ -n "$libgcc_eh" ] && [ -f "$libgcc_eh" ]; then
    ln -sfn "$libgcc_eh" "$static_libs/libgcc_s.a"
else
    log "libgcc_eh.a is missing: linking the unwinder (libgcc_s.so.1) dynamically"
fi
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
# --disable-local-rpath: no RUNPATH $ORIGIN. Nothing is loaded from beside the
# binary (the Swift runtime is linked in), yet the loader looked there first
# for every library, about 25 failed openat/stat calls at every start.
swift build -c release --static-swift-stdlib --disable-local-rpath "${swift_flags[@]}" "${link_flags[@]}" 2>&1 \
    | { grep -v "statically linked applications requires at runtime the shared libraries\|the use of \`mktemp' is dangerous" || true; }
