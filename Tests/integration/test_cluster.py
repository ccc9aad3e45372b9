"""Cluster mode (ipam.cluster on etcd) with holdfast-ipam, against real etcd
members started by the test in a namespace it made (see etcdfixture.py)."""
import concurrent.futures
import ipaddress
import json
import shutil
import sqlite3
import subprocess
import time

import pytest

from cnitool import Netns, binary, leases, remove_proofs, run_plugin, sh, unique
from etcdfixture import EtcdCluster


@pytest.fixture(autouse=True)
def _remove_proofs(tmp_path):
    """The holdfast bridge plugin's currency proofs of stores under tmp_path, by name."""
    yield
    remove_proofs(tmp_path)


PREFIX = "/hft"


@pytest.fixture
def etcd():
    made = []

    def make(members=1, tls=False, ns=None, host="127.0.0.1"):
        c = EtcdCluster(members=members, tls=tls, ns=ns, host=host)
        made.append(c)
        return c
    yield make
    for c in made:
        c.close()


def cluster_conf(data_dir, endpoints, node="node-a", name="cnet", pool="10.200.0.0/24", block=28,
                 timeout_ms=500, lock_ms=3000, tls=None, extra=None, node_address="192.0.2.21"):
    etcd = {"endpoints": endpoints, "prefix": PREFIX, "timeoutMs": timeout_ms}
    if tls:
        etcd.update(tls)
    ipam = {"type": "holdfast-ipam", "dataDir": str(data_dir), "lockTimeoutMs": lock_ms,
            "cluster": {"etcd": etcd, "pools": [{"cidr": pool, "blockPrefix": block}], "nodeName": node,
                        "nodeAddress": node_address}}
    ipam.update(extra or {})
    return {"cniVersion": "1.0.0", "name": name, "type": "bridge", "ipam": ipam}


def bridge_cluster_conf(data_dir, endpoints, bridge, pool, block=28):
    """A holdfast bridge network on node-a drawing from one cluster pool (in-process IPAM)."""
    return {"cniVersion": "1.0.0", "name": "cnet", "type": "holdfast", "bridge": bridge, "isGateway": True,
            "ipam": {"type": "holdfast-ipam", "dataDir": str(data_dir), "lockTimeoutMs": 5000,
                     "cluster": {"etcd": {"endpoints": endpoints, "prefix": PREFIX, "timeoutMs": 1000},
                                 "pools": [{"cidr": pool, "blockPrefix": block}], "nodeName": "node-a"}}}


def add(conf, ns, cid, **kw):
    return run_plugin(binary("holdfast-ipam"), "ADD", conf, container_id=cid, node=ns.name, **kw)


def blocks_in_etcd(cluster, network="cnet"):
    """{cidr: (owner, epoch)} from etcd."""
    out = {}
    for key, (value, rev) in cluster.get_prefix(f"{PREFIX}/v1/{network}/blocks/").items():
        name = key.rsplit("/", 1)[1]
        out[name.replace("_", "/")] = (json.loads(value)["owner"], rev)
    return out


def local_blocks(data_dir, network="cnet"):
    db = sqlite3.connect(f"file:{data_dir}/{network}/leases.db?mode=ro", uri=True)
    try:
        return {row[0]: row[1] for row in db.execute("SELECT cidr, epoch FROM cluster_blocks")}
    except sqlite3.OperationalError:
        return {}
    finally:
        db.close()


def lease_blocks(data_dir, network="cnet"):
    db = sqlite3.connect(f"file:{data_dir}/{network}/leases.db?mode=ro", uri=True)
    try:
        return {row[0]: (row[1], row[2]) for row in db.execute("SELECT address, block, epoch FROM lease_blocks")}
    finally:
        db.close()


def test_first_add_claims_a_block_and_records_it_before_use(etcd, data_dir):
    c = etcd()
    conf = cluster_conf(data_dir, c.endpoints)
    r = add(conf, c.ns, "c1")
    assert r.ok, r
    ip = ipaddress.ip_interface(r.json["ips"][0]["address"])
    assert ip.network.prefixlen == 28
    in_etcd = blocks_in_etcd(c)
    assert list(in_etcd) == [str(ip.network)]
    owner, epoch = in_etcd[str(ip.network)]
    assert owner == "node-a"
    assert local_blocks(data_dir) == {str(ip.network): epoch}
    # The lease carries its block and ownership epoch.
    assert lease_blocks(data_dir)[str(ip.ip)] == (str(ip.network), epoch)
    assert r.json["ips"][0]["gateway"] == str(ip.network.network_address + 1)
    [lease] = leases(data_dir, "cnet")
    assert (lease["block"], lease["blockEpoch"]) == (str(ip.network), epoch)
    # The node registered with its boot id.
    reg = c.get_prefix(f"{PREFIX}/v1/cnet/nodes/node-a")
    assert json.loads(reg[f"{PREFIX}/v1/cnet/nodes/node-a"][0])["bootID"]


def test_etcd_stopped_owned_block_keeps_serving_and_new_block_gets_error_11(etcd, data_dir):
    c = etcd()
    conf = cluster_conf(data_dir, c.endpoints, timeout_ms=400, lock_ms=2000)
    assert add(conf, c.ns, "c0").ok
    c.members[0].kill()
    # A /28 has 13 usable addresses (network, broadcast and gateway excluded): 12 more fit without etcd.
    t0 = time.monotonic()
    for i in range(1, 13):
        r = add(conf, c.ns, f"c{i}")
        assert r.ok, r
    per_add = (time.monotonic() - t0) / 12
    assert per_add < 0.4, f"ADDs from an owned block waited on etcd ({per_add:.3f}s each)"
    before = leases(data_dir, "cnet")
    t0 = time.monotonic()
    r = add(conf, c.ns, "c13")
    elapsed = time.monotonic() - t0
    assert r.rc != 0 and r.json["code"] == 11, r
    assert elapsed < 2.5, f"error 11 took {elapsed:.2f}s, past the deadline"
    assert leases(data_dir, "cnet") == before, "a failed claim changed the store"
    # etcd comes back (same data): claims resume, nothing duplicated.
    c.members[0].start(initial_state="existing")
    c.wait_healthy()
    r = add(conf, c.ns, "c13")
    assert r.ok, r
    addrs = [l["address"] for l in leases(data_dir, "cnet")]
    assert len(addrs) == len(set(addrs)) == 14
    assert len(blocks_in_etcd(c)) == 2


