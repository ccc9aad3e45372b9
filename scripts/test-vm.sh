#!/usr/bin/env bash
# The VM lane: boots Debian's stock kernel (linux-image-amd64, 6.1) under QEMU
# (TCG: nested KVM does not work on the project's machines) with an initramfs
# of busybox, iproute2's ip, the Holdfast release binaries, the reference CNI
# plugins and the kernel modules the cases need, on a pure cgroup v2
# hierarchy. The guest's /init (Tests/vm/init) runs Tests/vm/cases/*.sh in
# order; each case prints `VMTEST PASS <name>` or `VMTEST FAIL <name>: <why>`
# on the serial console, which this script parses. A VM that does not boot,
# or does not finish within VM_TIMEOUT seconds, fails the lane with the reason.
#
# The kernel .deb is fetched with `apt-get download` and unpacked with
# `dpkg-deb -x` into .build-vm/ (gitignored): nothing is installed on the host
# but qemu-system-x86 and busybox-static. Needs the release build
# ($HOLDFAST_BIN_DIR, scripts/build.sh). Prints `N passed, M failed`.
source "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "test-vm.sh must run as root (apt)" >&2; exit 1; }
install_missing qemu-system-x86 busybox-static iproute2 containernetworking-plugins

VM_DIR="${VM_DIR:-$HOLDFAST_ROOT/.build-vm}"
VM_TIMEOUT="${VM_TIMEOUT:-240}"       # hard bound on the boot and all cases
VM_MODULES="crc32c_generic veth bridge macvlan ipvlan nf_tables nft_chain_nat nft_masq nft_ct"
VM_CNI_PLUGINS="bridge host-local ipvlan macvlan ptp loopback static"
CASES_DIR="$HOLDFAST_ROOT/Tests/vm/cases"
start=$(date +%s)
mkdir -p "$VM_DIR"
fail_lane() { echo "VM lane FAILED: $*" >&2; echo "0 passed, 1 failed"; exit 1; }

# 1. The kernel: the package linux-image-amd64 points at, downloaded, not installed.
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')
if [ -z "$kpkg" ]; then
    apt-get update -qq
    kpkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/{print $2; exit}')
