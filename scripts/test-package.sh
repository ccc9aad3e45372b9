#!/usr/bin/env bash
# The Debian package end to end, on this host (needs root):
#   build it (scripts/package.sh), lintian (no errors), dpkg -i, the demo against
#   the installed binaries, upgrade over itself with a lease held (the lease and
#   its store survive), dpkg -r (nothing left but /var/lib/holdfast), purge with
#   a lease held (kept, and said so), purge with none (gone).
#
#   scripts/test-package.sh [--no-build]
#
# It touches only what it creates: the package (refuses to run if holdfast is
# already installed or /var/lib/holdfast exists), namespaces named hfpkg-*-<id>
# and files the package would overwrite, which are backed up and put back. The
# reference plugins in /usr/lib/cni and /opt/cni/bin are compared before and
# after. Runs are serialised with a lock, since dpkg state is host-wide.
source "$(dirname "$0")/lib.sh"
cd "$HOLDFAST_ROOT"
[ "$(id -u)" = 0 ] || { echo "test-package.sh must run as root" >&2; exit 1; }
package_args=()
[ "${1:-}" = --no-build ] && package_args+=(--no-build)
install_missing lintian dpkg-dev binutils iproute2 iputils-ping
# The package puts ipamctl in /usr/sbin; some root shells lack it on PATH.
case ":$PATH:" in *:/usr/sbin:*) ;; *) export PATH="$PATH:/usr/sbin:/sbin" ;; esac

passed=0 failed=0
pass() { passed=$((passed + 1)); printf 'PASS: %s\n' "$*"; }
fail() { failed=$((failed + 1)); printf 'FAIL: %s\n' "$*"; }
check() { # check LABEL COMMAND...
    local label="$1"; shift
    if "$@"; then pass "$label"; else fail "$label"; fi
}
die() { fail "$*"; exit 1; }

exec 9>/run/lock/holdfast-test-package.lock
flock -w 900 9 || die "another test-package.sh run holds /run/lock/holdfast-test-package.lock"

id="$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
node="hfpkg-node-$id"
ctr="hfpkg-c-$id"
net="hfpkg-$id"
bridge="hfpkg$id"
state=/var/lib/holdfast
work="$(mktemp -d /tmp/holdfast-test-package.XXXXXX)"
installed_by_us=0

# dpkg refuses to run while apt or another dpkg holds its lock (other builds on
# this host install packages too): wait for it, up to two minutes.
dpkg_() {
    local out i
    for i in $(seq 60); do
        if out="$(dpkg "$@" 2>&1)"; then printf '%s\n' "$out"; return 0; fi
        if grep -qi 'lock' <<<"$out" && ! grep -q '^holdfast' <<<"$out"; then sleep 2; continue; fi
        printf '%s\n' "$out" >&2
        return 1
    done
    printf '%s\n' "$out" >&2
    return 1
}
pkg_status() { dpkg-query -W -f='${Status}' holdfast 2>/dev/null || echo not-installed; }

