#!/usr/bin/env bash
# The main job: two "containers" (network namespaces) on a Holdfast bridge,
# pinging each other and their gateway, then the leases as ipamctl shows them.
#
# The plugin runs inside a namespace of its own ("the node") so the demo leaves
# the real host untouched: its bridge, nftables table and forwarding sysctl all
# live there, and everything is removed by name at the end.
#
#   scripts/demo.sh [--bin-dir DIR]
# --bin-dir runs the plugins already in DIR (e.g. /usr/lib/cni, from the Debian
# package) instead of building; ipamctl is DIR/ipamctl, else the one on PATH.
source "$(dirname "$0")/lib.sh"
bin_dir=""
while [ $# -gt 0 ]; do
    case "$1" in
        --bin-dir) bin_dir="$2"; shift 2 ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "unknown option: $1" >&2; exit 2 ;;
    esac
done
"$HOLDFAST_ROOT/scripts/setup.sh"
if [ -n "$bin_dir" ]; then HOLDFAST_BIN_DIR="$bin_dir"; else "$HOLDFAST_ROOT/scripts/build.sh"; fi
ipamctl="$HOLDFAST_BIN_DIR/ipamctl"
[ -x "$ipamctl" ] || ipamctl="$(command -v ipamctl)" || { echo "no ipamctl in $HOLDFAST_BIN_DIR or on PATH" >&2; exit 1; }

suffix="$$"
node="hfdemo-node-$suffix"
ctrs=("hfdemo-a-$suffix" "hfdemo-b-$suffix")
data_dir="$(mktemp -d /tmp/holdfast-demo.XXXXXX)"
conf="$HOLDFAST_ROOT/cni/holdfast-demo.conflist"

cleanup() {
    for c in "${ctrs[@]}"; do ip netns del "$c" 2>/dev/null || true; done
    ip netns del "$node" 2>/dev/null || true
    python3 "$HOLDFAST_ROOT/scripts/remove-proofs.py" "$data_dir"
    rm -rf "$data_dir"
}
trap cleanup EXIT

# The plugin's own config: the conflist's first plugin, plus name and cniVersion
# (what a runtime derives), with the demo's private dataDir.
plugin_conf=$(python3 - "$conf" "$data_dir" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
p = dict(c["plugins"][0], name=c["name"], cniVersion=c["cniVersion"])
p["ipam"]["dataDir"] = sys.argv[2]
print(json.dumps(p))
PY
)

cni() { # cni COMMAND CONTAINER
    ip netns exec "$node" env CNI_COMMAND="$1" CNI_CONTAINERID="$2" CNI_NETNS="/var/run/netns/$2" \
        CNI_IFNAME=eth0 CNI_PATH="$HOLDFAST_BIN_DIR" "$HOLDFAST_BIN_DIR/holdfast" <<<"$plugin_conf"
}

ip netns add "$node"
ip -n "$node" link set lo up
for c in "${ctrs[@]}"; do
    ip netns add "$c"
    log "ADD $c"
    cni ADD "$c" | python3 -m json.tool
done

addr() { ip -n "$1" -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1; }
a_ip=$(addr "${ctrs[0]}"); b_ip=$(addr "${ctrs[1]}")
gw=$(ip -n "$node" -4 -o addr show dev hfdemo0 | awk '{print $4}' | cut -d/ -f1)
log "ping ${ctrs[0]} ($a_ip) -> ${ctrs[1]} ($b_ip)"
ip netns exec "${ctrs[0]}" ping -c 3 -W 2 "$b_ip"
log "ping ${ctrs[1]} ($b_ip) -> gateway ($gw)"
ip netns exec "${ctrs[1]}" ping -c 3 -W 2 "$gw"

log "ipamctl leases"
"$ipamctl" leases --data-dir "$data_dir"
log "ipamctl pools"
"$ipamctl" pools --data-dir "$data_dir"

for c in "${ctrs[@]}"; do log "DEL $c"; cni DEL "$c"; done
log "leases after DEL (none expected)"
"$ipamctl" leases --data-dir "$data_dir"
log "demo finished"
