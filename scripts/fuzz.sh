#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer, `-sanitize=fuzzer,address`) of the
# decoders that read untrusted input: network configs (bridge, IPAM),
# CNI_ARGS, CNI results (prevResult), IP/CIDR/MAC parsers and netlink replies.
#
#   scripts/fuzz.sh                 # every target for FUZZ_SECONDS (default 60) each
#   FUZZ_SECONDS=20 scripts/fuzz.sh # the bounded run scripts/test.sh does
#   scripts/fuzz.sh fuzz-netlink    # one target
#
# Targets are built in their own scratch path (.build-fuzz, gitignored) so the
# instrumented objects never mix with the normal build. Each run starts from
# the seed corpus in Tests/Fuzz/corpus/<target> (kept small, in the repo) and
# grows a scratch copy in .build-fuzz/corpus/<target>. Inputs in
# Tests/Fuzz/regressions/<target> (crashes found earlier, now fixed) are
# replayed first and must pass. A crash fails the script and leaves the
# input in .build-fuzz/crashes/<target>/; fix it and add the input to
# Tests/Fuzz/regressions/<target>/. Prints each target's execution count.
source "$(dirname "$0")/lib.sh"
cd "$HOLDFAST_ROOT"
FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
SCRATCH="$HOLDFAST_ROOT/.build-fuzz"
all_targets=(fuzz-addressing fuzz-cni-args fuzz-cni-result fuzz-bridge-config fuzz-ipam-config fuzz-netlink)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all_targets[@]}"); fi

start=$(date +%s)
log "fuzz: building ${#targets[@]} targets in .build-fuzz"
mkdir -p "$SCRATCH"
build() {
    HOLDFAST_FUZZ=1 swift build --scratch-path "$SCRATCH" "$@" \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library > "$SCRATCH/build.log" 2>&1 \
        || { grep -vE '^(\[[0-9]+/[0-9]+\]|Compiling|Building|Emitting|Write)' "$SCRATCH/build.log" | tail -40 >&2; return 1; }
}
for t in "${targets[@]}"; do
    build --product "$t" || { echo "fuzz: build of $t failed" >&2; exit 1; }
done
bin="$SCRATCH/debug"
log "fuzz: built in $(( $(date +%s) - start ))s; ${FUZZ_SECONDS}s per target"

failed=0
for t in "${targets[@]}"; do
    corpus="$SCRATCH/corpus/$t"
    crashes="$SCRATCH/crashes/$t"
    mkdir -p "$corpus" "$crashes"
    [ -d "Tests/Fuzz/corpus/$t" ] && cp -n Tests/Fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
    if [ -d "Tests/Fuzz/regressions/$t" ] && [ -n "$(ls -A "Tests/Fuzz/regressions/$t")" ]; then
        if ! "$bin/$t" -runs=0 Tests/Fuzz/regressions/"$t"/* > "$SCRATCH/$t.replay.log" 2>&1; then
            tail -30 "$SCRATCH/$t.replay.log" >&2
            echo "fuzz: $t: a kept regression input crashes again" >&2
            failed=$((failed + 1))
            continue
        fi
    fi
    if "$bin/$t" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=1024 -max_len=4096 \
            -print_final_stats=1 -artifact_prefix="$crashes/" "$corpus" > "$SCRATCH/$t.log" 2>&1; then
        execs=$(grep -E '^stat::number_of_executed_units' "$SCRATCH/$t.log" | awk '{print $2}')
        cov=$(grep -oE 'cov: [0-9]+' "$SCRATCH/$t.log" | tail -1)
        echo "fuzz: $t: ${execs:-?} executions in ${FUZZ_SECONDS}s, $cov, no crash"
    else
        tail -40 "$SCRATCH/$t.log" >&2
        echo "fuzz: $t: CRASH, input in $crashes/" >&2
        failed=$((failed + 1))
    fi
done
log "fuzz: ${#targets[@]} targets, $failed failed, $(( $(date +%s) - start ))s in all"
[ "$failed" -eq 0 ]