snapshot() { # the reference plugins' dirs: names, types, modes, sizes, link targets, checksums
    local d dirs=()
    for d in /usr/lib/cni /opt/cni; do [ -e "$d" ] && dirs+=("$d"); done
    [ ${#dirs[@]} -gt 0 ] || return 0
    find "${dirs[@]}" -printf '%p|%y|%m|%s|%l\n' | LC_ALL=C sort
    find "${dirs[@]}" -type f -exec md5sum {} + | LC_ALL=C sort
}

# The script's own stdout and stderr: a signal may arrive while a command's
# output is redirected to a file, and cleanup must still report.
exec 3>&1 4>&2
cleanup() {
    local rc=$?
    set +e
    exec 1>&3 2>&4
    if [ -x /usr/lib/cni/holdfast ] && ip netns list | grep -qw "$ctr"; then
        cni DEL >/dev/null 2>&1
    fi
    ip netns del "$ctr" 2>/dev/null
    ip netns del "$node" 2>/dev/null
    if [ "$installed_by_us" = 1 ] && [ "$(pkg_status)" != not-installed ]; then
        dpkg_ --purge holdfast >/dev/null 2>&1 || log "could not purge holdfast"
    fi
    # /var/lib/holdfast did not exist before this run: whatever is there now is ours.
    [ "$installed_by_us" = 1 ] && rm -rf "$state"
    # The currency proof of this run's network (named <network>.<hash of its store path>).
    rm -f /run/holdfast/proof/"$net".*
    # Only the file entries are in the archive: tar recreates a missing parent
    # directory (mode 755) and never changes an existing directory.
    if [ -s "$work/backup.list" ]; then
        tar -C / -xpf "$work/backup.tar" --no-overwrite-dir && log "restored: $(tr '\n' ' ' <"$work/backup.list")"
    fi
    if [ -f "$work/before.snapshot" ] && ! diff -q "$work/before.snapshot" <(snapshot) >/dev/null; then
        echo "test-package: /usr/lib/cni or /opt/cni differ from before the run:" >&2
        diff "$work/before.snapshot" <(snapshot) >&2
        rc=1
    fi
    rm -rf "$work"
    echo "test-package: $passed passed, $failed failed"
    [ "$failed" -gt 0 ] && rc=1
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(pkg_status)" = not-installed ] || die "the holdfast package is already installed ($(pkg_status)); not touching it"
[ ! -e "$state" ] || die "$state already exists; the purge checks would touch someone's leases"

log "building the package"
deb="$(bash scripts/package.sh "${package_args[@]}")" || die "scripts/package.sh failed"
version="$(dpkg-deb -f "$deb" Version)"
pass "built $(basename "$deb") ($(du -h "$deb" | cut -f1), $(stat -c %s "$deb") bytes)"

log "lintian $(basename "$deb")"
# The gate: no error and no warning (info tags are shown, not fatal). A second
# run only lists the overridden tags: with --show-overrides lintian exits 2.
if lintian --fail-on error,warning --info "$deb" >"$work/lintian" 2>&1; then
    pass "lintian: no errors, no warnings ($(grep -c '^I:' "$work/lintian") info tags)"
else
    fail "lintian reported errors or warnings"
fi
lintian --show-overrides --tag-display-limit 0 "$deb" 2>/dev/null | grep '^O:' >>"$work/lintian" || true
grep -v '^running with root' "$work/lintian" | sed 's/^/    lintian: /'

# What the package owns, from the .deb itself (paths without the leading ".").
dpkg-deb -c "$deb" | awk '{p = $6; sub(/^\./, "", p); if (p != "/") print substr($1, 1, 1), p}' >"$work/contents"
snapshot >"$work/before.snapshot"
# Files the package would replace (e.g. from scripts/install.sh) are saved
# with tar, file entries only, and put back by cleanup.
: >"$work/dirs.before"; : >"$work/backup.list"
while read -r type path; do
    if [ "$type" = d ]; then if [ -d "$path" ]; then echo "$path" >>"$work/dirs.before"; fi
    elif [ -e "$path" ] || [ -L "$path" ]; then echo "${path#/}" >>"$work/backup.list"; fi
done <"$work/contents"
if [ -s "$work/backup.list" ]; then
    tar -C / --no-recursion -cpf "$work/backup.tar" -T "$work/backup.list" || die "could not back up $(cat "$work/backup.list")"
    log "backed up the files the package will replace: $(tr '\n' ' ' <"$work/backup.list")"
fi

# ---------------------------------------------------------------- install + demo
log "dpkg -i, then the demo on the installed binaries"
t0=$(date +%s%N)
installed_by_us=1
dpkg_ -i "$deb" >"$work/dpkg-i" || die "dpkg -i failed: $(cat "$work/dpkg-i")"
t_installed=$(date +%s%N)
check "dpkg -i: holdfast $version is installed" test "$(pkg_status)" = "install ok installed"
if bash scripts/demo.sh --bin-dir /opt/cni/bin >"$work/demo" 2>&1; then demo_ok=1; else demo_ok=0; fi
t1=$(date +%s%N)
sed 's/^/    demo: /' "$work/demo"
check "demo on /opt/cni/bin (links to /usr/lib/cni) finished" test "$demo_ok" = 1
check "demo: ipamctl leases listed both containers" \
    test "$(grep -cE '^holdfast-demo +10\.231\.0\.[0-9]+ +hfdemo-[ab]-[0-9]+ .* active ' "$work/demo")" = 2
check "demo: used the packaged ipamctl" test "$(command -v ipamctl)" = /usr/sbin/ipamctl
check "demo: both pings answered" test "$(grep -c ' 0% packet loss' "$work/demo")" = 2
install_to_demo_ms=$(((t1 - t0) / 1000000))
pass "install-to-demo time: $install_to_demo_ms ms (dpkg -i $(((t_installed - t0) / 1000000)) ms + scripts/demo.sh --bin-dir /opt/cni/bin $(((t1 - t_installed) / 1000000)) ms)"

check "/usr/sbin/ipamctl --version prints $version" test "$(/usr/sbin/ipamctl --version)" = "$version"
check "/usr/sbin/holdfast-watchdog --version prints $version" test "$(/usr/sbin/holdfast-watchdog --version)" = "$version"
for p in holdfast holdfast-ipam; do
    out="$(CNI_COMMAND=VERSION "/opt/cni/bin/$p" </dev/null)"
    check "$p VERSION carries \"holdfast\":\"$version\"" grep -q "\"holdfast\":\"$version\"" <<<"$out"
    check "/opt/cni/bin/$p links to /usr/lib/cni/$p" test "$(readlink "/opt/cni/bin/$p")" = "/usr/lib/cni/$p"
done
for m in ipamctl holdfast-watchdog holdfast; do
    check "man page $m(8) is installed and names $m" sh -c "gzip -dc /usr/share/man/man8/$m.8.gz | grep -qi '$m'"
done
check "ipamctl(8) documents the leases subcommand" sh -c 'gzip -dc /usr/share/man/man8/ipamctl.8.gz | grep -q "^.It Em leases"'
for b in ipamctl holdfast-watchdog; do
    check "bash completion for $b parses" bash -n "/usr/share/bash-completion/completions/$b"
    check "zsh and fish completions for $b are installed" \
        test -s "/usr/share/zsh/vendor-completions/_$b" -a -s "/usr/share/fish/vendor_completions.d/$b.fish"
done
check "example conflists are installed" test -s /usr/share/doc/holdfast/examples/holdfast-demo.conflist
for u in holdfast-agent.service holdfast-reconcile.service holdfast-metrics.service holdfast-metrics.timer; do
    check "unit $u is installed" test -s "/lib/systemd/system/$u"
done
check "the agent unit runs the packaged watchdog and ipamctl" \
    sh -c 'grep -q "^ExecStart=/usr/sbin/holdfast-watchdog" /lib/systemd/system/holdfast-agent.service &&
           grep -q "^ExecStartPre=-/usr/sbin/ipamctl reconcile --apply" /lib/systemd/system/holdfast-agent.service'
if command -v systemd-analyze >/dev/null; then
    # The agent unit's agent (/usr/local/bin/container-agent) is a placeholder
    # an operator replaces; only the units' syntax and our binaries are checked.
    check "systemd-analyze verify accepts the units" sh -c 'systemd-analyze verify /lib/systemd/system/holdfast-*.service \
        /lib/systemd/system/holdfast-metrics.timer 2>&1 | grep -v "container-agent" | { ! grep -q .; }'
fi
check "no unit is enabled" test -z "$(find /etc/systemd/system -name 'holdfast-*' 2>/dev/null)"
check "install created no state (no $state)" test ! -e "$state"
check "the reference plugins are untouched" sh -c "test -x /usr/lib/cni/bridge && test -x /usr/lib/cni/host-local"
check "installed beside containernetworking-plugins (no conflict)" \
    test "$(dpkg-query -W -f='${Status}' containernetworking-plugins 2>/dev/null)" = "install ok installed"

# ---------------------------------------------------------------- a lease, then upgrade
conf="{\"cniVersion\":\"1.0.0\",\"name\":\"$net\",\"type\":\"holdfast\",\"bridge\":\"$bridge\",\"isGateway\":true,"
conf+="\"ipam\":{\"type\":\"holdfast-ipam\",\"ranges\":[[{\"subnet\":\"10.239.$((0x${id:0:2})).0/24\"}]]}}"
cni() { # cni COMMAND: the installed plugin, the default dataDir ($state/networks)
    ip netns exec "$node" env CNI_COMMAND="$1" CNI_CONTAINERID="$ctr" CNI_NETNS="/var/run/netns/$ctr" \
        CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni /usr/lib/cni/holdfast <<<"$conf"
}
lease_rows() { /usr/sbin/ipamctl leases --json --network "$net" 2>/dev/null | python3 -c '
import json, sys
for r in json.load(sys.stdin): print(r["containerID"], r["address"], r["state"])' 2>/dev/null; }
store_sums() { find "$state/networks/$net" -type f ! -name '*-shm' -exec md5sum {} + | LC_ALL=C sort; }

log "a container holds a lease in $state/networks/$net; dpkg -i over the installed package"
ip netns add "$node"
ip -n "$node" link set lo up
ip netns add "$ctr"
cni ADD >"$work/add" || die "ADD with the installed plugin failed: $(cat "$work/add")"
addr="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ips"][0]["address"].split("/")[0])' "$work/add")"
check "ADD leased $addr to $ctr in the default data dir" test "$(lease_rows)" = "$ctr $addr active"
store_sums >"$work/store.before"
dpkg_ -i "$deb" >"$work/dpkg-upgrade" || fail "dpkg -i over itself failed: $(cat "$work/dpkg-upgrade")"
check "upgrade over itself: still installed" test "$(pkg_status)" = "install ok installed"
check "upgrade: the lease survived ($ctr $addr)" test "$(lease_rows)" = "$ctr $addr active"
check "upgrade: the store's files are byte-identical" diff -q "$work/store.before" <(store_sums)
check "upgrade: the container still reaches its gateway" \
    ip netns exec "$ctr" ping -c 1 -W 2 "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ips"][0]["gateway"])' "$work/add")"

