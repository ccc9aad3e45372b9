"""The holdfast bridge plugin, exec'd for real, with containers in network namespaces.

Each test gets its own "node" namespace standing in for the host (the plugin runs
there), so the bridge, the nftables table and forwarding sysctls disappear with it.
"""
import concurrent.futures
import json
import subprocess

import pytest

from cnitool import Netns, binary, leases, run_plugin, sh, unique

VERSION = "1.1.0"


def bridge_conf(data_dir, bridge=None, ranges=None, version=VERSION, **extra):
    conf = {"cniVersion": version, "name": unique("net"), "type": "holdfast",
            "bridge": bridge or unique("hfbr"), "isGateway": True,
            "ipam": {"type": "holdfast-ipam", "dataDir": str(data_dir),
                     "ranges": ranges or [[{"subnet": "10.90.0.0/24"}]]}}
    conf.update(extra)
    return conf


def hf(command, conf, ctr, node, ifname="eth0", **kw):
    return run_plugin(binary("holdfast"), command, conf, container_id=ctr.name if ctr else "gone",
                      ifname=ifname, netns=ctr.path if ctr else None, node=node.name, **kw)


def addr_of(result, family=4):
    for ip in result.json["ips"]:
        a = ip["address"].split("/")[0]
        if (":" in a) == (family == 6):
            return a
    raise AssertionError(f"no IPv{family} address in {result.json}")


def ping(src, dst, count=1):
    cmd = ["ping", "-c", str(count), "-W", "2"] + (["-6"] if ":" in dst else []) + [dst]
    return src.exec(*cmd, check=False, timeout=20).returncode == 0


def links(node):
    return json.loads(node.exec("ip", "-j", "link", "show").stdout)


def veths(node):
    return [l["ifname"] for l in links(node) if l["ifname"].startswith("hf") and l.get("link_type") == "ether"
            and l["ifname"] not in ("lo",) and "master" in l]


def test_two_containers_ping_each_other_and_gateway(data_dir, node, containers):
    a, b = containers(2)
    conf = bridge_conf(data_dir)
    ra, rb = hf("ADD", conf, a, node), hf("ADD", conf, b, node)
    assert ra.ok and rb.ok, (ra, rb)
    res = ra.json
    assert [i["name"] for i in res["interfaces"]][0] == conf["bridge"]
    assert res["interfaces"][2] == {"name": "eth0", "mac": res["interfaces"][2]["mac"], "sandbox": a.path}
    assert res["ips"][0]["interface"] == 2 and res["ips"][0]["gateway"] == "10.90.0.1"
    assert addr_of(ra) != addr_of(rb)
    assert ping(a, addr_of(rb), 2) and ping(b, addr_of(ra), 2)
    assert ping(a, "10.90.0.1") and ping(b, "10.90.0.1")
    # The lease records the veth, its MAC and the netns.
    rows = {r["containerID"]: r for r in leases(data_dir, conf["name"])}
    assert rows[a.name]["hostInterface"] == res["interfaces"][1]["name"]
    assert rows[a.name]["containerMAC"] == res["interfaces"][2]["mac"]
    assert rows[a.name]["netns"] == a.path


def test_ipv6_and_dual_stack(data_dir, node, containers):
    a, b = containers(2)
    conf = bridge_conf(data_dir, ranges=[[{"subnet": "10.91.0.0/24"}], [{"subnet": "fd00:91::/64"}]])
    ra, rb = hf("ADD", conf, a, node), hf("ADD", conf, b, node)
    assert ra.ok and rb.ok, (ra, rb)
    assert len(ra.json["ips"]) == 2
    assert ping(a, addr_of(rb, 6), 2), "IPv6 between containers"
    assert ping(a, "fd00:91::1"), "IPv6 gateway"
    assert ping(a, addr_of(rb, 4))
    v6only = bridge_conf(data_dir, ranges=[[{"subnet": "fd00:92::/120"}]])
    c = containers()
    rc = hf("ADD", v6only, c, node)
    assert rc.ok, rc
    assert ping(c, "fd00:92::1")