def test_claim_ahead_takes_the_next_block_before_the_owned_ones_run_dry(etcd, data_dir):
    c = etcd()
    conf = cluster_conf(data_dir, c.endpoints, timeout_ms=400, lock_ms=2000)
    # A /28 block has 13 usable addresses; claim-ahead starts below 2 free (an eighth of 16, at least 2).
    for i in range(11):
        r = add(conf, c.ns, f"c{i}")
        assert r.ok, r
        assert b"ahead" not in r.stderr, r
    [first] = blocks_in_etcd(c)
    # The ADD that leaves 1 free address claims the next block; the first one is not dry yet.
    r = add(conf, c.ns, "c11")
    assert r.ok, r
    assert b"claimed one more block ahead" in r.stderr, r
    owned = blocks_in_etcd(c)
    assert len(owned) == 2 and {o for o, _ in owned.values()} == {"node-a"}
    assert set(local_blocks(data_dir)) == set(owned), "a block claimed ahead is recorded in the store"
    addrs = [ipaddress.ip_address(l["address"]) for l in leases(data_dir, "cnet")]
    assert len(addrs) == 12 and all(a in ipaddress.ip_network(first) for a in addrs), "the first block still had a free address"
    # With etcd down, an ADD that runs low still succeeds: the failed claim-ahead is only logged.
    c.members[0].kill()
    for i in range(12, 25):
        r = add(conf, c.ns, f"c{i}")
        assert r.ok, r
    assert b"claim-ahead for pool 0 failed (ignored" in r.stderr, r
    addrs = [l["address"] for l in leases(data_dir, "cnet")]
    assert len(addrs) == len(set(addrs)) == 25
    assert set(local_blocks(data_dir)) == set(owned)


def test_nodes_claim_disjoint_blocks_under_concurrent_adds(etcd, tmp_path):
    c = etcd()
    nodes = ["node-a", "node-b", "node-c", "node-d"]
    dirs = {n: tmp_path / n for n in nodes}
    confs = {n: cluster_conf(dirs[n], c.endpoints, node=n, pool="10.201.0.0/22", block=28, timeout_ms=1500,
                             lock_ms=10000) for n in nodes}
    jobs = [(n, f"{n}-c{i}") for i in range(20) for n in nodes]
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda j: (j[0], add(confs[j[0]], c.ns, j[1])), jobs))
    failed = [r for _, r in results if not r.ok]
    assert not failed, failed[:3]
    owners = blocks_in_etcd(c)
    addresses = []
    for n in nodes:
        mine = {cidr for cidr, (owner, _) in owners.items() if owner == n}
        assert len(mine) >= 2, f"{n} should have needed several /28 blocks for 20 ADDs, has {mine}"
        assert set(local_blocks(dirs[n])) == mine
        for lease in leases(dirs[n], "cnet"):
            a = ipaddress.ip_address(lease["address"])
            assert any(a in ipaddress.ip_network(b) for b in mine), f"{a} of {n} is not in a block {n} owns"
            addresses.append(a)
    assert len(addresses) == len(set(addresses)) == 80, "an address was handed out twice across the cluster"


def test_concurrent_adds_of_one_node_never_see_their_own_new_block_as_lost(etcd, data_dir):
    # /29 blocks (5 addresses): ADDs of one node claim (and claim ahead) concurrently all the time.
    c = etcd()
    conf = cluster_conf(data_dir, c.endpoints, pool="10.214.0.0/24", block=29, timeout_ms=1500, lock_ms=6000)

    def run(i):
        for _ in range(6):   # a runtime retries error 11 (a busy machine can run out of lockTimeoutMs)
            r = add(conf, c.ns, f"c{i}")
            if r.ok or (r.json or {}).get("code") != 11:
                return r
            time.sleep(0.3)
        return r
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(run, range(48)))
    failed = [r for r in results if not r.ok]
    assert not failed, "\n".join(str((r.json or {}).get("details", r)) for r in failed[:3])
    addrs = [l["address"] for l in leases(data_dir, "cnet")]
    assert len(addrs) == len(set(addrs)) == 48
    assert set(local_blocks(data_dir)) <= set(blocks_in_etcd(c))


def test_endpoint_failover_and_tls_client_certificates(etcd, data_dir):
    c = etcd(tls=True)
    certs = c.certs
    tls = {"caFile": str(certs / "ca.pem"), "certFile": str(certs / "client.pem"), "keyFile": str(certs / "client-key.pem")}
    dead = "https://127.0.0.1:9"   # nothing listens: refused, never sent, so the next endpoint is tried
    conf = cluster_conf(data_dir, [dead] + c.endpoints, tls=tls)
    r = add(conf, c.ns, "c1")
    assert r.ok, r
    assert len(blocks_in_etcd(c)) == 1
    # Without a client certificate the server refuses the handshake: error 11, nothing claimed.
    no_cert = cluster_conf(data_dir, c.endpoints, name="cnet2", tls={"caFile": tls["caFile"]})
    r = add(no_cert, c.ns, "c2")
    assert r.rc != 0 and r.json["code"] == 11, r
    assert len(c.get_prefix(f"{PREFIX}/v1/cnet2/blocks/")) == 0