# ---------------------------------------------------------------- remove
log "dpkg -r with the lease held"
dpkg_ -r holdfast >"$work/dpkg-r" || fail "dpkg -r failed: $(cat "$work/dpkg-r")"
check "dpkg -r: status is deinstall ok config-files" test "$(pkg_status)" = "deinstall ok config-files"
left=()
while read -r type path; do
    if [ "$type" = d ]; then
        [ -d "$path" ] && ! grep -qxF "$path" "$work/dirs.before" && left+=("$path")
    elif [ -e "$path" ] || [ -L "$path" ]; then
        grep -qxF "${path#/}" "$work/backup.list" || left+=("$path")
    fi
done <"$work/contents"
check "dpkg -r: none of the package's files or directories is left (${left[*]:-none})" test "${#left[@]}" = 0
check "dpkg -r: $state is kept, with the lease store" test -s "$state/networks/$net/leases.db"
check "dpkg -r: the store's files are byte-identical" diff -q "$work/store.before" <(store_sums)

# ---------------------------------------------------------------- purge
log "dpkg -P with the lease held"
dpkg_ -P holdfast >"$work/dpkg-P" 2>&1 || fail "dpkg -P failed: $(cat "$work/dpkg-P")"
sed 's/^/    dpkg -P: /' "$work/dpkg-P"
check "purge with a lease held: package gone" test "$(pkg_status)" = not-installed
check "purge with a lease held: $state is kept" test -s "$state/networks/$net/leases.db"
check "purge with a lease held: says so (1 lease)" grep -q "keeping $state: 1 lease(s)" "$work/dpkg-P"