def test_del_is_idempotent_and_cleans_everything(data_dir, node, containers):
    a = containers()
    conf = bridge_conf(data_dir, ipMasq=True)
    add = hf("ADD", conf, a, node)
    assert add.ok, add
    host_veth = add.json["interfaces"][1]["name"]
    ruleset = node.exec("nft", "list", "ruleset").stdout
    assert addr_of(add) in ruleset
    for _ in range(2):
        r = hf("DEL", conf, a, node)
        assert r.ok, r
    assert host_veth not in [l["ifname"] for l in links(node)]
    assert addr_of(add) not in node.exec("nft", "list", "ruleset").stdout
    assert leases(data_dir, conf["name"]) == []
    assert hf("DEL", conf, None, node, ifname="eth9").ok, "DEL of an unknown container"


def masquerade_rules(node):
    return [l.strip() for l in node.exec("nft", "list", "ruleset").stdout.splitlines() if l.strip().endswith("masquerade")]


def test_masquerade_rules_are_made_once_and_remade_for_new_subnets(data_dir, node, containers):
    """ADDs after the first only add set elements; the chain keeps exactly two
    rules, and a changed subnet (same network name) gets rules for itself."""
    a, b, c = containers(3)
    conf = bridge_conf(data_dir, ipMasq=True)
    ra, rb = hf("ADD", conf, a, node), hf("ADD", conf, b, node)
    assert ra.ok and rb.ok, (ra, rb)
    rules = masquerade_rules(node)
    assert len(rules) == 2 and any("10.90.0.0/24" in r for r in rules), rules
    ruleset = node.exec("nft", "list", "ruleset").stdout
    assert addr_of(ra) in ruleset and addr_of(rb) in ruleset
    moved = dict(conf, ipam=dict(conf["ipam"], ranges=[[{"subnet": "10.91.0.0/24"}]]))
    rc = hf("ADD", moved, c, node)
    assert rc.ok, rc
    rules = masquerade_rules(node)
    assert len(rules) == 2 and any("10.91.0.0/24" in r for r in rules), rules
    assert not any("10.90.0.0/24" in r for r in rules), rules
    ruleset = node.exec("nft", "list", "ruleset").stdout
    assert all(addr_of(r) in ruleset for r in (ra, rb, rc)), "existing members must stay"
    # Back to the first subnets: the rules follow again (the marker is not stale).
    d = containers()
    rd = hf("ADD", conf, d, node)
    assert rd.ok, rd
    rules = masquerade_rules(node)
    assert len(rules) == 2 and any("10.90.0.0/24" in r for r in rules), rules


def test_del_after_netns_deleted(data_dir, node, containers):
    a = containers()
    conf = bridge_conf(data_dir, ipMasq=True)
    add = hf("ADD", conf, a, node)
    assert add.ok, add
    a.delete()
    r = hf("DEL", conf, a, node)
    assert r.ok, r
    assert add.json["interfaces"][1]["name"] not in [l["ifname"] for l in links(node)]
    assert addr_of(add) not in node.exec("nft", "list", "ruleset").stdout
    assert leases(data_dir, conf["name"]) == []


def test_retried_add_rebuilds_and_keeps_the_address(data_dir, node, containers):
    a = containers()
    conf = bridge_conf(data_dir)
    first = hf("ADD", conf, a, node)
    assert first.ok, first
    second = hf("ADD", conf, a, node)
    assert second.ok, second
    assert addr_of(first) == addr_of(second)
    assert len(leases(data_dir, conf["name"])) == 1
    assert ping(a, "10.90.0.1")


def test_check(data_dir, node, containers):
    a = containers()
    conf = bridge_conf(data_dir)
    add = hf("ADD", conf, a, node)
    assert add.ok
    check_conf = dict(conf, prevResult=add.json)
    r = hf("CHECK", check_conf, a, node)
    assert r.ok, r
    a.exec("ip", "addr", "del", add.json["ips"][0]["address"], "dev", "eth0")
    r = hf("CHECK", check_conf, a, node)
    assert not r.ok and "missing" in r.json["details"] + r.json["msg"], r


def test_default_gateway_and_mtu(data_dir, node, containers):
    a = containers()
    conf = bridge_conf(data_dir, isDefaultGateway=True, mtu=1400)
    add = hf("ADD", conf, a, node)
    assert add.ok, add
    routes = json.loads(a.exec("ip", "-j", "route", "show").stdout)
    assert any(r["dst"] == "default" and r.get("gateway") == "10.90.0.1" for r in routes), routes
    assert {"dst": "0.0.0.0/0", "gw": "10.90.0.1"} in add.json["routes"]
    assert json.loads(a.exec("ip", "-j", "link", "show", "eth0").stdout)[0]["mtu"] == 1400
    host = json.loads(node.exec("ip", "-j", "link", "show", add.json["interfaces"][1]["name"]).stdout)[0]
    assert host["mtu"] == 1400


