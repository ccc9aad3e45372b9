#!/usr/bin/env bash
# Builds dist/holdfast_<version>_amd64.deb offline from the release build, with
# dpkg-deb. The version is the literal in Sources/HoldfastVersion/HoldfastVersion.swift
# (the binaries print the same one); packaging/debian/changelog must agree.
#
#   scripts/package.sh [--no-build] [--out-dir DIR]
#
# --no-build uses the binaries in $HOLDFAST_BIN_DIR as they are (they are still
# checked to print this version). Prints the .deb's path on stdout.
source "$(dirname "$0")/lib.sh"
cd "$HOLDFAST_ROOT"
build=1
out_dir="$HOLDFAST_ROOT/dist"
while [ $# -gt 0 ]; do
    case "$1" in
        --no-build) build=0; shift ;;
        --out-dir) out_dir="$2"; shift 2 ;;
        -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
        *) echo "unknown option: $1" >&2; exit 2 ;;
    esac
done

die() { echo "package.sh: $*" >&2; exit 1; }
# dpkg-shlibdeps comes with dpkg-dev, strip with binutils.
if [ "$(id -u)" = 0 ]; then install_missing dpkg-dev binutils gzip; fi
for t in dpkg-deb dpkg-shlibdeps strip gzip; do command -v "$t" >/dev/null || die "$t is missing (apt-get install dpkg-dev binutils)"; done

