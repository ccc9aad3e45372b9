"""DEL retires the veth pair at once and a detached child deletes it (issue 13).

At no moment may a retired pair be a bridge port, carry an address, or hold
the attachment's names; the next ADD of the same attachment must succeed at
once; a retired pair left by a killed reaper is removed by GC.
"""
import json
import os
import time

from cnitool import binary, run_plugin, unique
from test_bridge_plugin import addr_of, bridge_conf, hf, links, ping

RETIRED = "holdfast retired"


def addresses(ns):
    return json.loads(ns.exec("ip", "-j", "addr", "show").stdout)


def assert_inert(node, ctr, bridge, host_veth):
    """Whatever of the pair is still there is down, off the bridge, renamed and address-less."""
    for link in links(node):
        assert link["ifname"] != host_veth, f"the attachment's host name is still taken: {link}"
        if link.get("ifalias") == RETIRED:
            assert link.get("master") != bridge, f"a retired end is still a bridge port: {link}"
            assert "UP" not in link["flags"], f"a retired end is up: {link}"
    if os.path.exists(ctr.path):
        for link in addresses(ctr):
            if link["ifname"] == "lo":
                continue
            assert link["ifname"] != "eth0", f"the attachment's ifname is still taken: {link}"
            assert link.get("addr_info", []) == [], f"a retired end carries an address: {link}"


def retired_links(ns):
    return [l["ifname"] for l in links(ns) if l.get("ifalias") == RETIRED]


def wait_until(predicate, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_del_leaves_only_an_inert_pair_that_the_reaper_deletes(data_dir, node, containers):
    a, b = containers(2)
    conf = bridge_conf(data_dir, ranges=[[{"subnet": "10.93.0.0/24"}]])
    add, other = hf("ADD", conf, a, node), hf("ADD", conf, b, node)
    assert add.ok and other.ok, (add, other)
    host_veth = add.json["interfaces"][1]["name"]
    r = hf("DEL", conf, a, node)
    assert r.ok, r
    assert_inert(node, a, conf["bridge"], host_veth)
    assert wait_until(lambda: retired_links(node) == [] and retired_links(a) == []), \
        f"retired pairs still there: node {retired_links(node)}, container {retired_links(a)}"
    assert [l["ifname"] for l in links(a)] == ["lo"]
    assert ping(b, "10.93.0.1"), "the remaining container keeps its network"


def test_the_same_attachment_can_be_added_again_right_after_del(data_dir, node, containers):
    a = containers()
    conf = bridge_conf(data_dir, ranges=[[{"subnet": "10.94.0.0/24"}]], ipMasq=True)
    for round_ in range(5):
        add = hf("ADD", conf, a, node)
        assert add.ok, (round_, add)
        assert ping(a, "10.94.0.1"), round_
        r = hf("DEL", conf, a, node)
        assert r.ok, (round_, r)
    assert wait_until(lambda: retired_links(node) == [])


def test_del_without_a_netns_deletes_synchronously(data_dir, node, containers):
    a = containers()
    conf = bridge_conf(data_dir, ranges=[[{"subnet": "10.95.0.0/24"}]])
    add = hf("ADD", conf, a, node)
    assert add.ok, add
    host_veth = add.json["interfaces"][1]["name"]
    # The same attachment, but CNI_NETNS empty (allowed on DEL): no retirement is possible.
    r = run_plugin(binary("holdfast"), "DEL", conf, container_id=a.name, ifname="eth0", netns="", node=node.name)
    assert r.ok, r
    names = [l["ifname"] for l in links(node)]
    assert host_veth not in names and retired_links(node) == [], names
    assert [l["ifname"] for l in links(a)] == ["lo"], "deleting the host end took the container end with it"


def test_gc_removes_retired_pairs_a_killed_reaper_left(data_dir, node, containers):
    a = containers()
    conf = bridge_conf(data_dir, ranges=[[{"subnet": "10.96.0.0/24"}]])
    add = hf("ADD", conf, a, node)
    assert add.ok, add
    left, kept = unique("hfr")[:15], unique("hfk")[:15]
    node.exec("ip", "link", "add", left, "type", "veth", "peer", "name", left[:-1] + "p")
    node.exec("ip", "link", "set", left, "alias", RETIRED)
    node.exec("ip", "link", "add", kept, "type", "veth", "peer", "name", kept[:-1] + "p")
    conf["cni.dev/valid-attachments"] = [{"containerID": a.name, "ifname": "eth0"}]
    r = run_plugin(binary("holdfast"), "GC", conf, node=node.name)
    assert r.ok, r
    names = [l["ifname"] for l in links(node)]
    assert add.json["interfaces"][1]["name"] in names, "a valid attachment keeps its veth"
    assert left not in names, "the retired pair was swept"
    assert kept in names, "a veth without the retired alias is not ours to delete"
