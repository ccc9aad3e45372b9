# holdfast-ipam under the reference ipvlan plugin (L2, a veth as master), on a
# kernel that has ipvlan (the host kernel of the pytest lane does not): the
# same steps as Tests/integration/test_main_plugins.py. 10 containers; then in
# turn the store is deleted, emptied, and replaced by a backup taken when 3
# ran; after each, 10 more ADDs. None may return a live address, and the
# originals keep theirs.
name=ipvlan-ipam
n=0
cleanup() {
    i=1; while [ $i -le 40 ]; do ip netns del hfiv$i 2>/dev/null; i=$((i + 1)); done
    ip link del hfivm0 2>/dev/null
}
fail() { echo "VMTEST FAIL $name: $*"; cleanup; exit 1; }
data=$VMTEST_WORK/data
net=ivnet
conf='{"cniVersion":"1.0.0","name":"'$net'","type":"ipvlan","master":"hfivm0","mode":"l2",
 "ipam":{"type":"holdfast-ipam","dataDir":"'$data'","quarantineSeconds":0,"ranges":[[{"subnet":"10.78.0.0/24"}]]}}'
addr() { ip -n "$1" -4 -o addr show dev eth0 | sed -n 's/.* inet \([0-9.]*\)\/.*/\1/p'; }
live=""
add() {  # add N: a new container hfivN, ADD through ipvlan, its address appended to $live
    ip netns add hfiv$1 || fail "ip netns add hfiv$1"
    echo "$conf" | CNI_COMMAND=ADD CNI_CONTAINERID=hfiv$1 CNI_NETNS=/run/netns/hfiv$1 CNI_IFNAME=eth0 \
        CNI_PATH=/opt/holdfast/bin:/usr/lib/cni /usr/lib/cni/ipvlan > "$VMTEST_WORK/$1.json" \
        || fail "ADD hfiv$1: $(cat "$VMTEST_WORK/$1.json")"
    a=$(addr hfiv$1)
    [ -n "$a" ] || fail "hfiv$1 has no address: $(cat "$VMTEST_WORK/$1.json")"
    for x in $live; do [ "$x" != "$a" ] || fail "ADD hfiv$1 ($2) returned $a, live on a running container"; done
    live="$live $a"
}
ip link add hfivm0 type veth peer name hfivm0p || fail "veth master"
ip link set hfivm0 up && ip link set hfivm0p up
while [ $n -lt 10 ]; do
    n=$((n + 1)); add $n start
    [ $n -eq 3 ] && { ipamctl backup --data-dir "$data" --network $net --output "$VMTEST_WORK/three.db" >/dev/null \
        || fail "backup at 3"; }
done
originals=$(i=1; while [ $i -le 10 ]; do printf '%s ' "$(addr hfiv$i)"; i=$((i + 1)); done)
for damage in deleted emptied old-backup; do
    case $damage in
        deleted) rm -rf "$data/$net" ;;
        emptied) rm -f "$data/$net/leases.db-wal" "$data/$net/leases.db-shm"; : > "$data/$net/leases.db" ;;
        old-backup) rm -f "$data/$net/leases.db-wal" "$data/$net/leases.db-shm"
                    cp "$VMTEST_WORK/three.db" "$data/$net/leases.db" ;;
    esac
    k=0; while [ $k -lt 10 ]; do n=$((n + 1)); k=$((k + 1)); add $n $damage; done
    now=$(i=1; while [ $i -le 10 ]; do printf '%s ' "$(addr hfiv$i)"; i=$((i + 1)); done)
    [ "$now" = "$originals" ] || fail "after $damage the originals changed: $originals -> $now"
done
echo "VMTEST INFO ipvlan: 40 ADDs, 30 after store damage, no live address handed out"
cleanup
echo "VMTEST PASS $name"