fi
[ -n "$kpkg" ] || fail_lane "apt-cache knows no linux-image-amd64"
kver=${kpkg#linux-image-}
kroot="$VM_DIR/kernel-$kver"
if [ ! -f "$kroot/boot/vmlinuz-$kver" ]; then
    log "VM lane: downloading $kpkg"
    rm -rf "$VM_DIR/deb" "$kroot"
    mkdir -p "$VM_DIR/deb"
    ( cd "$VM_DIR/deb" && { apt-get download "$kpkg" 2>/dev/null || { apt-get update -qq && apt-get download "$kpkg"; }; } ) \
        || fail_lane "apt-get download $kpkg failed"
    dpkg-deb -x "$VM_DIR"/deb/"$kpkg"_*.deb "$kroot.tmp" || fail_lane "dpkg-deb -x failed"
    # The package ships no modules.dep (its postinst runs depmod); build one in the tree.
    busybox depmod -b "$kroot.tmp" "$kver" || fail_lane "depmod failed"
    mv "$kroot.tmp" "$kroot"
    rm -rf "$VM_DIR/deb"
fi
moddir="$kroot/lib/modules/$kver"

# 2. The initramfs, rebuilt every run (the binaries change).
root="$VM_DIR/initramfs"
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,run,var,opt/holdfast/bin,usr/lib/cni,lib/modules/"$kver",vm/cases}
ln -s /run "$root/var/run"
cp /bin/busybox "$root/bin/busybox"
for applet in $(busybox --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
copy_with_libs() {  # copy_with_libs FILE DEST: FILE to DEST and its shared libraries to their paths
    mkdir -p "$(dirname "$2")"; cp "$1" "$2"
    ldd "$1" 2>/dev/null | grep -oE '/[^ ]+\.so[^ ]*' | while read -r lib; do
        [ -e "$root$lib" ] || { mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"; }
    done
}
rm -f "$root/bin/ip"
copy_with_libs "$(command -v ip)" "$root/sbin/ip"
for b in holdfast holdfast-ipam ipamctl holdfast-watchdog; do
    [ -x "$HOLDFAST_BIN_DIR/$b" ] || fail_lane "$HOLDFAST_BIN_DIR/$b missing (run scripts/build.sh)"
    copy_with_libs "$HOLDFAST_BIN_DIR/$b" "$root/opt/holdfast/bin/$b"
done
# libnftables (ipMasq) and libmnl (netlink, Sources/CMnlLazy) are dlopen()ed,
# so ldd does not list them.
nft_lib=$(ls /usr/lib/x86_64-linux-gnu/libnftables.so.1 2>/dev/null || true)
[ -n "$nft_lib" ] && copy_with_libs "$nft_lib" "$root/usr/lib/x86_64-linux-gnu/libnftables.so.1"
mnl_lib=/usr/lib/x86_64-linux-gnu/libmnl.so.0
[ -e "$mnl_lib" ] || fail_lane "$mnl_lib missing (scripts/setup.sh installs libmnl-dev)"
copy_with_libs "$mnl_lib" "$root$mnl_lib"
for p in $VM_CNI_PLUGINS; do copy_with_libs "/usr/lib/cni/$p" "$root/usr/lib/cni/$p"; done
# Kernel modules with their dependencies (from modules.dep; the guest loads them
# with busybox modprobe). Debian 6.1's modules are uncompressed (.ko).
cp "$moddir/modules.dep" "$root/lib/modules/$kver/modules.dep"
: > "$root/vm/modules"
for m in $VM_MODULES; do
    line=$(grep -E "(^|/)$m\.ko(\.[a-z]+)?:" "$moddir/modules.dep") || fail_lane "module $m not in $kpkg"
    for f in ${line%%:*} ${line#*:}; do
        mkdir -p "$root/lib/modules/$kver/$(dirname "$f")"
        cp "$moddir/$f" "$root/lib/modules/$kver/$f"
    done
    echo "$m" >> "$root/vm/modules"
done
cp "$HOLDFAST_ROOT/Tests/vm/init" "$root/init"
chmod +x "$root/init"
cp "$HOLDFAST_ROOT/Tests/vm/lib.sh" "$root/vm/lib.sh"
cp "$CASES_DIR"/*.sh "$root/vm/cases/"
ln -s /bin/busybox "$root/sbin/modprobe"   # the kernel's request_module helper
( cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1 ) > "$VM_DIR/initramfs.cpio.gz"

# 3. Boot, with a hard timeout, and read the verdicts from the serial console.
log "VM lane: booting $kpkg under QEMU TCG (timeout ${VM_TIMEOUT}s)"
console="$VM_DIR/console.log"
rc=0
timeout --kill-after=5 "$VM_TIMEOUT" qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp 2 -m 1024 \
    -no-reboot -nodefaults -display none -monitor none -serial stdio \
    -kernel "$kroot/boot/vmlinuz-$kver" -initrd "$VM_DIR/initramfs.cpio.gz" \
    -append "console=ttyS0 panic=-1 quiet loglevel=3 cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1 rdinit=/init" \
    < /dev/null > "$console" 2>&1 || rc=$?
tr -d '\r' < "$console" > "$console.txt"
grep -E '^VMTEST (PASS|FAIL|INFO) ' "$console.txt" >&2 || true
passed=$(grep -cE '^VMTEST PASS ' "$console.txt" || true)
failed=$(grep -cE '^VMTEST FAIL ' "$console.txt" || true)
elapsed=$(( $(date +%s) - start ))
if ! grep -q '^VMTEST BOOTED' "$console.txt"; then
    tail -30 "$console.txt" >&2
    fail_lane "the VM did not reach its init (qemu exit $rc, ${elapsed}s); console: $console.txt"
fi
if ! grep -q '^VMTEST DONE' "$console.txt"; then
    tail -30 "$console.txt" >&2
    echo "VM lane: the guest did not finish (qemu exit $rc after ${elapsed}s; 124 is the ${VM_TIMEOUT}s timeout)" >&2
    failed=$((failed + 1))
fi
expected=$(ls "$CASES_DIR"/*.sh | wc -l)
if [ $((passed + failed)) -lt "$expected" ]; then
    echo "VM lane: $expected cases, only $((passed + failed)) verdicts" >&2
    [ "$failed" -gt 0 ] || failed=1
fi
log "VM lane: ${elapsed}s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