def test_failure_mid_add_leaves_nothing(data_dir, node, containers):
    a, b = containers(2)
    conf = bridge_conf(data_dir)
    # A container that already has eth0 (not ours): ADD must fail and leave no veth/lease.
    b.exec("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0p")
    r = hf("ADD", conf, b, node)
    assert not r.ok and r.json, r
    # Only the shared bridge may remain (the reference plugin keeps it too).
    assert [l["ifname"] for l in links(node)] == ["lo", conf["bridge"]]
    assert leases(data_dir, conf["name"]) == [] if (data_dir / conf["name"]).exists() else True
    # An exhausted pool fails after the veth exists: rollback removes it.
    small = bridge_conf(data_dir, ranges=[[{"subnet": "10.93.0.0/30"}]])
    assert hf("ADD", small, a, node).ok
    c = containers()
    before = [l["ifname"] for l in links(node)]
    r = hf("ADD", small, c, node)
    assert not r.ok and r.json["code"] == 11, r
    assert [l["ifname"] for l in links(node)] == before
    assert json.loads(c.exec("ip", "-j", "link", "show").stdout)[0]["ifname"] == "lo"
    assert len(json.loads(c.exec("ip", "-j", "link", "show").stdout)) == 1
    assert [l["containerID"] for l in leases(data_dir, small["name"])] == [a.name]


def test_address_taken_on_the_bridge_is_never_given(data_dir, node, containers):
    conf = bridge_conf(data_dir, ranges=[[{"subnet": "10.94.0.0/29"}]])
    a = containers()
    assert hf("ADD", conf, a, node).ok   # creates the bridge, gets .2
    node.exec("ip", "addr", "add", "10.94.0.3/29", "dev", conf["bridge"])
    b = containers()
    rb = hf("ADD", conf, b, node)
    assert rb.ok and addr_of(rb) not in ("10.94.0.2", "10.94.0.3"), rb


BAD = [
    ("netns is a file", {}, "/etc/hostname", 4),
    ("netns is a dir", {}, "/tmp", 4),
    ("long ifname", {"ifname": "x" * 16}, None, 4),
    ("bad bridge name", {"bridge": "a/b"}, None, 7),
    ("long bridge name", {"bridge": "b" * 16}, None, 7),
    ("vlan out of range", {"vlan": 5000}, None, 7),
    ("mtu out of range", {"mtu": 10}, None, 7),
]


@pytest.mark.parametrize("label,change,netns,code", BAD, ids=[b[0] for b in BAD])
def test_bad_input(data_dir, node, containers, label, change, netns, code):
    a = containers()
    conf = bridge_conf(data_dir)
    ifname = change.pop("ifname", "eth0")
    conf.update(change)
    before = [l["ifname"] for l in links(node)]
    r = run_plugin(binary("holdfast"), "ADD", conf, container_id="bad1", ifname=ifname,
                   netns=netns or a.path, node=node.name)
    assert r.rc != 0 and r.json and r.json["code"] == code, r
    assert [l["ifname"] for l in links(node)] == before
    assert not (data_dir / conf["name"]).exists() or leases(data_dir, conf["name"]) == []


def test_32_parallel_adds_all_reachable(data_dir, node, containers):
    ctrs = containers(32)
    conf = bridge_conf(data_dir, ranges=[[{"subnet": "10.95.0.0/24"}]])
    # Create the bridge first so the parallel ADDs race only on leases and veths.
    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        results = list(pool.map(lambda c: hf("ADD", conf, c, node), ctrs))
    assert all(r.ok for r in results), [r for r in results if not r.ok][:2]
    addrs = [addr_of(r) for r in results]
    assert len(set(addrs)) == 32
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        reach = list(pool.map(lambda a: node.exec("ping", "-c", "1", "-W", "2", a, check=False).returncode == 0, addrs))
    assert all(reach), [a for a, ok in zip(addrs, reach) if not ok]
    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        dels = list(pool.map(lambda c: hf("DEL", conf, c, node), ctrs))
    assert all(r.ok for r in dels)
    assert leases(data_dir, conf["name"]) == []