def test_a_block_etcd_gives_to_another_node_stops_every_add(etcd, data_dir):
    c = etcd()
    conf = cluster_conf(data_dir, c.endpoints, pool="10.202.0.0/24", block=28)
    r = add(conf, c.ns, "c0")
    assert r.ok, r
    block = str(ipaddress.ip_interface(r.json["ips"][0]["address"]).network)
    # As if a stale snapshot were restored and another node claimed it since.
    key = f"{PREFIX}/v1/cnet/blocks/{block.replace('/', '_')}"
    c.etcdctl("put", key, json.dumps({"owner": "node-z", "bootID": "x", "claimedAt": 0}))
    for i in range(1, 12):
        assert add(conf, c.ns, f"c{i}").ok
    # c11 left one free address, so it claimed ahead: that read etcd and found the conflict.
    r = add(conf, c.ns, "c12")
    assert r.rc != 0 and r.json["code"] == 106, r
    assert "node-z" in r.json["details"]
    # Every later ADD is refused too, even one that would fit in a freed address, and STATUS says why.
    d = run_plugin(binary("holdfast-ipam"), "DEL", conf, container_id="c1", node=c.ns.name)
    assert d.ok, d
    r = add(dict(conf, ipam=dict(conf["ipam"], quarantineSeconds=0)), c.ns, "c14")
    assert r.rc != 0 and r.json["code"] == 106, r
    st = run_plugin(binary("holdfast-ipam"), "STATUS", dict(conf, cniVersion="1.1.0"), node=c.ns.name)
    assert st.rc != 0 and st.json["code"] == 50 and "conflict" in st.json["msg"], st
    assert len(leases(data_dir, "cnet")) == 11


def test_leader_killed_during_claims_leaves_no_block_with_two_owners(etcd, tmp_path):
    c = etcd(members=3)
    nodes = ["node-a", "node-b", "node-c"]
    dirs = {n: tmp_path / n for n in nodes}
    # /29 blocks hold 5 addresses, so nearly every other ADD claims.
    confs = {n: cluster_conf(dirs[n], c.endpoints, node=n, pool="10.204.0.0/23", block=29, timeout_ms=1500,
                             lock_ms=4000) for n in nodes}
    jobs = [(n, f"{n}-c{i}") for i in range(12) for n in nodes]
    leader = c.leader()
    assert leader is not None

    def run(job):
        n, cid = job
        for _ in range(6):   # a runtime retries error 11
            r = add(confs[n], c.ns, cid)
            if r.ok or (r.json or {}).get("code") != 11:
                return n, r
            time.sleep(0.3)
        return n, r
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        futures = [pool.submit(run, j) for j in jobs]
        time.sleep(0.4)
        leader.kill()
        results = [f.result() for f in futures]
    failed = [r for _, r in results if not r.ok]
    assert not failed, "\n".join(str((r.json or {}).get("details", r)) for r in failed[:3])
    owners = blocks_in_etcd(c)
    held = {}
    addresses = []
    for n in nodes:
        for cidr in local_blocks(dirs[n]):
            assert cidr not in held, f"{cidr} is held by {held.get(cidr)} and {n}"
            held[cidr] = n
            assert owners.get(cidr, (None,))[0] == n, f"{n} holds {cidr}, which etcd gives to {owners.get(cidr)}"
        addresses += [l["address"] for l in leases(dirs[n], "cnet")]
    assert len(addresses) == len(set(addresses)) == 36


