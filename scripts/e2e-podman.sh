#!/usr/bin/env bash
# podman end to end: a real container runtime drives Holdfast through CNI.
#
# podman 4.3 (Debian 12) with the CNI backend runs containers from a tiny local
# busybox image (imported from a tarball, nothing pulled) on a Holdfast network,
# and we check what a user would: distinct addresses from the range, pings,
# `podman inspect` agreeing with the leases, stop/rm/kill/restart leaving
# nothing behind, and a runtime that "forgot" DEL being cleaned up by GC without
# its address ever going to a second live container.
#
# Isolation: podman gets a private config, storage, run and tmp root, and runs
# inside a "node" network namespace of its own (nsenter --net, so mounts stay
# in the host's mount namespace where podman expects them). The plugins podman
# execs therefore create the bridge, set ip_forward and touch nftables in that
# node namespace, never on the host. Everything is named with a per-run id and
# removed by name in the EXIT trap, even on failure.
#
# Exit 0 when every check passed; on failure, prints what was seen.
source "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "e2e-podman.sh must run as root" >&2; exit 1; }
"$HOLDFAST_ROOT/scripts/setup-podman.sh"

for b in holdfast holdfast-ipam ipamctl; do
    if [ ! -x "$HOLDFAST_BIN_DIR/$b" ]; then
        if [ "$HOLDFAST_BIN_DIR" = "$HOLDFAST_ROOT/.build/release" ]; then
            "$HOLDFAST_ROOT/scripts/build.sh"
            break
        fi
        echo "$HOLDFAST_BIN_DIR/$b is missing: run scripts/build.sh" >&2
        exit 1
    fi
done

# ---------------------------------------------------------------- names
id="$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"       # 8 hex digits
net="hfpm-$id"                                           # CNI network name
bridge="hfpm$id"                                         # 12 bytes (<= 15)
node="hfpm-node-$id"                                     # stands in for the host
subnet_octets="$((240 + 0x${id:0:2} % 11)).$((0x${id:2:2}))"
subnet="10.$subnet_octets.0/24"
gateway="10.$subnet_octets.1"
image="localhost/hfpm-busybox:$id"
work="$(mktemp -d /tmp/holdfast-podman.XXXXXX)"
data_dir="$work/ipam"
netconf_dir="$work/net.d"
host_forward_before="$(cat /proc/sys/net/ipv4/ip_forward)"
# podman creates these two host directories on first use; remove them at the
# end only if this run created them and they hold nothing of anyone else.
preexisting_cni_dir=0; [ -e /var/lib/cni ] && preexisting_cni_dir=1
preexisting_containers_dir=0; [ -e /var/lib/containers ] && preexisting_containers_dir=1

mkdir -p "$work"/{root,runroot,tmp,image/bin} "$data_dir" "$netconf_dir"
: >"$work/conmon.pids"; : >"$work/netns.paths"; : >"$work/ids"

# ---------------------------------------------------------------- podman config
cat >"$work/containers.conf" <<EOF
# Private to this test run (CONTAINERS_CONF replaces every other containers.conf).
[containers]
# The hosts allow at most these; podman's defaults exceed them.
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
# busybox ping uses ICMP datagram sockets, as with Debian's stock config.
default_sysctls = ["net.ipv4.ping_group_range=0 0"]

[network]
network_backend = "cni"
cni_plugin_dirs = ["$HOLDFAST_BIN_DIR", "/usr/lib/cni"]
network_config_dir = "$netconf_dir"
default_network = "$net"

[engine]
# Hybrid cgroup v1 hierarchy: crun refuses it, runc works. No systemd/journald.
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$work/events.log"
tmp_dir = "$work/tmp"
EOF
cat >"$work/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$work/root"
runroot = "$work/runroot"
EOF
cat >"$work/policy.json" <<'EOF'
{ "default": [{ "type": "insecureAcceptAnything" }] }
EOF
export CONTAINERS_CONF="$work/containers.conf" CONTAINERS_STORAGE_CONF="$work/storage.conf"
export CONTAINERS_REGISTRIES_CONF="$work/registries.conf"
: >"$CONTAINERS_REGISTRIES_CONF"

