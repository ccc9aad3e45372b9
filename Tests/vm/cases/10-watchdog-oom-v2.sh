# The watchdog's real OOM test on cgroup v2, with the assertions of the v1
# test in Tests/integration/test_watchdog.py: the agent is OOM-killed in a v2
# memory cgroup the watchdog creates, the fence is written, the action runs
# exactly once, the agent is never restarted, and a second watchdog refuses to
# start its agent while fenced.
name=watchdog-oom-v2
fail() { echo "VMTEST FAIL $name: $*"; exit 1; }
cg=/sys/fs/cgroup
grep -qw memory $cg/cgroup.controllers || fail "no memory controller in the v2 root"
echo +memory > $cg/cgroup.subtree_control || fail "cannot enable +memory in the root"
parent=$cg/holdfast-vmtest
mkdir -p $parent
# The agent: busybox dd with a 64 MiB buffer, touched by read(2) from /dev/zero,
# far over the 32 MiB limit. The action appends one line per run to marker.
holdfast-watchdog run --fence fence --state state --cgroup-parent $parent --memory-limit 32M \
    --action exec -- sh -c 'echo ran >> marker' -- dd if=/dev/zero of=/dev/null bs=64M count=4 2>log &
wd=$!
i=0
while [ ! -s marker ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
[ -s marker ] || { kill -9 $wd; cat log >&2; fail "the action never ran"; }
sleep 1.5   # room for a wrong second run or an agent restart to show up
kill -0 $wd 2>/dev/null || fail "the watchdog must stay up, fenced, until the host goes"
kill -TERM $wd
wait $wd
rc=$?
cat log >&2
[ $rc -eq 10 ] || fail "watchdog exit $rc after SIGTERM, expected 10 (fenced)"
[ "$(wc -l < marker)" -eq 1 ] || fail "action ran $(wc -l < marker) times"
grep -q '"event":"watching".*"oom_source":"cgroup-v2 memory.events"' log || fail "not watching memory.events"
[ "$(grep -c '"event":"agent_started"' log)" -eq 1 ] || fail "an OOM-killed agent must never be restarted"
[ "$(grep -c '"event":"agent_oom_killed"' log)" -eq 1 ] || fail "no single agent_oom_killed decision"
grep '"event":"agent_oom_killed"' log | grep -q '"exit":"signal 9' || fail "the agent did not die of SIGKILL"
grep -qE '"oomCount" *: *[1-9]' fence || fail "fence has no oomCount: $(cat fence)"
grep -q "\"bootID\" *: *\"$(cat /proc/sys/kernel/random/boot_id)\"" fence || fail "fence lacks this boot id"
[ -z "$(find $parent -mindepth 1 -type d)" ] || fail "the watchdog left its cgroup behind"
# A second watchdog with the same fence refuses to start the agent.
holdfast-watchdog run --fence fence --state state --cgroup-parent $parent -- touch second-ran 2>log2
rc=$?
[ $rc -eq 10 ] || fail "second watchdog exit $rc, expected 10"
grep -q '"event":"refused_fenced"' log2 || fail "second watchdog did not refuse"
[ ! -e second-ran ] || fail "second agent ran while fenced"
rmdir $parent
echo "VMTEST PASS $name"