def ipamctl_cluster(ns, *args, config, data_dir, check=True):
    proc = subprocess.run(["ip", "netns", "exec", ns.name, binary("ipamctl"), "cluster", *args, "--json",
                           "--config", str(config), "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=30)
    if not check:
        return proc
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def write_conf(path, conf):
    path.write_text(json.dumps(conf))
    return path


def test_a_stopped_node_keeps_its_blocks_until_retired(etcd, tmp_path):
    c = etcd()
    dirs = {n: tmp_path / n for n in ("node-a", "node-b")}
    # Four /28 blocks in the pool; every timeout short.
    confs = {n: cluster_conf(dirs[n], c.endpoints, node=n, pool="10.205.0.0/26", block=28, timeout_ms=300, lock_ms=1000)
             for n in dirs}
    for i in range(14):
        assert add(confs["node-a"], c.ns, f"a{i}").ok
    for i in range(26):
        assert add(confs["node-b"], c.ns, f"b{i}").ok
    a_blocks = {k: v for k, v in blocks_in_etcd(c).items() if v[0] == "node-a"}
    assert len(a_blocks) == 2
    # node-a is gone (nothing of it runs). Longer than twice every timeout configured:
    time.sleep(2.5)
    r = add(confs["node-b"], c.ns, "b-more")
    assert r.rc != 0 and r.json["code"] == 11 and "every block" in r.json["details"], r
    assert {k: v for k, v in blocks_in_etcd(c).items() if v[0] == "node-a"} == a_blocks
    b_conf = write_conf(tmp_path / "b.conf", confs["node-b"])
    # Dry run: shows what would go, changes nothing.
    plan = ipamctl_cluster(c.ns, "retire", "node-a", config=b_conf, data_dir=dirs["node-b"])
    assert sorted(plan["blocks"]) == sorted(a_blocks) and plan["registration"] and not plan["applied"]
    assert {k: v for k, v in blocks_in_etcd(c).items() if v[0] == "node-a"} == a_blocks
    # Over the blast-radius limit: refused without --force, nothing changed.
    proc = ipamctl_cluster(c.ns, "retire", "node-a", "--apply", "--max-blocks", "1", config=b_conf,
                           data_dir=dirs["node-b"], check=False)
    assert proc.returncode != 0 and "limit" in proc.stderr
    assert {k: v for k, v in blocks_in_etcd(c).items() if v[0] == "node-a"} == a_blocks
    done = ipamctl_cluster(c.ns, "retire", "node-a", "--apply", config=b_conf, data_dir=dirs["node-b"])
    assert done["applied"]
    backup = json.loads(open(done["backup"]).read())
    assert {r["key"].rsplit("/", 1)[1].replace("_", "/") for r in backup if "/blocks/" in r["key"]} == set(a_blocks)
    assert c.get_prefix(f"{PREFIX}/v1/cnet/nodes/node-a") == {}
    db = sqlite3.connect(f"file:{dirs['node-b']}/cnet/leases.db?mode=ro", uri=True)
    audit = [row[0] for row in db.execute("SELECT detail FROM audit WHERE action = 'cluster-retire'")]
    db.close()
    assert len(audit) == 1 and "node-a" in audit[0]
    # Now, and only now, node-b can take one of them.
    r = add(confs["node-b"], c.ns, "b-more")
    assert r.ok, r
    got = ipaddress.ip_interface(r.json["ips"][0]["address"])
    assert str(got.network) in a_blocks


def test_ipamctl_cluster_reports_blocks_nodes_and_status(etcd, tmp_path):
    c = etcd()
    dirs = {n: tmp_path / n for n in ("node-a", "node-b")}
    confs = {n: cluster_conf(dirs[n], c.endpoints, node=n) for n in dirs}
    for i in range(15):   # node-a needs two /28 blocks
        assert add(confs["node-a"], c.ns, f"a{i}").ok
    assert add(confs["node-b"], c.ns, "b0").ok
    # A conflist, as a runtime has it: the ipam section is inside "plugins".
    conflist = tmp_path / "net.conflist"
    conflist.write_text(json.dumps({"cniVersion": "1.0.0", "name": "cnet",
                                    "plugins": [{"type": "bridge", "ipam": confs["node-a"]["ipam"]}]}))
    blocks = ipamctl_cluster(c.ns, "blocks", config=conflist, data_dir=dirs["node-a"])
    mine = [b for b in blocks if b["owner"] == "node-a"]
    assert len(mine) == 2 and all(b["heldLocally"] for b in mine)
    assert sorted(b["used"] for b in mine) == [2, 13]
    assert sum(b["free"] for b in mine) == 26 - 15
    theirs = [b for b in blocks if b["owner"] == "node-b"]
    assert len(theirs) == 1 and "used" not in theirs[0] and not theirs[0]["heldLocally"]
    nodes = {n["node"]: n for n in ipamctl_cluster(c.ns, "nodes", config=conflist, data_dir=dirs["node-a"])}
    assert set(nodes) == {"node-a", "node-b"}
    assert nodes["node-a"]["registered"] and nodes["node-a"]["used"] == 15 and len(nodes["node-a"]["blocks"]) == 2
    assert nodes["node-b"]["blocks"] == [theirs[0]["block"]] and nodes["node-b"]["fences"] == []
    status = ipamctl_cluster(c.ns, "status", config=conflist, data_dir=dirs["node-a"])
    assert status["conflicts"] == [] and sorted(status["localBlocks"]) == sorted(b["block"] for b in mine)


def our_routes(ns):
    out = ns.exec("ip", "-j", "route", "show", "proto", "72").stdout
    return {r["dst"]: r.get("gateway") for r in json.loads(out or "[]")}


def test_sync_routes_follows_blocks_and_keeps_routes_when_etcd_is_down(etcd, tmp_path):
    c = etcd()
    ns = c.ns
    # The underlay: node-a is 192.0.2.21 on a veth inside the test's namespace; node-b's 192.0.2.22 is on-link.
    ns.exec("ip", "link", "add", "hfu0", "type", "veth", "peer", "name", "hfu1")
    ns.exec("ip", "addr", "add", "192.0.2.21/24", "dev", "hfu0")
    ns.exec("ip", "link", "set", "hfu1", "up")
    ns.exec("ip", "link", "set", "hfu0", "up")
    ns.exec("ip", "route", "add", "10.99.0.0/24", "via", "192.0.2.50")   # not ours: never touched
    dirs = {n: tmp_path / n for n in ("node-a", "node-b")}
    confs = {"node-a": cluster_conf(dirs["node-a"], c.endpoints, node="node-a", node_address="192.0.2.21"),
             "node-b": cluster_conf(dirs["node-b"], c.endpoints, node="node-b", node_address="192.0.2.22")}
    assert add(confs["node-a"], c.ns, "a0").ok
    for i in range(14):
        assert add(confs["node-b"], c.ns, f"b{i}").ok
    b_blocks = sorted(k for k, v in blocks_in_etcd(c).items() if v[0] == "node-b")
    assert len(b_blocks) == 2
    a_conf = write_conf(tmp_path / "a.conf", confs["node-a"])
    change = ipamctl_cluster(ns, "sync-routes", config=a_conf, data_dir=dirs["node-a"])
    assert sorted(change["upserted"]) == sorted(f"{b} via 192.0.2.22" for b in b_blocks)
    assert our_routes(ns) == {b: "192.0.2.22" for b in b_blocks}
    again = ipamctl_cluster(ns, "sync-routes", config=a_conf, data_dir=dirs["node-a"])
    assert again == {"upserted": [], "deleted": [], "failed": []}
    # etcd down: the sync fails and changes nothing.
    c.members[0].kill()
    proc = ipamctl_cluster(ns, "sync-routes", config=a_conf, data_dir=dirs["node-a"], check=False)
    assert proc.returncode != 0
    assert our_routes(ns) == {b: "192.0.2.22" for b in b_blocks}
    c.members[0].start(initial_state="existing")
    c.wait_healthy()
    # node-b retired: its routes go, the foreign route stays.
    ipamctl_cluster(ns, "retire", "node-b", "--apply", "--force", config=a_conf, data_dir=dirs["node-a"])
    change = ipamctl_cluster(ns, "sync-routes", config=a_conf, data_dir=dirs["node-a"])
    assert sorted(change["deleted"]) == b_blocks
    assert our_routes(ns) == {}
    assert "10.99.0.0/24" in ns.exec("ip", "route", "show").stdout


@pytest.fixture
def underlay():
    """A namespace with a bridge that node namespaces plug into; everything made is deleted by name."""
    made = {"ns": [], "batch": []}
    ul = Netns(unique("hful"))
    made["ns"].append(ul)
    ul.exec("ip", "link", "add", "hfubr", "type", "bridge")
    ul.exec("ip", "addr", "add", "192.0.2.10/24", "dev", "hfubr")
    ul.exec("ip", "link", "set", "hfubr", "up")

    def node(i):
        n = Netns(unique("hfcn"))
        made["ns"].append(n)
        sh("ip", "link", "add", "u0", "netns", n.name, "type", "veth", "peer", "name", f"p{i}", "netns", ul.name)
        ul.exec("ip", "link", "set", f"p{i}", "master", "hfubr", "up")
        n.exec("ip", "addr", "add", f"192.0.2.{21 + i}/24", "dev", "u0")
        n.exec("ip", "link", "set", "u0", "up")
        n.exec("sysctl", "-qw", "net.ipv4.ip_forward=1")
        return n

    def containers(count):
        names = [unique("hfcc") for _ in range(count)]
        made["batch"].extend(names)
        subprocess.run(["ip", "-batch", "-"], input="".join(f"netns add {x}\n" for x in names), text=True, check=True)
        return names
    yield ul, node, containers
    if made["batch"]:
        subprocess.run(["ip", "-force", "-batch", "-"], input="".join(f"netns del {x}\n" for x in made["batch"]),
                       text=True, capture_output=True)
    for n in reversed(made["ns"]):
        n.delete()


def test_many_nodes_on_an_underlay_unique_disjoint_and_routed(etcd, underlay, tmp_path):
    ul, make_node, make_containers = underlay
    c = etcd(ns=ul, host="192.0.2.10")
    nodes = [make_node(i) for i in range(4)]
    names = [f"node-{i}" for i in range(4)]
    confs = []
    for i, n in enumerate(names):
        conf = {"cniVersion": "1.0.0", "name": "cnet", "type": "holdfast", "bridge": "hfcbr0", "isGateway": True,
                "ipMasq": False,
                "ipam": {"type": "holdfast-ipam", "dataDir": str(tmp_path / n), "lockTimeoutMs": 15000,
                         "routes": [{"dst": "0.0.0.0/0"}],
                         "cluster": {"etcd": {"endpoints": c.endpoints, "prefix": PREFIX, "timeoutMs": 2000},
                                     "pools": [{"cidr": "10.210.0.0/22", "blockPrefix": 28}],
                                     "nodeName": n, "nodeAddress": f"192.0.2.{21 + i}"}}}
        confs.append(conf)
    ctrs = make_containers(200)
    jobs = [(i % 4, ctr) for i, ctr in enumerate(ctrs)]

    def run(job):
        i, ctr = job
        return i, ctr, run_plugin(binary("holdfast"), "ADD", confs[i], container_id=ctr, netns=f"/var/run/netns/{ctr}",
                                  node=nodes[i].name)
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, jobs))
    failed = [r for _, _, r in results if not r.ok]
    assert not failed, failed[:3]
    owners = blocks_in_etcd(c)
    addresses = []
    for i, n in enumerate(names):
        mine = {cidr for cidr, (owner, _) in owners.items() if owner == n}
        assert len(mine) >= 3, f"{n} should have claimed several blocks for 50 ADDs: {mine}"
        assert set(local_blocks(tmp_path / n)) == mine
        for lease in leases(tmp_path / n, "cnet"):
            a = ipaddress.ip_address(lease["address"])
            assert any(a in ipaddress.ip_network(b) for b in mine), f"{a} of {n} is outside its blocks"
            addresses.append(a)
    assert len(addresses) == len(set(addresses)) == 200
    held = [b for i, n in enumerate(names) for b in local_blocks(tmp_path / n)]
    assert len(held) == len(set(held)), "a block is held by two nodes"
    # Routes between nodes, then containers on different nodes reach each other.
    for i, n in enumerate(names):
        cfg = write_conf(tmp_path / f"{n}.conf", confs[i])
        change = ipamctl_cluster(nodes[i], "sync-routes", config=cfg, data_dir=tmp_path / n)
        assert not change["failed"], change
    first = {}
    for i, ctr, r in results:
        first.setdefault(i, (ctr, r.json["ips"][0]["address"].split("/")[0]))
    src_ctr, _ = first[0]
    for i in (1, 2, 3):
        _, dst = first[i]
        ping = subprocess.run(["ip", "netns", "exec", src_ctr, "ping", "-c", "1", "-W", "2", dst], capture_output=True, text=True)
        assert ping.returncode == 0, f"node-0 container cannot reach {dst} on node-{i}: {ping.stdout}{ping.stderr}"