# The network: cni/holdfast-podman.conflist with this run's name, bridge,
# subnet and a private dataDir. The file name and "name" define the network.
python3 "$HOLDFAST_ROOT/scripts/podman-conflist.py" "$HOLDFAST_ROOT/cni/holdfast-podman.conflist" \
    "$netconf_dir/$net.conflist" "$net" "$bridge" "$subnet" "$data_dir"

pm() {
    nsenter --net="/run/netns/$node" podman --root "$work/root" --runroot "$work/runroot" \
        --tmpdir "$work/tmp" --network-config-dir "$netconf_dir" \
        --cgroup-manager cgroupfs --events-backend file --runtime runc "$@"
}

# ---------------------------------------------------------------- cleanup
# A pid's start time (field 22 of /proc/PID/stat) so cleanup never kills a
# recycled pid: it kills only the very process this run recorded.
starttime() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null || true; }
cleanup() {
    local rc=$?
    set +e
    if [ "$rc" != 0 ]; then
        log "FAILED: state at exit"
        pm ps -a 2>&1 | sed 's/^/  podman: /' >&2
        "$HOLDFAST_BIN_DIR/ipamctl" leases --data-dir "$data_dir" 2>&1 | sed 's/^/  lease: /' >&2
        ip -n "$node" -br link 2>&1 | sed 's/^/  link: /' >&2
    fi
    pm rm -af -t 0 >/dev/null 2>&1
    pm rmi -af >/dev/null 2>&1
    # Anything podman could not stop: conmon and container processes by pid,
    # only if the pid still runs something of this run's.
    while read -r pid start; do
        [ -n "$pid" ] && [ "$(starttime "$pid")" = "$start" ] && kill -9 "$pid"
    done <"$work/conmon.pids"
    while read -r p; do
        [ -n "$p" ] && [ -e "$p" ] && { umount "$p" 2>/dev/null; rm -f "$p"; }
    done <"$work/netns.paths"
    while read -r cid; do
        [ -n "$cid" ] && rm -f "/var/lib/cni/results/$net-$cid-eth0"
    done <"$work/ids"
    # Mounts podman left under the private root (overlay layers), innermost first.
    awk -v w="$work" 'index($2, w) == 1 {print $2}' /proc/self/mounts | sort -r | xargs -r -n1 umount -l
    ip -n "$node" link del "$bridge" 2>/dev/null
    ip netns del "$node" 2>/dev/null
    python3 "$HOLDFAST_ROOT/scripts/remove-proofs.py" "$data_dir"
    rm -rf "$work"
    if [ "$preexisting_cni_dir" = 0 ]; then rmdir /var/lib/cni/results /var/lib/cni 2>/dev/null; fi
    if [ "$preexisting_containers_dir" = 0 ]; then
        rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb
        rmdir /var/lib/containers/cache /var/lib/containers 2>/dev/null
    fi
    if [ "$(cat /proc/sys/net/ipv4/ip_forward)" != "$host_forward_before" ]; then
        echo "host net.ipv4.ip_forward changed during the run; restoring $host_forward_before" >&2
        echo "$host_forward_before" >/proc/sys/net/ipv4/ip_forward
        rc=1
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- helpers
failures=0
pass() { printf '  ok   %s\n' "$*"; }
fail() { printf '  FAIL %s\n' "$*"; failures=$((failures + 1)); }
check() { # check "description" command...
    local what="$1"; shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}
die() { echo "e2e-podman: $*" >&2; exit 1; }

cname() { echo "hfpm-$id-$1"; }

start() { # start NAME: runs a sleeping container on the network, records what cleanup needs
    local n; n="$(cname "$1")"
    local out
    out="$(pm run -d --name "$n" --network "$net" --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
        "$image" sleep 600 2>&1)" || die "podman run $n failed: $out"
    record "$1"
}
record() { # remember ids, conmon pid and netns path of a running container
    local n; n="$(cname "$1")"
    pm inspect "$n" --format '{{.Id}}' >>"$work/ids"
    local pid
    for pid in $(pm inspect "$n" --format '{{.State.ConmonPid}} {{.State.Pid}}'); do
        echo "$pid $(starttime "$pid")" >>"$work/conmon.pids"
    done
    pm inspect "$n" --format '{{.NetworkSettings.SandboxKey}}' >>"$work/netns.paths"
}
cid() { pm inspect "$(cname "$1")" --format '{{.Id}}'; }
ip_of() { pm inspect "$(cname "$1")" --format "{{(index .NetworkSettings.Networks \"$net\").IPAddress}}"; }
mac_of() { pm inspect "$(cname "$1")" --format "{{(index .NetworkSettings.Networks \"$net\").MacAddress}}"; }
leases_json() { "$HOLDFAST_BIN_DIR/ipamctl" leases --json --data-dir "$data_dir" --network "$net"; }
lease_map() { leases_json | python3 -c 'import json,sys; [print(r["containerID"], r["address"]) for r in json.load(sys.stdin)]' | sort; }
bridge_ports() { ip -n "$node" -o link show master "$bridge" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | sort; }
ping_ok() { pm exec "$(cname "$1")" ping -c 1 -W 2 "$2" >/dev/null 2>&1; }

