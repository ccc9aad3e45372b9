#!/usr/bin/env bash
# podman's network overhead with Holdfast, against the reference plugins.
#
# Overhead = median wall time of `podman run --rm IMAGE true` on a network minus
# the same with `--network none`, for:
#   holdfast   holdfast + in-process holdfast-ipam (cni/holdfast-podman.conflist)
#   reference  bridge + host-local on an identical conflist (cni/reference-podman.conflist)
#   netavark   podman's own backend, if it can be installed (its own podman root,
#              so it is compared with its own `--network none`)
# All variants run interleaved, round robin, in one run on the same machine.
#
# podman is private to the run (config, storage, run and tmp roots, network
# config dir) and runs in a "node" network namespace, so bridges, ip_forward
# and netavark's iptables rules stay there; everything is removed by name.
#
# Env: HOLDFAST_BENCH_PODMAN_RUNS (default 20 timed runs per variant).
# Prints a table and one machine-readable line starting with `podman-overhead:`.
source "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "bench-podman.sh must run as root" >&2; exit 1; }
"$HOLDFAST_ROOT/scripts/setup-podman.sh" --netavark
for b in holdfast holdfast-ipam; do
    [ -x "$HOLDFAST_BIN_DIR/$b" ] || { echo "$HOLDFAST_BIN_DIR/$b is missing: run scripts/build.sh" >&2; exit 1; }
done
runs="${HOLDFAST_BENCH_PODMAN_RUNS:-20}"

id="$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
node="hfpb-node-$id"
oct="$((240 + 0x${id:0:2} % 11))"
third="$((0x${id:2:2} % 250))"
image="localhost/hfpb-busybox:$id"
work="$(mktemp -d /tmp/holdfast-podman-bench.XXXXXX)"
preexisting_cni_dir=0; [ -e /var/lib/cni ] && preexisting_cni_dir=1
preexisting_containers_dir=0; [ -e /var/lib/containers ] && preexisting_containers_dir=1
# Rootful netavark keeps its IPAM db in /run/containers/networks, whatever the
# podman roots (podman 4.3 hard-codes it).
preexisting_run_dir=0; [ -e /run/containers ] && preexisting_run_dir=1
netavark=0; [ -x /usr/lib/podman/netavark ] || [ -x /usr/libexec/podman/netavark ] && netavark=1

# ---------------------------------------------------------------- podman instances
# instance NAME BACKEND: private containers.conf, storage.conf and roots.
instance() {
    local d="$work/$1" backend="$2"
    mkdir -p "$d"/{root,runroot,tmp,net.d}
    cat >"$d/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[network]
network_backend = "$backend"
cni_plugin_dirs = ["$HOLDFAST_BIN_DIR", "/usr/lib/cni"]
network_config_dir = "$d/net.d"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$d/events.log"
tmp_dir = "$d/tmp"
EOF
    cat >"$d/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$d/root"
runroot = "$d/runroot"
EOF
}
pm() { # pm INSTANCE podman-args...
    local d="$work/$1"; shift
    CONTAINERS_CONF="$d/containers.conf" CONTAINERS_STORAGE_CONF="$d/storage.conf" \
        CONTAINERS_REGISTRIES_CONF="$work/registries.conf" \
        nsenter --net="/run/netns/$node" podman --root "$d/root" --runroot "$d/runroot" --tmpdir "$d/tmp" \
        --network-config-dir "$d/net.d" --cgroup-manager cgroupfs --events-backend file --runtime runc "$@"
}
instances=(cni); [ "$netavark" = 1 ] && instances+=(netavark)