def test_wiped_store_recovers_its_blocks_and_never_reuses_a_live_address(etcd, containers, tmp_path):
    c = etcd()
    data = tmp_path / "node-a"
    conf = bridge_cluster_conf(data, c.endpoints, bridge="hfcbr1", pool="10.211.0.0/24")
    ctrs = containers(5)
    live = []
    for ctr in ctrs[:4]:
        r = run_plugin(binary("holdfast"), "ADD", conf, container_id=ctr.name, netns=ctr.path, node=c.ns.name)
        assert r.ok, r
        live.append(r.json["ips"][0]["address"].split("/")[0])
    before = blocks_in_etcd(c)
    assert len(before) == 1
    # The store is lost (disk replaced); the containers keep running.
    shutil.rmtree(data / "cnet")
    r = run_plugin(binary("holdfast"), "ADD", conf, container_id=ctrs[4].name, netns=ctrs[4].path, node=c.ns.name)
    assert r.ok, r
    new = r.json["ips"][0]["address"].split("/")[0]
    assert new not in live, f"{new} is live in another container"
    # The block was recorded back from etcd (same epoch), not abandoned for a new one.
    assert blocks_in_etcd(c) == before
    assert local_blocks(data) == {cidr: epoch for cidr, (_, epoch) in before.items()}


HOG = r"""
import sys
a = []
while True:
    a.append(b"x" * (1 << 20))
"""
V1_MEMORY = "/sys/fs/cgroup/memory"


@pytest.fixture
def memcg():
    """A fresh v1 memory cgroup parent for the watchdog's agent group (removed afterwards)."""
    import os
    if not os.path.exists(f"{V1_MEMORY}/memory.oom_control"):
        pytest.skip("no cgroup v1 memory hierarchy at /sys/fs/cgroup/memory")
    path = f"{V1_MEMORY}/{unique('hf-cluster-wd')}"
    os.mkdir(path)
    yield path
    for _ in range(200):
        for root, dirs, _ in os.walk(path, topdown=False):
            for d in dirs:
                try:
                    os.rmdir(f"{root}/{d}")
                except OSError:
                    pass
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.05)