def test_macspoofchk_drops_spoofed_frames(data_dir, node, containers):
    a, b = containers(2)
    conf = bridge_conf(data_dir, macspoofchk=True)
    ra, rb = hf("ADD", conf, a, node), hf("ADD", conf, b, node)
    assert ra.ok and rb.ok, (ra, rb)
    assert ping(a, addr_of(rb))
    # Spoof a's MAC: its frames must no longer cross the bridge.
    a.exec("ip", "link", "set", "eth0", "address", "02:00:00:00:be:ef")
    a.exec("ip", "neigh", "flush", "all")
    b.exec("ip", "neigh", "flush", "all")
    assert not ping(a, addr_of(rb)), "spoofed MAC got through"
    a.exec("ip", "link", "set", "eth0", "address", ra.json["interfaces"][2]["mac"])
    assert ping(a, addr_of(rb)), "the real MAC must work again"
    assert hf("DEL", conf, a, node).ok
    ruleset = node.exec("nft", "list", "ruleset").stdout
    assert ra.json["interfaces"][1]["name"] not in ruleset
    assert rb.json["interfaces"][1]["name"] in ruleset


def test_gc_and_status(data_dir, node, containers):
    ctrs = containers(3)
    conf = bridge_conf(data_dir, ipMasq=True)
    results = [hf("ADD", conf, c, node) for c in ctrs]
    assert all(r.ok for r in results), results
    status = run_plugin(binary("holdfast"), "STATUS", conf, node=node.name)
    assert status.ok, status
    # The runtime lists two of three as valid: GC removes the third's lease, veth and rules.
    valid = [{"containerID": c.name, "ifname": "eth0"} for c in ctrs[:2]]
    gc = run_plugin(binary("holdfast"), "GC", dict(conf, **{"cni.dev/valid-attachments": valid}), node=node.name)
    assert gc.ok, gc
    assert sorted(l["containerID"] for l in leases(data_dir, conf["name"])) == sorted(c.name for c in ctrs[:2])
    names = [l["ifname"] for l in links(node)]
    assert results[2].json["interfaces"][1]["name"] not in names
    assert results[0].json["interfaces"][1]["name"] in names
    assert addr_of(results[2]) not in node.exec("nft", "list", "ruleset").stdout
    # An empty list is refused: nothing is released.
    gc = run_plugin(binary("holdfast"), "GC", dict(conf, **{"cni.dev/valid-attachments": []}), node=node.name)
    assert not gc.ok and gc.json["code"] == 103, gc
    assert len(leases(data_dir, conf["name"])) == 2
    assert ping(ctrs[0], addr_of(results[1]))


def test_del_with_a_corrupt_store_still_removes_the_veth(data_dir, node, containers):
    a = containers()
    conf = bridge_conf(data_dir)
    add = hf("ADD", conf, a, node)
    assert add.ok, add
    db = data_dir / conf["name"] / "leases.db"
    for extra in ("leases.db-wal", "leases.db-shm"):
        (db.parent / extra).unlink(missing_ok=True)
    db.write_bytes(b"garbage" * 1000)
    r = hf("DEL", conf, a, node)
    assert not r.ok and r.json["code"] == 101, r
    assert add.json["interfaces"][1]["name"] not in [l["ifname"] for l in links(node)]
    assert db.read_bytes() == b"garbage" * 1000


def test_add_refuses_an_interface_that_already_exists_in_the_netns(data_dir, node, containers):
    """ADD no longer looks for CNI_IFNAME in the netns up front; the kernel's EEXIST
    for the veth peer is what finds a foreign interface of that name."""
    c = containers()
    c.exec("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "foreign0")
    conf = bridge_conf(data_dir)
    r = hf("ADD", conf, c, node)
    assert not r.ok and "already exists" in r.json["msg"], r
    assert veths(node) == []
    if (data_dir / conf["name"] / "leases.db").exists():
        assert leases(data_dir, conf["name"]) == []
    # The foreign interface is left alone, and a DEL of the failed attachment succeeds.
    peer = json.loads(c.exec("ip", "-j", "link", "show", "eth0").stdout)[0]
    assert peer.get("link") == "foreign0" or peer["ifname"] == "eth0"
    assert hf("DEL", conf, c, node).ok
    assert [l["ifname"] for l in json.loads(c.exec("ip", "-j", "link", "show").stdout)].count("eth0") == 1