starttime() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null || true; }
cleanup() {
    local rc=$?
    set +e
    for i in "${instances[@]}"; do
        [ -d "$work/$i" ] || continue
        pm "$i" rm -af -t 0 >/dev/null 2>&1
        pm "$i" rmi -af >/dev/null 2>&1
    done
    # CNI result caches of this run's networks (all `podman run --rm`, so
    # normally none are left).
    rm -f /var/lib/cni/results/hfpb-*-"$id"-* 2>/dev/null
    awk -v w="$work" 'index($2, w) == 1 {print $2}' /proc/self/mounts | sort -r | xargs -r -n1 umount -l
    ip netns del "$node" 2>/dev/null
    python3 "$HOLDFAST_ROOT/scripts/remove-proofs.py" "$work"
    rm -rf "$work"
    if [ "$preexisting_cni_dir" = 0 ]; then rmdir /var/lib/cni/results /var/lib/cni 2>/dev/null; fi
    if [ "$preexisting_containers_dir" = 0 ]; then
        rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb
        rmdir /var/lib/containers/cache /var/lib/containers 2>/dev/null
    fi
    if [ "$preexisting_run_dir" = 0 ]; then
        rm -f /run/containers/networks/ipam.db /run/containers/networks/aardvark-dns/* 2>/dev/null
        rmdir /run/containers/networks/aardvark-dns /run/containers/networks /run/containers 2>/dev/null
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$node"
ip -n "$node" link set lo up
: >"$work/registries.conf"
echo '{ "default": [{ "type": "insecureAcceptAnything" }] }' >"$work/policy.json"
mkdir -p "$work/image/bin"
cp "$(command -v busybox)" "$work/image/bin/busybox"
for c in sh true sleep; do ln -sf busybox "$work/image/bin/$c"; done
tar -C "$work/image" -cf "$work/image.tar" .

for i in "${instances[@]}"; do
    instance "$i" "$i"
    pm "$i" import --quiet --signature-policy "$work/policy.json" "$work/image.tar" "$image" >/dev/null
done

# Identical conflists but for the plugin types: the repo's two files with this
# run's names, bridges, subnets and private IPAM data dirs.
conflist() { # conflist SRC NAME BRIDGE SUBNET DATADIR
    python3 "$HOLDFAST_ROOT/scripts/podman-conflist.py" "$1" "$work/cni/net.d/$2.conflist" "$2" "$3" "$4" "$5"
}
conflist "$HOLDFAST_ROOT/cni/holdfast-podman.conflist" "hfpb-h-$id" "hfpbh$id" "10.$oct.$third.0/24" "$work/ipam-holdfast"
conflist "$HOLDFAST_ROOT/cni/reference-podman.conflist" "hfpb-r-$id" "hfpbr$id" "10.$oct.$((third + 1)).0/24" "$work/ipam-reference"
# netavark: a bridge network without DNS (no aardvark). podman 4.3 cannot name
# its bridge (podman0, podman1... in the node namespace) nor turn off its
# masquerade rules, so netavark does somewhat more work than the CNI variants.
if [ "$netavark" = 1 ]; then
    pm netavark network create --disable-dns --subnet "10.$oct.$((third + 2)).0/24" "hfpb-n-$id" >/dev/null || { log "netavark network create failed; skipping netavark"; netavark=0; instances=(cni); }
fi

# variant label -> "instance network"
declare -A variant=(
    [none]="cni none"
    [holdfast]="cni hfpb-h-$id"
    [reference]="cni hfpb-r-$id"
)
order=(none holdfast reference)
if [ "$netavark" = 1 ]; then
    variant[netavark-none]="netavark none"
    variant[netavark]="netavark hfpb-n-$id"
    order+=(netavark-none netavark)
fi

run_once() { # run_once LABEL -> prints elapsed ms
    local inst net t0 t1
    read -r inst net <<<"${variant[$1]}"
    t0=$(date +%s%N)
    pm "$inst" run --rm --network "$net" "$image" true >/dev/null 2>"$work/err" \
        || { echo "podman run on $1 failed: $(cat "$work/err")" >&2; return 1; }
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000))
}

log "warm-up"
for v in "${order[@]}"; do run_once "$v" >/dev/null; run_once "$v" >/dev/null; done
log "$runs timed runs per variant, interleaved: ${order[*]}"
declare -A samples
for ((r = 0; r < runs; r++)); do
    for v in "${order[@]}"; do samples[$v]+="$(run_once "$v") "; done
done

median() { tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f", m / 1000}'; }
declare -A med
for v in "${order[@]}"; do med[$v]="$(median <<<"${samples[$v]}")"; done
diff_ms() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%+.1f", a - b}'; }

# Nothing may be left on the networks after `--rm`: no Holdfast lease, no
# host-local reservation file (named after the address).
left="$("$HOLDFAST_BIN_DIR/ipamctl" leases --json --data-dir "$work/ipam-holdfast" --network "hfpb-h-$id" \
    | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
[ "$left" = 0 ] || { echo "bench-podman: $left Holdfast lease(s) left after podman run --rm" >&2; exit 1; }
left="$(find "$work/ipam-reference" -type f -name '10.*' 2>/dev/null | wc -l)"
[ "$left" = 0 ] || { echo "bench-podman: $left host-local reservation(s) left after podman run --rm" >&2; exit 1; }

printf '\npodman run --rm, median of %s runs (ms), podman %s, runc\n' "$runs" "$(podman --version | awk '{print $3}')"
printf '  %-22s %9s %12s\n' variant median "over none"
printf '  %-22s %9s %12s\n' "none (cni instance)" "${med[none]}" ""
printf '  %-22s %9s %12s\n' holdfast "${med[holdfast]}" "$(diff_ms "${med[holdfast]}" "${med[none]}")"
printf '  %-22s %9s %12s\n' "reference bridge+h-l" "${med[reference]}" "$(diff_ms "${med[reference]}" "${med[none]}")"
summary="podman-overhead: runs=$runs none_ms=${med[none]} holdfast_ms=${med[holdfast]} reference_ms=${med[reference]}"
summary+=" holdfast_overhead_ms=$(diff_ms "${med[holdfast]}" "${med[none]}") reference_overhead_ms=$(diff_ms "${med[reference]}" "${med[none]}")"
summary+=" holdfast_minus_reference_ms=$(diff_ms "${med[holdfast]}" "${med[reference]}")"
if [ "$netavark" = 1 ]; then
    printf '  %-22s %9s %12s\n' "none (netavark inst.)" "${med[netavark-none]}" ""
    printf '  %-22s %9s %12s\n' netavark "${med[netavark]}" "$(diff_ms "${med[netavark]}" "${med[netavark-none]}")"
    summary+=" netavark_none_ms=${med[netavark-none]} netavark_ms=${med[netavark]} netavark_overhead_ms=$(diff_ms "${med[netavark]}" "${med[netavark-none]}")"
else
    printf '  %-22s %9s\n' netavark "n/a (not available)"
    summary+=" netavark=n/a"
fi
printf '  holdfast - reference: %s ms\n\n' "$(diff_ms "${med[holdfast]}" "${med[reference]}")"
echo "$summary"