def oom_under_watchdog(ns, memcg, tmp_path, conf_path, tag, publish=True):
    """Runs holdfast-watchdog (dry-run action, 2 s action timeout) with the cluster
    fence over an agent that gets OOM-killed; returns the watchdog's JSON log.
    `publish` makes the dry run still write the cluster fence (--dry-run-cluster-fence)."""
    log = tmp_path / f"wd-{tag}.log"
    with open(log, "w") as err:
        # nsenter, not `ip netns exec`: that remounts /sys, hiding the cgroup hierarchy.
        proc = subprocess.run(["nsenter", f"--net={ns.path}", "--", binary("holdfast-watchdog"), "run",
                               "--fence", str(tmp_path / f"fence-{tag}"), "--state", str(tmp_path / f"state-{tag}"),
                               "--cgroup-parent", memcg, "--memory-limit", "32M", "--dry-run", "--action-timeout", "2",
                               *(["--dry-run-cluster-fence"] if publish else []),
                               "--cluster-config", str(conf_path), "--", "python3", "-c", HOG],
                              stderr=err, stdout=subprocess.DEVNULL, timeout=60)
    events = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert (tmp_path / f"fence-{tag}").exists(), events
    return proc, [e for e in events if e.get("event") == "agent_oom_killed"]


def full_pool_of_two_nodes(c, tmp_path, pool):
    """Two /28 blocks in the pool: one each, node-b's full. Returns the configs."""
    dirs = {n: tmp_path / n for n in ("node-a", "node-b")}
    confs = {n: cluster_conf(dirs[n], c.endpoints, node=n, pool=pool, block=28, timeout_ms=500, lock_ms=2000)
             for n in dirs}
    assert add(confs["node-a"], c.ns, "a0").ok
    for i in range(13):
        assert add(confs["node-b"], c.ns, f"b{i}").ok
    return confs


def test_fenced_node_blocks_are_reclaimed_only_after_the_bound(etcd, memcg, tmp_path):
    c = etcd()
    confs = full_pool_of_two_nodes(c, tmp_path, "10.206.0.0/27")
    a_block = next(k for k, v in blocks_in_etcd(c).items() if v[0] == "node-a")
    _, decided = oom_under_watchdog(c.ns, memcg, tmp_path, write_conf(tmp_path / "a.conf", confs["node-a"]), "a")
    assert decided and decided[0]["cluster_fence"] and decided[0]["cluster_fence_error"] is None, decided
    fenced_at = time.time()
    fences = c.get_prefix(f"{PREFIX}/v1/cnet/fences/node-a/")
    assert len(fences) == 1 and json.loads(next(iter(fences.values()))[0])["actionTimeoutSeconds"] == 2
    # Within the bound (2 x the 2 s action timeout) node-a's block stays node-a's.
    r = add(confs["node-b"], c.ns, "b-more")
    assert r.rc != 0 and r.json["code"] == 11, r
    assert blocks_in_etcd(c)[a_block][0] == "node-a"
    time.sleep(max(0, fenced_at + 4.5 - time.time()))
    r = add(confs["node-b"], c.ns, "b-more")
    assert r.ok, r
    assert str(ipaddress.ip_interface(r.json["ips"][0]["address"]).network) == a_block
    assert blocks_in_etcd(c)[a_block][0] == "node-b"


def test_no_reclaim_when_the_fence_could_not_be_written(etcd, memcg, tmp_path):
    c = etcd()
    confs = full_pool_of_two_nodes(c, tmp_path, "10.207.0.0/27")
    c.members[0].kill()
    _, decided = oom_under_watchdog(c.ns, memcg, tmp_path, write_conf(tmp_path / "a.conf", confs["node-a"]), "a")
    assert decided and decided[0]["cluster_fence"] is None and "unreachable" in decided[0]["cluster_fence_error"], decided
    c.members[0].start(initial_state="existing")
    c.wait_healthy()
    time.sleep(4.5)   # past the bound a written fence would have had
    assert c.get_prefix(f"{PREFIX}/v1/cnet/fences/") == {}
    r = add(confs["node-b"], c.ns, "b-more")
    assert r.rc != 0 and r.json["code"] == 11, r
    assert {v[0] for v in blocks_in_etcd(c).values()} == {"node-a", "node-b"}


def test_a_dry_run_watchdog_writes_no_cluster_fence(etcd, memcg, tmp_path):
    # A dry run keeps the host (and its containers) up: a fence would let others reclaim live blocks.
    c = etcd()
    confs = full_pool_of_two_nodes(c, tmp_path, "10.208.0.0/27")
    _, decided = oom_under_watchdog(c.ns, memcg, tmp_path, write_conf(tmp_path / "a.conf", confs["node-a"]), "a",
                                    publish=False)
    assert decided and decided[0]["cluster_fence"] is None and "--dry-run" in decided[0]["cluster_fence_error"], decided
    assert c.get_prefix(f"{PREFIX}/v1/cnet/fences/") == {}
    time.sleep(4.5)   # past the bound a written fence would have had
    r = add(confs["node-b"], c.ns, "b-more")
    assert r.rc != 0 and r.json["code"] == 11, r
    assert {v[0] for v in blocks_in_etcd(c).values()} == {"node-a", "node-b"}


def pretend_reboot(data_dir, network="cnet"):
    """What a reboot changes for the store: the boot id its blocks were checked on is no longer this one."""
    db = sqlite3.connect(f"{data_dir}/{network}/leases.db")
    db.execute("UPDATE meta SET value = 'an-earlier-boot' WHERE key = 'cluster_verified_boot'")
    db.commit()
    db.close()


def test_a_rebooted_node_checks_its_blocks_once_and_refuses_one_taken_meanwhile(etcd, tmp_path):
    c = etcd()
    dirs = {n: tmp_path / n for n in ("node-a", "node-b")}
    confs = {n: cluster_conf(dirs[n], c.endpoints, node=n, pool="10.208.0.0/27", block=28) for n in dirs}
    r = add(confs["node-a"], c.ns, "a0")
    assert r.ok, r
    a_block = str(ipaddress.ip_interface(r.json["ips"][0]["address"]).network)
    # A reboot with the block still node-a's: one check against etcd, then ADDs go on.
    pretend_reboot(dirs["node-a"])
    assert add(confs["node-a"], c.ns, "a1").ok
    # While node-a is down again, an operator retires it and node-b takes its block.
    b_conf = write_conf(tmp_path / "b.conf", confs["node-b"])
    ipamctl_cluster(c.ns, "retire", "node-a", "--apply", "--force", config=b_conf, data_dir=dirs["node-b"])
    for i in range(14):
        assert add(confs["node-b"], c.ns, f"b{i}").ok
    assert blocks_in_etcd(c)[a_block][0] == "node-b"
    # node-a boots again: its first ADD checks etcd and refuses, although the block has room locally.
    pretend_reboot(dirs["node-a"])
    r = add(confs["node-a"], c.ns, "a2")
    assert r.rc != 0 and r.json["code"] == 106, r
    assert len(leases(dirs["node-a"], "cnet")) == 2