# The leases must be exactly the running containers of this run, with the
# addresses podman inspect reports, and the bridge must hold exactly their veths.
expect_state() { # expect_state LABEL NAME...
    local label="$1"; shift
    local want="" n
    for n in "$@"; do want+="$(cid "$n") $(ip_of "$n")"$'\n'; done
    want="$(printf '%s' "$want" | sed '/^$/d' | sort)"
    local got; got="$(lease_map)"
    if [ "$got" = "$want" ]; then pass "$label: leases == running containers, addresses as podman inspect shows ($#)"
    else fail "$label: leases differ from podman"; printf '    want:\n%s\n    got:\n%s\n' "$want" "$got"; fi
    local ports; ports="$(bridge_ports | wc -l)"
    if [ "$ports" = "$#" ]; then pass "$label: $# veth(s) on $bridge"
    else fail "$label: $ports veth(s) on $bridge, expected $#"; bridge_ports | sed 's/^/    /'; fi
}

in_subnet() { # in_subnet ADDR: inside the configured /24, not the network, gateway or broadcast
    local a="$1"
    [[ "$a" == 10.$subnet_octets.* ]] && [ "$a" != "$gateway" ] && [ "${a##*.}" -gt 1 ] && [ "${a##*.}" -lt 255 ]
}

# ---------------------------------------------------------------- setup
log "run $id: network $net, bridge $bridge, subnet $subnet, node netns $node"
ip netns add "$node"
ip -n "$node" link set lo up

log "image $image from busybox-static (podman import, nothing pulled)"
cp "$(command -v busybox)" "$work/image/bin/busybox"
for c in sh sleep ping ip cat true hostname; do ln -sf busybox "$work/image/bin/$c"; done
tar -C "$work/image" -cf "$work/image.tar" .
pm import --quiet --signature-policy "$work/policy.json" --change 'CMD ["/bin/sh"]' \
    "$work/image.tar" "$image" >/dev/null || die "podman import failed"
pm network ls --format '{{.Name}} {{.Driver}}' | grep -qx "$net holdfast" || die "podman does not see network $net"

# ---------------------------------------------------------------- checks
log "three containers on $net"
for n in a b c; do start "$n"; done
declare -A addr
for n in a b c; do addr[$n]="$(ip_of "$n")"; done
check "addresses are distinct (${addr[a]} ${addr[b]} ${addr[c]})" \
    test "$(printf '%s\n' "${addr[@]}" | sort -u | wc -l)" = 3
