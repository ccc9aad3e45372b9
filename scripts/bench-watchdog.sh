#!/bin/sh
# bench-watchdog.sh: 10 real OOM kills under holdfast-watchdog (cgroup v1 or v2,
# whichever has the memory controller); prints each kill->decision latency, the
# median, and the watchdog's own peak RSS (VmHWM). Needs root.
#
# Latency is measured on CLOCK_MONOTONIC from the agent's last heartbeat before
# each 1 MiB allocation (an upper bound on the kill time) to the watchdog's
# decision (`decided_mono` in its `agent_oom_killed` log line).
set -eu
BIN=${HOLDFAST_BIN_DIR:-$(dirname "$0")/../.build/release}/holdfast-watchdog
RUNS=${RUNS:-10}
[ -x "$BIN" ] || { echo "build first: swift build -c release --static-swift-stdlib --product holdfast-watchdog" >&2; exit 2; }

if grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then ROOT=/sys/fs/cgroup
else ROOT=/sys/fs/cgroup/memory; fi
PARENT=$ROOT/holdfast-bench-$$-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
WORK=$(mktemp -d)
cleanup() {
    for g in "$PARENT"/*/ "$PARENT"; do
        [ -d "$g" ] || continue
        for p in $(cat "$g/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
        rmdir "$g" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
mkdir "$PARENT"

HOG='import sys, time
hb = open(sys.argv[1], "w", buffering=1)
a = []
while True:
    hb.write("%.6f\n" % time.clock_gettime(time.CLOCK_MONOTONIC))
    a.append(b"x" * (1 << 20))'

i=1
while [ "$i" -le "$RUNS" ]; do
    rm -f "$WORK/fence"
    "$BIN" run --fence "$WORK/fence" --state "$WORK/state" --cgroup-parent "$PARENT" \
        --memory-limit 32M --dry-run -- python3 -c "$HOG" "$WORK/hb" 2>"$WORK/log" || true
    python3 - "$WORK/log" "$WORK/hb" <<'PY' >>"$WORK/lat"
import json, sys
d = [json.loads(l) for l in open(sys.argv[1]) if '"agent_oom_killed"' in l][0]
print("%.3f" % ((d["decided_mono"] - float(open(sys.argv[2]).read().split()[-1])) * 1000))
PY
    i=$((i + 1))
done

# Peak RSS: one more run with a long action wait, sampled while fenced.
rm -f "$WORK/fence"
"$BIN" run --fence "$WORK/fence" --state "$WORK/state" --cgroup-parent "$PARENT" --memory-limit 32M \
    --action exec -- true -- python3 -c "$HOG" "$WORK/hb" 2>/dev/null &
WD=$!
while [ ! -e "$WORK/fence" ]; do sleep 0.05; done
sleep 0.2
HWM=$(awk '/VmHWM/ {print $2}' "/proc/$WD/status")
kill -TERM "$WD"; wait "$WD" || true

python3 - "$WORK/lat" "$HWM" "$ROOT" <<'PY'
import statistics, sys
lat = [float(x) for x in open(sys.argv[1])]
print("cgroup root:", sys.argv[3])
print("kill->decision ms:", " ".join("%.1f" % x for x in lat))
print("median kill->decision: %.1f ms over %d OOM kills (max %.1f ms)" % (statistics.median(lat), len(lat), max(lat)))
print("watchdog VmHWM: %s KiB" % sys.argv[2])
PY
