# A plugin smoke test on the guest kernel: two containers (network namespaces)
# on a Holdfast bridge; ADD, ping each other and the gateway; the lease store
# is wiped while they run, and the next ADD must adopt both live addresses and
# hand out neither; DEL of all three leaves no veth, no lease, no netns.
name=bridge-smoke
fail() { echo "VMTEST FAIL $name: $*"; cleanup; exit 1; }
cleanup() { for n in vma vmb vmc; do ip netns del $n 2>/dev/null; done; ip link del hfvmbr0 2>/dev/null; }
data=$VMTEST_WORK/data
conf='{"cniVersion":"1.1.0","name":"vmnet","type":"holdfast","bridge":"hfvmbr0","isGateway":true,
 "ipam":{"type":"holdfast-ipam","dataDir":"'$data'","ranges":[[{"subnet":"10.77.0.0/24"}]]}}'
cni() {  # cni VERB CONTAINER: runs the plugin, result JSON in $VMTEST_WORK/CONTAINER.VERB.json
    echo "$conf" | CNI_COMMAND=$1 CNI_CONTAINERID=$2 CNI_NETNS=/run/netns/$2 CNI_IFNAME=eth0 \
        CNI_PATH=/opt/holdfast/bin:/usr/lib/cni holdfast > "$VMTEST_WORK/$2.$1.json"
}
addr() { ip -n "$1" -4 -o addr show dev eth0 | sed -n 's/.* inet \([0-9.]*\)\/.*/\1/p'; }
for n in vma vmb vmc; do ip netns add $n || fail "ip netns add $n"; done
cni ADD vma || fail "ADD vma: $(cat vma.ADD.json)"
cni ADD vmb || fail "ADD vmb: $(cat vmb.ADD.json)"
a=$(addr vma); b=$(addr vmb)
[ -n "$a" ] && [ -n "$b" ] && [ "$a" != "$b" ] || fail "addresses a=$a b=$b"
grep -q "\"$a/24\"" vma.ADD.json || fail "result does not carry $a: $(cat vma.ADD.json)"
ip netns exec vma ping -c 1 -W 3 "$b" >/dev/null || fail "vma cannot ping vmb ($b)"
ip netns exec vmb ping -c 1 -W 3 10.77.0.1 >/dev/null || fail "vmb cannot ping the gateway"
# Wipe the store while both containers run: the next ADD must adopt their
# addresses from the kernel and hand out a third one.
rm -rf "$data"
cni ADD vmc || fail "ADD vmc after the wipe: $(cat vmc.ADD.json)"
c=$(addr vmc)
[ -n "$c" ] || fail "vmc has no address"
[ "$c" != "$a" ] && [ "$c" != "$b" ] || fail "ADD after a wiped store reused live address $c"
held=$(ipamctl leases --data-dir "$data" --json)
for x in "$a" "$b" "$c"; do
    echo "$held" | grep -q "\"$x\"" || fail "live address $x not in the store after the wipe: $held"
done
ip netns exec vmc ping -c 1 -W 3 "$a" >/dev/null || fail "vmc cannot ping vma"
for n in vma vmb vmc; do cni DEL $n || fail "DEL $n: $(cat $n.DEL.json)"; done
cni DEL vma || fail "a repeated DEL failed"
left=$(ip -o link show | grep -E ': hf[^:]*@' || true)
[ -z "$left" ] || fail "veths left behind: $left"
held=$(ipamctl leases --data-dir "$data" --json | tr -d ' \n')
[ "$held" = "[]" ] || fail "leases left behind: $held"
for n in vma vmb vmc; do ip netns del $n; done
ip link del hfvmbr0
echo "VMTEST PASS $name"
