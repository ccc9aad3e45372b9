#!/usr/bin/env bash
# Installs the static release binaries.
#   scripts/install.sh [--bin-dir DIR] [--with-config [CONFLIST]] [--conf-dir DIR] [--no-build]
# Defaults: binaries to /opt/cni/bin (where runtimes look for CNI plugins);
# a conflist is copied to /etc/cni/net.d only with --with-config.
source "$(dirname "$0")/lib.sh"
bin_dir=/opt/cni/bin
conf_dir=/etc/cni/net.d
conflist=""
build=1
while [ $# -gt 0 ]; do
    case "$1" in
        --bin-dir) bin_dir="$2"; shift 2 ;;
        --conf-dir) conf_dir="$2"; shift 2 ;;
        --with-config)
            conflist="$HOLDFAST_ROOT/cni/holdfast-demo.conflist"
            if [ $# -gt 1 ] && [ "${2#--}" = "$2" ]; then conflist="$2"; shift; fi
            shift ;;
        --no-build) build=0; shift ;;
        -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
        *) echo "unknown option: $1" >&2; exit 2 ;;
    esac
done
[ "$build" = 1 ] && "$HOLDFAST_ROOT/scripts/build.sh"
install -d -m 755 "$bin_dir"
for b in holdfast holdfast-ipam ipamctl holdfast-watchdog; do
    install -m 755 "$HOLDFAST_BIN_DIR/$b" "$bin_dir/$b"
    log "installed $bin_dir/$b"
done
if [ -n "$conflist" ]; then
    [ -f "$conflist" ] || { echo "no such conflist: $conflist" >&2; exit 2; }
    install -d -m 755 "$conf_dir"
    install -m 644 "$conflist" "$conf_dir/$(basename "$conflist")"
    log "installed $conf_dir/$(basename "$conflist")"
fi