for n in a b c; do
    check "$n: ${addr[$n]} is in $subnet" in_subnet "${addr[$n]}"
    inside="$(pm exec "$(cname "$n")" ip -4 -o addr show dev eth0 | awk '{print $4}')"
    check "$n: eth0 inside the container has ${addr[$n]}/24" test "$inside" = "${addr[$n]}/24"
    check "$n: podman inspect gateway is $gateway" \
        test "$(pm inspect "$(cname "$n")" --format "{{(index .NetworkSettings.Networks \"$net\").Gateway}}")" = "$gateway"
done
lease_macs="$(leases_json | python3 -c 'import json,sys; [print(r["containerID"], r["containerMAC"]) for r in json.load(sys.stdin)]' | sort)"
want_macs="$(for n in a b c; do echo "$(cid "$n") $(mac_of "$n")"; done | sort)"
check "lease MACs match podman inspect" test "$lease_macs" = "$want_macs"
expect_state "after run" a b c

log "pings"
for s in a b c; do
    for d in a b c; do
        [ "$s" = "$d" ] && continue
        check "$s -> $d (${addr[$d]})" ping_ok "$s" "${addr[$d]}"
    done
    check "$s -> gateway $gateway" ping_ok "$s" "$gateway"
done

log "podman restart"
pm restart -t 0 "$(cname b)" >/dev/null || die "podman restart failed"
record b
addr[b]="$(ip_of b)"
check "b is running after restart" test "$(pm inspect "$(cname b)" --format '{{.State.Running}}')" = true
check "b after restart has an address in the range (${addr[b]})" in_subnet "${addr[b]}"
check "b -> a after restart" ping_ok b "${addr[a]}"
check "a -> b after restart" ping_ok a "${addr[b]}"
check "b -> gateway after restart" ping_ok b "$gateway"
expect_state "after restart" a b c

log "podman stop + rm"
c_id="$(cid c)"
c_veth="$(leases_json | python3 -c "import json,sys; print([r['hostInterface'] for r in json.load(sys.stdin) if r['containerID']=='$c_id'][0])")"
pm stop -t 0 "$(cname c)" >/dev/null || die "podman stop failed"
check "stopped c has no lease" test -z "$(lease_map | grep "^$c_id " || true)"
check "stopped c's veth $c_veth is gone" test -z "$(ip -n "$node" -o link show "$c_veth" 2>/dev/null)"
pm rm "$(cname c)" >/dev/null || die "podman rm failed"
expect_state "after stop+rm" a b

log "podman kill + rm"
start d
d_id="$(cid d)"; d_netns="$(pm inspect "$(cname d)" --format '{{.NetworkSettings.SandboxKey}}')"
expect_state "before kill" a b d
pm kill "$(cname d)" >/dev/null || die "podman kill failed"
# conmon runs `podman container cleanup` (CNI DEL) asynchronously after the kill.
for _ in $(seq 50); do
    [ "$(pm inspect "$(cname d)" --format '{{.State.Status}}')" = exited ] && [ -z "$(lease_map | grep "^$d_id " || true)" ] && break
    sleep 0.2
done
pm rm "$(cname d)" >/dev/null || die "podman rm after kill failed"
expect_state "after kill+rm" a b
check "killed d's netns $d_netns is gone" test ! -e "$d_netns"
check "killed d left no CNI result cache" test ! -e "/var/lib/cni/results/$net-$d_id-eth0"

log "a runtime that forgets DEL: e's processes and netns vanish without CNI DEL"
start e; start f
e_id="$(cid e)"; e_addr="$(ip_of e)"
e_netns="$(pm inspect "$(cname e)" --format '{{.NetworkSettings.SandboxKey}}')"
e_conmon="$(pm inspect "$(cname e)" --format '{{.State.ConmonPid}}')"
e_pid="$(pm inspect "$(cname e)" --format '{{.State.Pid}}')"
# The runtime's inventory, taken while it is still sane (podman itself cannot
# list containers once a running one has lost its netns).
live_names=(a b f)
declare -A live_addr
for n in "${live_names[@]}"; do live_addr[$n]="$(ip_of "$n")"; done
valid="$(for n in "${live_names[@]}"; do cid "$n"; done)"
expect_state "before the lost DEL" a b e f
kill -9 "$e_conmon" "$e_pid"
for _ in $(seq 50); do [ -e "/proc/$e_pid" ] || break; sleep 0.1; done
umount "$e_netns" && rm -f "$e_netns"
for _ in $(seq 200); do [ "$(bridge_ports | wc -l)" = 3 ] && break; sleep 0.1; done
check "e's veth went with its netns" test "$(bridge_ports | wc -l)" = 3
check "e's lease ($e_addr) is still held: nobody called DEL" test -n "$(lease_map | grep "^$e_id " || true)"

gc() { # gc VALID_IDS...: CNI GC as a 1.1.0 runtime sends it, derived from the conflist
    local conf
    conf="$(python3 - "$netconf_dir/$net.conflist" "$@" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
p = dict(c["plugins"][0], name=c["name"], cniVersion="1.1.0")
p["cni.dev/valid-attachments"] = [{"containerID": i, "ifname": "eth0"} for i in sys.argv[2:]]
print(json.dumps(p))
PY
)"
    printf '%s' "$conf" | nsenter --net="/run/netns/$node" env -i PATH="$PATH" CNI_COMMAND=GC \
        CNI_PATH="$HOLDFAST_BIN_DIR:/usr/lib/cni" "$HOLDFAST_BIN_DIR/holdfast"
}
before_gc="$(lease_map)"
if out="$(gc 2>&1)"; then fail "GC with an empty valid-attachments list was accepted: $out"
else pass "GC with an empty valid-attachments list is refused"; fi
check "the refused GC released nothing" test "$(lease_map)" = "$before_gc"
# shellcheck disable=SC2086
if out="$(gc $valid 2>&1)"; then pass "GC listing a, b, f succeeded"
else fail "GC failed: $out"; fi
check "GC released e's lease ($e_addr)" test -z "$(lease_map | grep "^$e_id " || true)"
for n in "${live_names[@]}"; do
    check "GC kept $n's lease (${live_addr[$n]})" test -n "$(lease_map | grep "^$(cid "$n") ${live_addr[$n]}$" || true)"
done

log "new containers never get an address a live container holds"
start g; start h
for n in g h; do
    a_n="$(ip_of "$n")"
    held=0
    for l in "${live_names[@]}"; do [ "${live_addr[$l]}" = "$a_n" ] && held=1; done
    check "$n got $a_n, not held by a live container" test "$held" = 0
    check "$n -> a" ping_ok "$n" "${live_addr[a]}"
done
check "g and h differ" test "$(ip_of g)" != "$(ip_of h)"
# Let podman clean up e as it would after a reboot: give it back a (fresh) netns
# at the recorded path so it can sync, then rm -f. Its late DEL must not touch
# the leases of the containers that are alive.
ip netns add "$(basename "$e_netns")"
pm rm -f -t 0 "$(cname e)" >/dev/null 2>&1 || fail "podman rm -f of the forgotten container failed"
expect_state "after the forgotten container is removed" a b f g h

log "remove everything"
pm rm -af -t 0 >/dev/null || die "podman rm -a failed"
check "no leases left" test -z "$(lease_map)"
check "no veth left on $bridge" test "$(bridge_ports | wc -l)" = 0
left=0; while read -r p; do [ -n "$p" ] && [ -e "$p" ] && left=$((left + 1)); done <"$work/netns.paths"
check "no container netns left in /run/netns" test "$left" = 0
left=0; while read -r c; do [ -e "/var/lib/cni/results/$net-$c-eth0" ] && left=$((left + 1)); done <"$work/ids"
check "no CNI result cache left" test "$left" = 0
check "host net.ipv4.ip_forward untouched ($host_forward_before)" \
    test "$(cat /proc/sys/net/ipv4/ip_forward)" = "$host_forward_before"

if [ "$failures" -gt 0 ]; then
    echo "e2e-podman: $failures check(s) failed" >&2
    exit 1
fi
log "podman e2e passed"