def test_a_held_block_whose_etcd_record_cannot_be_read_is_not_taken_as_still_owned(etcd, data_dir):
    c = etcd()
    conf = cluster_conf(data_dir, c.endpoints, pool="10.209.0.0/27", block=28)
    r = add(conf, c.ns, "a0")
    assert r.ok, r
    block = str(ipaddress.ip_interface(r.json["ips"][0]["address"]).network)
    # The owner record is replaced by something this node cannot read (another writer, another format).
    c.etcdctl("put", f"{PREFIX}/v1/cnet/blocks/{block.replace('/', '_')}", "not-a-block-record")
    pretend_reboot(data_dir)
    r = add(conf, c.ns, "a1")
    assert r.rc != 0 and r.json["code"] == 106 and "cannot read" in r.json["details"], r
    assert len(leases(data_dir, "cnet")) == 1


def test_owner_releases_only_blocks_empty_in_store_and_kernel_and_keeps_one(etcd, containers, tmp_path):
    c = etcd()
    data = tmp_path / "node-a"
    conf = bridge_cluster_conf(data, c.endpoints, bridge="hfcbr2", pool="10.212.0.0/26")
    cfg = write_conf(tmp_path / "a.conf", conf)
    ctrs = containers(15)
    got = {}
    for ctr in ctrs:
        r = run_plugin(binary("holdfast"), "ADD", conf, container_id=ctr.name, netns=ctr.path, node=c.ns.name)
        assert r.ok, r
        got[ctr.name] = ipaddress.ip_interface(r.json["ips"][0]["address"])
    blocks = sorted({str(i.network) for i in got.values()})
    assert len(blocks) == 2
    small = blocks[1] if len([1 for i in got.values() if str(i.network) == blocks[1]]) == 2 else blocks[0]
    in_small = [ctr for ctr in ctrs if str(got[ctr.name].network) == small]
    assert len(in_small) == 2
    # One container of the small block is deleted; the other loses its lease row but stays live.
    d = run_plugin(binary("holdfast"), "DEL", conf, container_id=in_small[0].name, netns=in_small[0].path, node=c.ns.name)
    assert d.ok, d
    db = sqlite3.connect(f"{data}/cnet/leases.db")
    db.execute("DELETE FROM leases WHERE container_id = ?", (in_small[1].name,))
    db.commit()
    db.close()
    plan = ipamctl_cluster(c.ns, "release-empty", "--apply", config=cfg, data_dir=data)
    assert plan["empty"] == [] and plan["released"] == [], "a block with a live address in the kernel is not empty"
    # Now the last container of the block goes too: the block is empty on both counts.
    d = run_plugin(binary("holdfast"), "DEL", conf, container_id=in_small[1].name, netns=in_small[1].path, node=c.ns.name)
    assert d.ok, d
    # Its addresses were just released: while one rests in quarantine the block
    # stays, or its next owner could hand the address out at once.
    waiting = ipamctl_cluster(c.ns, "release-empty", "--apply", config=cfg, data_dir=data)
    assert waiting["empty"] == [] and waiting["quarantined"] == [small] and waiting["released"] == []
    assert small in blocks_in_etcd(c) and small in local_blocks(data)
    # The quarantine (120 s by default) is over.
    db = sqlite3.connect(f"{data}/cnet/leases.db")
    db.execute("UPDATE quarantine SET released_at = released_at - 3600000")
    db.commit()
    db.close()
    dry = ipamctl_cluster(c.ns, "release-empty", config=cfg, data_dir=data)
    assert dry["empty"] == [small] and dry["released"] == [] and dry["quarantined"] == []
    assert small in blocks_in_etcd(c) and small in local_blocks(data)
    done = ipamctl_cluster(c.ns, "release-empty", "--apply", config=cfg, data_dir=data)
    assert done["released"] == [small] and done["failed"] == []
    assert small not in blocks_in_etcd(c) and small not in local_blocks(data)
    # The last block is kept even when it empties.
    for ctr in ctrs:
        if ctr not in in_small:
            assert run_plugin(binary("holdfast"), "DEL", conf, container_id=ctr.name, netns=ctr.path, node=c.ns.name).ok
    last = ipamctl_cluster(c.ns, "release-empty", "--apply", config=cfg, data_dir=data)
    assert last["empty"] == [] and len(local_blocks(data)) == 1 and len(blocks_in_etcd(c)) == 1


def test_release_empty_drops_a_block_etcd_no_longer_has_at_its_epoch(etcd, containers, tmp_path):
    c = etcd()
    data = tmp_path / "node-a"
    conf = bridge_cluster_conf(data, c.endpoints, bridge="hfcbr3", pool="10.213.0.0/26")
    cfg = write_conf(tmp_path / "a.conf", conf)
    for ctr in containers(12):   # the 12th ADD claims a second, empty block ahead
        assert run_plugin(binary("holdfast"), "ADD", conf, container_id=ctr.name, netns=ctr.path, node=c.ns.name).ok
    used = {ipaddress.ip_interface(l["address"] + "/28").network for l in leases(data, "cnet")}
    [spare] = [b for b in local_blocks(data) if ipaddress.ip_network(b) not in used]
    # Behind node-a's back the spare block went and node-b claimed it (a new epoch).
    key = f"{PREFIX}/v1/cnet/blocks/{spare.replace('/', '_')}"
    c.etcdctl("del", key)
    c.etcdctl("put", key, json.dumps({"owner": "node-b", "bootID": "b", "claimedAt": 0}))
    proc = ipamctl_cluster(c.ns, "release-empty", "--apply", config=cfg, data_dir=data, check=False)
    assert proc.returncode == 1, proc.stderr
    plan = json.loads(proc.stdout)
    assert plan["released"] == [] and len(plan["failed"]) == 1 and "no longer" in plan["failed"][0], plan
    assert spare not in local_blocks(data), "node-a must not keep serving a block it no longer owns"
    assert blocks_in_etcd(c)[spare][0] == "node-b", "the new owner's record is left alone"