log "reinstall, DEL the container, dpkg -P"
dpkg_ -i "$deb" >/dev/null || die "reinstall failed"
check "reinstall kept the lease" test "$(lease_rows)" = "$ctr $addr active"
cni DEL >"$work/del" || fail "DEL failed: $(cat "$work/del")"
check "DEL released the lease" test -z "$(lease_rows)"
ip netns del "$ctr"
# A store written after the count (say by a Holdfast built from source) makes
# the count stale: purge must keep the directory rather than guess.
dpkg_ -r holdfast >/dev/null || fail "dpkg -r failed"
touch "$state/networks/$net/leases.db"
dpkg_ -P holdfast >"$work/dpkg-P-stale" 2>&1 || fail "dpkg -P failed: $(cat "$work/dpkg-P-stale")"
check "purge after a store changed post-remove: $state is kept" test -s "$state/networks/$net/leases.db"
check "purge after a store changed post-remove: says it could not count" grep -q "could not count" "$work/dpkg-P-stale"
dpkg_ -i "$deb" >/dev/null || die "reinstall failed"
dpkg_ -P holdfast >"$work/dpkg-P2" 2>&1 || fail "dpkg -P failed: $(cat "$work/dpkg-P2")"
check "purge with no lease held: package gone" test "$(pkg_status)" = not-installed
check "purge with no lease held: $state is removed" test ! -e "$state"
# (Files the package replaced are put back by cleanup, which compares again.)
[ -s "$work/backup.list" ] || check "purge: /usr/lib/cni and /opt/cni are as before the run" diff -q "$work/before.snapshot" <(snapshot)
ip netns del "$node"