version="$(sed -n 's/^ *public static let string = "\([^"]*\)".*/\1/p' Sources/HoldfastVersion/HoldfastVersion.swift)"
[[ "$version" =~ ^[0-9][0-9.]*(~[a-z0-9]+)?$ ]] || die "cannot read the version from Sources/HoldfastVersion/HoldfastVersion.swift (got '$version')"
changelog_version="$(sed -n '1s/^holdfast (\([^)]*\)).*/\1/p' packaging/debian/changelog)"
[ "$changelog_version" = "$version" ] || die "packaging/debian/changelog is at '$changelog_version', the code at '$version': add a changelog entry"
# The changelog's date stamps the manual pages, so rebuilding gives the same text.
changelog_date="$(sed -n 's/^ -- .*>  //p' packaging/debian/changelog | head -n 1)"
man_date="$(date -u -d "$changelog_date" +%Y-%m-%d)"
SOURCE_DATE_EPOCH="$(date -u -d "$changelog_date" +%s)"
export SOURCE_DATE_EPOCH

# (build output to stderr: stdout is the package path, which test-package.sh captures)
[ "$build" = 1 ] && bash scripts/build.sh >&2
plugins=(holdfast holdfast-ipam)
tools=(ipamctl holdfast-watchdog)
for b in "${plugins[@]}" "${tools[@]}"; do
    [ -x "$HOLDFAST_BIN_DIR/$b" ] || die "$HOLDFAST_BIN_DIR/$b is missing: run scripts/build.sh"
done
# Stale binaries must not be packaged under this version.
for b in "${tools[@]}"; do
    got="$("$HOLDFAST_BIN_DIR/$b" --version)"
    [ "$got" = "$version" ] || die "$b --version prints '$got', expected '$version' (stale build?)"
done
for b in "${plugins[@]}"; do
    got="$(CNI_COMMAND=VERSION "$HOLDFAST_BIN_DIR/$b" </dev/null)"
    [[ "$got" == *"\"holdfast\":\"$version\""* ]] || die "$b VERSION answers '$got', expected \"holdfast\":\"$version\""
done

# swift-argument-parser's generate-manual tool (what its GenerateManual plugin
# runs), built from the checkout SwiftPM already has. The plugin itself would
# rebuild the whole package in another configuration first.
ap="$HOLDFAST_ROOT/.build/checkouts/swift-argument-parser"
[ -d "$ap/Tools/generate-manual" ] || die "$ap is missing: run scripts/build.sh (swift build resolves it)"
log "building swift-argument-parser's generate-manual"
swift build --package-path "$ap" --scratch-path "$HOLDFAST_ROOT/.build/argument-parser-tools" -c release \
    --product generate-manual >/dev/null || die "building generate-manual failed"
generate_manual="$HOLDFAST_ROOT/.build/argument-parser-tools/release/generate-manual"

pkg="holdfast_${version}_amd64"
mkdir -p "$out_dir"
stage="$(mktemp -d "$out_dir/.stage.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
root="$stage/root"
mkdir -p "$stage/man"
doc="$root/usr/share/doc/holdfast"
umask 022

log "staging $pkg"
install -d "$root/DEBIAN" "$root/usr/lib/cni" "$root/opt/cni/bin" "$root/usr/sbin" "$root/usr/share/man/man8" \
    "$doc/examples" "$root/lib/systemd/system" "$root/usr/share/lintian/overrides" \
    "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
    "$root/usr/share/fish/vendor_completions.d"
# Stripped as dh_strip strips: the Swift runtime is linked in, so the symbol
# tables are most of each file.
for b in "${plugins[@]}"; do
    install -m 755 "$HOLDFAST_BIN_DIR/$b" "$root/usr/lib/cni/$b"
    strip --remove-section=.comment --remove-section=.note --strip-unneeded "$root/usr/lib/cni/$b"
    # Between top-level directories, so absolute (Debian policy 10.5).
    ln -s "/usr/lib/cni/$b" "$root/opt/cni/bin/$b"
done
for b in "${tools[@]}"; do
    install -m 755 "$HOLDFAST_BIN_DIR/$b" "$root/usr/sbin/$b"
    strip --remove-section=.comment --remove-section=.note --strip-unneeded "$root/usr/sbin/$b"
    "$generate_manual" "$HOLDFAST_BIN_DIR/$b" --section 8 --date "$man_date" --output-directory "$stage/man" >/dev/null
    # Sourced, not run: no #! line (lintian bash-completion-with-hashbang).
    "$HOLDFAST_BIN_DIR/$b" --generate-completion-script bash | sed '1{/^#!/d}' >"$root/usr/share/bash-completion/completions/$b"
    "$HOLDFAST_BIN_DIR/$b" --generate-completion-script zsh >"$root/usr/share/zsh/vendor-completions/_$b"
    "$HOLDFAST_BIN_DIR/$b" --generate-completion-script fish >"$root/usr/share/fish/vendor_completions.d/$b.fish"
done
sed -e "s/@VERSION@/$version/g" -e "s/@DATE@/$man_date/g" packaging/man/holdfast.8 >"$stage/man/holdfast.8"
for m in "$stage"/man/*.8; do gzip -9n <"$m" >"$root/usr/share/man/man8/$(basename "$m").gz"; done

# Units, not enabled. The agent unit is cni/holdfast-agent.service with the
# package's paths; every other unit is a file in packaging/systemd/.
sed -e 's|/opt/cni/bin/ipamctl|/usr/sbin/ipamctl|g' -e 's|/usr/local/bin/holdfast-watchdog|/usr/sbin/holdfast-watchdog|g' \
    cni/holdfast-agent.service >"$root/lib/systemd/system/holdfast-agent.service"
for u in packaging/systemd/*.service packaging/systemd/*.timer; do
    [ -e "$u" ] && install -m 644 "$u" "$root/lib/systemd/system/"
done

for c in cni/holdfast-*.conflist cni/macvlan-holdfast-ipam.conflist; do install -m 644 "$c" "$doc/examples/"; done
install -m 644 packaging/debian/copyright "$doc/copyright"
gzip -9n <packaging/debian/changelog >"$doc/changelog.gz"
install -m 644 packaging/debian/lintian-overrides "$root/usr/share/lintian/overrides/holdfast"

# Depends: what the binaries link, as dpkg-shlibdeps reads it from the
# installed libraries' symbols files (it wants a debian/control to look at),
# plus libmnl0 in control.in: it is dlopen()ed (Sources/CMnlLazy), so not linked.
mkdir -p "$stage/src/debian"
printf 'Source: holdfast\n\nPackage: holdfast\nArchitecture: amd64\n' >"$stage/src/debian/control"
depends="$(cd "$stage/src" && dpkg-shlibdeps -O --warnings=0 "$root"/usr/lib/cni/* "$root"/usr/sbin/* | sed -n 's/^shlibs:Depends=//p')"
[ -n "$depends" ] || die "dpkg-shlibdeps found no dependencies"
installed_size="$(du -sk --exclude=DEBIAN "$root" | cut -f1)"
sed -e "s/@VERSION@/$version/" -e "s/@DEPENDS@/$depends/" -e "s/@INSTALLED_SIZE@/$installed_size/" \
    packaging/debian/control.in >"$root/DEBIAN/control"
for s in postinst prerm postrm; do install -m 755 "packaging/debian/$s" "$root/DEBIAN/$s"; done
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) \
    >"$root/DEBIAN/md5sums"
chmod 644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"
find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

deb="$out_dir/$pkg.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
log "built $deb ($(du -h "$deb" | cut -f1), Depends: $(sed -n "s/^Depends: //p" "$root/DEBIAN/control"))"
echo "$deb"