def test_dual_stack_pools_give_one_address_per_family_from_owned_blocks(etcd, data_dir):
    c = etcd()
    conf = cluster_conf(data_dir, c.endpoints)
    conf["ipam"]["cluster"]["pools"] = [{"cidr": "10.213.0.0/24", "blockPrefix": 28},
                                        {"cidr": "fd00:213::/112", "blockPrefix": 124}]
    seen = []
    for i in range(15):   # past the first v4 and v6 blocks (13 and 14 usable addresses)
        r = add(conf, c.ns, f"c{i}")
        assert r.ok, r
        ips = [ipaddress.ip_interface(ip["address"]) for ip in r.json["ips"]]
        assert [ip.version for ip in ips] == [4, 6], r.json
        seen += ips
    owned = blocks_in_etcd(c)
    assert {cidr for cidr in owned} == {str(ip.network) for ip in seen}
    assert sum(1 for cidr in owned if ":" in cidr) == 2 and sum(1 for cidr in owned if ":" not in cidr) == 2
    assert len({ip.ip for ip in seen}) == 30


def test_restored_old_snapshot_block_taken_by_another_node_is_refused(etcd, tmp_path):
    c = etcd()
    dirs = {n: tmp_path / n for n in ("node-a", "node-b")}
    confs = {n: cluster_conf(dirs[n], c.endpoints, node=n, pool="10.214.0.0/27", block=28) for n in dirs}
    assert add(confs["node-a"], c.ns, "a0").ok
    snap = tmp_path / "old.db"
    c.etcdctl("snapshot", "save", str(snap))
    for i in range(1, 14):   # node-a fills its block and claims the second one, after the snapshot
        assert add(confs["node-a"], c.ns, f"a{i}").ok
    later = sorted(blocks_in_etcd(c))
    assert len(later) == 2
    # The old snapshot is restored: etcd forgets node-a's second block.
    m = c.members[0]
    m.kill()
    restored = c.root / "restored"
    c.etcdctl("snapshot", "restore", str(snap), "--data-dir", str(restored), "--name", m.name,
              "--initial-cluster", c.initial_cluster, "--initial-advertise-peer-urls", f"http://127.0.0.1:{m.peer_port}",
              endpoints=[m.endpoint])
    shutil.rmtree(m.data_dir)
    restored.rename(m.data_dir)
    m.start()
    c.wait_healthy()
    assert len(blocks_in_etcd(c)) == 1
    # node-b claims what etcd now says is free: node-a's second block.
    r = add(confs["node-b"], c.ns, "b0")
    assert r.ok, r
    taken = str(ipaddress.ip_interface(r.json["ips"][0]["address"]).network)
    assert taken in later and blocks_in_etcd(c)[taken][0] == "node-b"
    # node-a's next check against etcd (its next boot here) refuses every ADD on the network.
    pretend_reboot(dirs["node-a"])
    r = add(confs["node-a"], c.ns, "a14")
    assert r.rc != 0 and r.json["code"] == 106 and taken in r.json["details"], r


@pytest.mark.parametrize("bad,field", [
    ({"ranges": [[{"subnet": "10.0.0.0/24"}]]}, "cluster replaces ranges"),
    ({"cluster": {"etcd": {"endpoints": ["127.0.0.1:2379"]}, "pools": [{"cidr": "10.9.0.0/16", "blockPrefix": 24}]}},
     "endpoints[0]"),
    ({"cluster": {"etcd": {"endpoints": ["http://127.0.0.1:1"]},
                  "pools": [{"cidr": "10.9.0.0/16", "blockPrefix": 24}, {"cidr": "10.8.0.0/16", "blockPrefix": 24}]}},
     "one pool per address family"),
])
def test_bad_cluster_config_is_error_7_and_changes_nothing(data_dir, bad, field):
    conf = cluster_conf(data_dir, ["http://127.0.0.1:1"], extra=bad)
    r = run_plugin(binary("holdfast-ipam"), "ADD", conf, container_id="c1")
    assert r.rc != 0 and r.json["code"] == 7, r
    assert field in r.json["details"], r
    assert not (data_dir / "cnet").exists()


def test_node_local_add_does_not_load_libcurl(data_dir, etcd, node, containers):
    local = {"cniVersion": "1.0.0", "name": unique("net"), "type": "bridge",
             "ipam": {"type": "holdfast-ipam", "dataDir": str(data_dir), "ranges": [[{"subnet": "10.203.0.0/24"}]]}}
    r = run_plugin(binary("holdfast-ipam"), "ADD", local, env_extra={"LD_DEBUG": "libs"})
    assert r.ok, r
    assert b"libcurl" not in r.stderr
    # The bridge plugin (in-process IPAM) on a node-local network: no libcurl either.
    ctr = containers()
    bridge = {"cniVersion": "1.0.0", "name": unique("net"), "type": "holdfast", "bridge": "hfcbr3", "isGateway": True,
              "ipam": {"type": "holdfast-ipam", "dataDir": str(data_dir), "ranges": [[{"subnet": "10.203.1.0/24"}]]}}
    r = run_plugin(binary("holdfast"), "ADD", bridge, container_id=ctr.name, netns=ctr.path, node=node.name,
                   env_extra={"LD_DEBUG": "libs"})
    assert r.ok, r
    assert b"libcurl" not in r.stderr
    # The same check sees it when cluster mode does load it.
    c = etcd()
    r = add(cluster_conf(data_dir, c.endpoints), c.ns, "c1", env_extra={"LD_DEBUG": "libs"})
    assert r.ok, r
    assert b"libcurl.so.4" in r.stderr
