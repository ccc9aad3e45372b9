#!/usr/bin/env bash
# Benchmarks Holdfast against the reference CNI plugins (Debian's
# containernetworking-plugins: /usr/lib/cni/bridge and /usr/lib/cni/host-local)
# and prints a table of medians, ratios and peak RSS; the same results go to
# bench-results/bench-<timestamp>.json. Needs root (network namespaces).
#
#   scripts/bench.sh            full run (200 cycles, occupancy up to 60,000 leases)
#   scripts/bench.sh --quick    a few minutes: fewer cycles, occupancy up to 5,000
#   scripts/bench.sh --only s1,s3   a subset (s0 start-up, s1..s4, profile, cluster)
#
# Then the podman scenario (scripts/bench-podman.sh: `podman run --rm` on a
# Holdfast network minus `--network none`, against bridge+host-local and
# netavark), unless HOLDFAST_BENCH_PODMAN=0 or --only was given.
#
# Everything the run creates in the kernel lives in namespaces named
# "$HOLDFAST_BENCH_TAG-*"; they are deleted by name at the end, and again here
# in case the driver itself was killed.
source "$(dirname "$0")/lib.sh"
cd "$HOLDFAST_ROOT"
[ "$(id -u)" = 0 ] || { echo "bench.sh must run as root" >&2; exit 1; }

bash scripts/setup.sh
# The reference bridge plugin execs iptables for ipMasq; a C compiler builds the
# tiny launcher that measures each plugin's own wall time and peak RSS.
need=()
command -v iptables >/dev/null 2>&1 || need+=(iptables)
command -v cc >/dev/null 2>&1 || command -v clang >/dev/null 2>&1 || need+=(gcc libc6-dev)
command -v strace >/dev/null 2>&1 || need+=(strace)
if [ ${#need[@]} -gt 0 ]; then
    log "installing: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
bash scripts/build.sh

HOLDFAST_BENCH_TAG="hfb$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
export HOLDFAST_BENCH_TAG
cleanup() {
    { ip netns list 2>/dev/null | awk '{print $1}' | grep "^${HOLDFAST_BENCH_TAG}-" || true; } | while read -r ns; do
        ip netns del "$ns" 2>/dev/null || true
    done
}
trap cleanup EXIT INT TERM

mkdir -p bench-results
out="bench-results/bench-$(date -u +%Y%m%dT%H%M%SZ).json"
log "running benchmark (tag $HOLDFAST_BENCH_TAG), results -> $out"
python3 scripts/bench/bench.py --json "$out" "$@"
# Cluster mode (etcd): with a full run, or when --only names "cluster".
run_cluster=1
case " $* " in *" --only "*) case "$*" in *cluster*) ;; *) run_cluster=0 ;; esac ;; esac
if [ "$run_cluster" = 1 ]; then
    log "cluster mode against node-local"
    quick=(); case " $* " in *" --quick "*) quick=(--quick) ;; esac
    python3 scripts/bench/bench_cluster.py --json "${out%.json}-cluster.json" "${quick[@]}"
fi

case " $* " in *" --only "*) exit 0 ;; esac
log "kernel evidence without a bridge (scripts/bench-evidence.py)"
case " $* " in
    *" --quick "*) python3 scripts/bench-evidence.py 15 100 ;;
    *) python3 scripts/bench-evidence.py 30 500 ;;
esac
if [ "${HOLDFAST_BENCH_PODMAN:-1}" != 0 ]; then
    log "podman scenario"
    bash scripts/bench-podman.sh
fi
