"""Invariant 1: no ADD ever returns an address configured on a running container,
whatever happened to the lease store (deleted, emptied, an old backup, truncated),
and a kill -9 storm leaves the store agreeing with the kernel."""
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import time

import pytest

from cnitool import Netns, binary, leases, run_plugin, unique

SUBNET = "10.96.0.0/24"


def conf_for(data_dir, **ipam):
    section = {"type": "holdfast-ipam", "dataDir": str(data_dir), "ranges": [[{"subnet": SUBNET}]],
               "quarantineSeconds": 0}
    section.update(ipam)
    return {"cniVersion": "1.1.0", "name": unique("net"), "type": "holdfast", "bridge": unique("hfbr"),
            "isGateway": True, "ipam": section}


def add(conf, ctr, node):
    return run_plugin(binary("holdfast"), "ADD", conf, container_id=ctr.name, netns=ctr.path, node=node.name)


def live_address(ctr):
    out = json.loads(ctr.exec("ip", "-j", "-4", "addr", "show", "dev", "eth0").stdout)
    return out[0]["addr_info"][0]["local"]


def ping(src, dst):
    return src.exec("ping", "-c", "1", "-W", "2", dst, check=False).returncode == 0


def db_files(data_dir, network):
    d = data_dir / network
    return d / "leases.db", [d / "leases.db-wal", d / "leases.db-shm"]


def checkpoint(path):
    con = sqlite3.connect(str(path))
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def reconcile(node, data_dir, network, *extra):
    proc = node.exec(binary("ipamctl"), "reconcile", "--data-dir", str(data_dir), "--network", network, "--json",
                     *extra, check=False)
    return proc


@pytest.mark.parametrize("damage", ["deleted", "emptied", "old-backup", "truncated"])
def test_no_live_address_is_reused_after_store_damage(data_dir, node, containers, damage):
    conf = conf_for(data_dir)
    net = conf["name"]
    originals = containers(20)
    backup = data_dir / "five.db"
    for i, c in enumerate(originals):
        r = add(conf, c, node)
        assert r.ok, r
        if i == 4:
            db, _ = db_files(data_dir, net)
            src = sqlite3.connect(str(db))
            dst = sqlite3.connect(str(backup))
            src.backup(dst)
            src.close()
            dst.close()
    live = {live_address(c) for c in originals}
    assert len(live) == 20

    db, extras = db_files(data_dir, net)
    if damage == "deleted":
        shutil.rmtree(data_dir / net)
    elif damage == "emptied":
        for p in extras:
            p.unlink(missing_ok=True)
        db.write_bytes(b"")
    elif damage == "old-backup":
        for p in extras:
            p.unlink(missing_ok=True)
        shutil.copyfile(backup, db)
    elif damage == "truncated":
        checkpoint(db)
        size = db.stat().st_size
        with open(db, "r+b") as f:
            f.truncate(size // 2)
        corrupt = db.read_bytes()
        r = add(conf, containers(), node)
        assert not r.ok and r.json["code"] == 101, r
        assert db.read_bytes() == corrupt, "a corrupt store must be left untouched"
        # The operator moves the damaged file aside (keeping it); the next ADD
        # starts a new store and must adopt every live address from the kernel.
        os.rename(db, db.with_name("leases.db.corrupt"))
        for p in extras:
            p.unlink(missing_ok=True)

    newcomers = containers(20)
    for c in newcomers:
        r = add(conf, c, node)
        assert r.ok, r
        got = r.json["ips"][0]["address"].split("/")[0]
        assert got not in live, f"{damage}: ADD returned {got}, live on a running container"
        live.add(got)
    # The originals still work: they ping each other and the gateway.
    for a, b in zip(originals[:5], originals[5:10]):
        assert ping(a, live_address(b))
    assert ping(originals[0], "10.96.0.1")
    # The store now knows every live address (adopted ones included).
    stored = {l["address"] for l in leases(data_dir, net)}
    assert live <= stored


def test_kill9_storm_leaves_store_agreeing_with_kernel(data_dir, node, containers):
    conf = conf_for(data_dir)
    net = conf["name"]
    ctrs = containers(6)
    plugin = binary("holdfast")
    data = json.dumps(conf).encode()
    rng = random.Random(1234)
    # Kill a plugin run mid-way at least 30 times, whatever the machine's speed:
    # the window before the kill shrinks each time a run finishes first (a fast
    # machine), and the storm goes on (up to 1000 runs) until enough were killed.
    killed = 0
    runs = 0
    window = 0.012
    while (runs < 200 or killed < 30) and runs < 1000:
        runs += 1
        c = rng.choice(ctrs)
        verb = rng.choice(["ADD", "ADD", "DEL"])
        env = {"PATH": os.environ["PATH"], "CNI_COMMAND": verb, "CNI_CONTAINERID": c.name, "CNI_IFNAME": "eth0",
               "CNI_NETNS": c.path, "CNI_PATH": "/nonexistent"}
        p = subprocess.Popen(["ip", "netns", "exec", node.name, plugin], stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        p.stdin.write(data)
        p.stdin.close()
        time.sleep(rng.uniform(0, window))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            killed += 1
        else:
            window = window * 0.7
        p.wait()
    assert killed >= 30, f"only {killed} of {runs} runs were killed mid-way; the storm proves little"
    # The runtime finishes every container (a retried ADD must not need a DEL first).
    for c in ctrs:
        r = add(conf, c, node)
        assert r.ok, r
    addrs = [live_address(c) for c in ctrs]
    assert len(set(addrs)) == len(addrs), "an address is held twice"
    rows = leases(data_dir, net)
    assert sorted(r["address"] for r in rows) == sorted(addrs)
    proc = reconcile(node, data_dir, net)
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)[0]["plan"]
    assert plan["adopt"] == [] and plan["release"] == [] and plan["conflicts"] == [], plan


def test_reconcile_guards_and_force(data_dir, node, containers):
    conf = conf_for(data_dir)
    net = conf["name"]
    ctrs = containers(4)
    for c in ctrs:
        assert add(conf, c, node).ok
    # Two containers vanish without DEL (the runtime forgot): their netns is gone.
    for c in ctrs[:2]:
        c.delete()
    before = leases(data_dir, net)
    # A failed inventory (wrong bridge) releases nothing, dry run or applied.
    proc = reconcile(node, data_dir, net, "--bridge", "nosuchbr0", "--apply")
    assert proc.returncode != 0
    assert leases(data_dir, net) == before
    # Dry run on the real bridge: plans the two releases, changes nothing.
    proc = reconcile(node, data_dir, net)
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)[0]["plan"]
    assert sorted(l["containerID"] for l in plan["release"]) == sorted(c.name for c in ctrs[:2]), proc.stdout
    assert leases(data_dir, net) == before
    # 2 of 4 is within the default 0.5 limit; a 0.25 limit refuses without --force.
    proc = reconcile(node, data_dir, net, "--apply", "--max-release-fraction", "0.25")
    assert proc.returncode != 0
    assert leases(data_dir, net) == before
    # Forced with a failed inventory: releases, after a backup.
    proc = reconcile(node, data_dir, net, "--bridge", "nosuchbr0", "--apply", "--force")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)[0]
    assert report["applied"] and os.path.exists(report["backup"])
    assert sorted(l["containerID"] for l in leases(data_dir, net)) == sorted(c.name for c in ctrs[2:])
    # The backup still holds all four.
    con = sqlite3.connect(report["backup"])
    assert con.execute("SELECT count(*) FROM leases").fetchone()[0] == 4
    con.close()


def test_quarantine(data_dir, node, containers):
    conf = conf_for(data_dir, ranges=[[{"subnet": "10.97.0.0/29"}]], quarantineSeconds=600)
    ipam = binary("holdfast-ipam")
    # /29: .1 gateway, .2-.6 usable (5 addresses).
    r = run_plugin(ipam, "ADD", conf, container_id="q1")
    assert r.ok, r
    first = r.json["ips"][0]["address"]
    assert run_plugin(ipam, "DEL", conf, container_id="q1").ok
    r = run_plugin(ipam, "ADD", conf, container_id="q2")
    assert r.ok and r.json["ips"][0]["address"] != first, "released address reused while others are free"
    for i in range(3, 6):
        assert run_plugin(ipam, "ADD", conf, container_id=f"q{i}").ok
    pools = json.loads(subprocess.run([binary("ipamctl"), "pools", "--json", "--data-dir", str(data_dir)],
                                      capture_output=True, text=True).stdout)
    assert pools[0]["quarantined"] == 1 and pools[0]["used"] == 4
    # Only the quarantined address is left: it is handed out rather than failing.
    r = run_plugin(ipam, "ADD", conf, container_id="q6")
    assert r.ok and r.json["ips"][0]["address"] == first, r


def test_release_all_then_restore_and_reconcile_brings_leases_back(data_dir, node, containers):
    conf = conf_for(data_dir)
    net = conf["name"]
    ctrs = containers(4)
    for c in ctrs:
        assert add(conf, c, node).ok
    before = sorted((l["address"], l["containerID"]) for l in leases(data_dir, net))
    ipamctl = binary("ipamctl")
    run = lambda *a: subprocess.run([ipamctl, *a, "--data-dir", str(data_dir)], capture_output=True, text=True)
    # An operator wipes every lease while the containers run (forced, so it happens).
    p = run("release", "--all", "--network", net, "--apply", "--force")
    assert p.returncode == 0, p.stderr
    assert leases(data_dir, net) == []
    backups = sorted((data_dir / net / "backups").glob("*release*.db"))
    assert backups, "release --apply took no backup"
    # Restore that backup, then reconcile: the lease set is back and the store agrees with the kernel.
    p = run("restore", str(backups[-1]), "--network", net, "--apply", "--force")
    assert p.returncode == 0, p.stderr
    proc = reconcile(node, data_dir, net, "--apply")
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)[0]["plan"]
    assert plan["release"] == [] and plan["conflicts"] == [], plan
    assert sorted((l["address"], l["containerID"]) for l in leases(data_dir, net)) == before
    # And an ADD after all this gets none of the live addresses.
    newcomer = containers()
    r = add(conf, newcomer, node)
    assert r.ok and r.json["ips"][0]["address"].split("/")[0] not in {a for a, _ in before}, r


def test_wiped_leases_are_adopted_by_the_next_add(data_dir, node, containers):
    """Leases released by mistake while containers run are re-adopted from the
    kernel before the next allocation, with their container attribution."""
    conf = conf_for(data_dir)
    net = conf["name"]
    ctrs = containers(3)
    for c in ctrs:
        assert add(conf, c, node).ok
    live = {live_address(c) for c in ctrs}
    db, _ = db_files(data_dir, net)
    con = sqlite3.connect(str(db))
    con.execute("DELETE FROM leases")
    con.commit()
    con.close()
    r = add(conf, containers(), node)
    assert r.ok and r.json["ips"][0]["address"].split("/")[0] not in live, r
    rows = {l["address"]: l["containerID"] for l in leases(data_dir, net)}
    assert {rows[live_address(c)] for c in ctrs} == {c.name for c in ctrs}, "adopted leases keep their container"
    # The adopted lease is released by the container's own DEL.
    gone = live_address(ctrs[0])
    d = run_plugin(binary("holdfast"), "DEL", conf, container_id=ctrs[0].name, netns=ctrs[0].path, node=node.name)
    assert d.ok, d
    assert ctrs[0].name not in {l["containerID"] for l in leases(data_dir, net)}
    assert gone not in {l["address"] for l in leases(data_dir, net)}


def test_a_del_never_blesses_a_store_that_lost_a_lease(data_dir, node, containers):
    """A lease lost behind the plugin's back stays visible to the next ADD even
    when a DEL of another container commits in between."""
    conf = conf_for(data_dir, ranges=[[{"subnet": "10.96.0.0/29"}]])   # .2-.6
    net = conf["name"]
    a, b, c = containers(3)
    for ctr in (a, b, c):
        assert add(conf, ctr, node).ok
    lost = live_address(a)
    db, _ = db_files(data_dir, net)
    con = sqlite3.connect(str(db))
    con.execute("DELETE FROM leases WHERE container_id = ?", (a.name,))
    con.commit()
    con.close()
    d = run_plugin(binary("holdfast"), "DEL", conf, container_id=c.name, netns=c.path, node=node.name)
    assert d.ok, d
    for ctr in containers(3):
        r = add(conf, ctr, node)
        assert r.ok, r
        assert r.json["ips"][0]["address"].split("/")[0] != lost, "the lost lease's live address was handed out"
    assert lost in {l["address"] for l in leases(data_dir, net)}, "the live address was not adopted back"


def test_adopted_leases_record_their_netns(data_dir, node, containers):
    """An address adopted from the kernel carries its container's netns path, so
    reconcile can release it once that container is gone."""
    conf = conf_for(data_dir)
    net = conf["name"]
    a, b = containers(2)
    for ctr in (a, b):
        assert add(conf, ctr, node).ok
    db, extras = db_files(data_dir, net)
    for p in extras:
        p.unlink(missing_ok=True)
    db.write_bytes(b"")
    assert add(conf, containers(), node).ok
    rows = {l["containerID"]: l for l in leases(data_dir, net)}
    real = lambda p: os.path.realpath(p) if p else p
    assert real(rows[a.name]["netns"]) == real(a.path) and real(rows[b.name]["netns"]) == real(b.path)
    a.delete()
    proc = reconcile(node, data_dir, net)
    plan = json.loads(proc.stdout)[0]["plan"]
    assert [l["containerID"] for l in plan["release"]] == [a.name], plan


def test_an_edit_that_keeps_the_lease_count_is_still_noticed(data_dir, node, containers):
    conf = conf_for(data_dir, ranges=[[{"subnet": "10.96.0.0/29"}]])   # .2-.6
    net = conf["name"]
    a, b = containers(2)
    for ctr in (a, b):
        assert add(conf, ctr, node).ok
    live = live_address(a)
    db, _ = db_files(data_dir, net)
    con = sqlite3.connect(str(db))
    # Same number of leases, but a's now names an address nobody uses.
    con.execute("UPDATE leases SET address = '10.96.0.6' WHERE container_id = ?", (a.name,))
    con.commit()
    con.close()
    # Asking for a's live address by name must be refused, not granted.
    c = containers()
    r = run_plugin(binary("holdfast"), "ADD", conf, container_id=c.name, netns=c.path, node=node.name,
                   args=f"IP={live}")
    assert not r.ok and r.json["code"] == 102, r
    # .2 (a, live), .3 (b), .6 (the edited lease): two addresses remain.
    for ctr in containers(2):
        r = add(conf, ctr, node)
        assert r.ok, r
        assert r.json["ips"][0]["address"].split("/")[0] != live
    assert live in {l["address"] for l in leases(data_dir, net)}, "a's live address was not adopted back"


def test_gc_leaves_adopted_unattributed_leases_and_their_veths(data_dir, node, containers):
    conf = conf_for(data_dir)
    net = conf["name"]
    a, b = containers(2)
    ra = add(conf, a, node)
    assert ra.ok and add(conf, b, node).ok
    port = ra.json["interfaces"][1]["name"]
    node.exec("ip", "link", "set", port, "alias", "")   # as if another plugin had made it
    db, extras = db_files(data_dir, net)
    for p in extras:
        p.unlink(missing_ok=True)
    db.write_bytes(b"")
    assert add(conf, containers(), node).ok          # adopts a's address as "adopted-<port>"
    adopted = [l for l in leases(data_dir, net) if l["containerID"].startswith("adopted-")]
    assert [l["address"] for l in adopted] == [live_address(a)]
    valid = [{"containerID": l["containerID"], "ifname": l["ifname"]} for l in leases(data_dir, net)
             if not l["containerID"].startswith("adopted-")]
    gc = run_plugin(binary("holdfast"), "GC", dict(conf, **{"cni.dev/valid-attachments": valid}), node=node.name)
    assert gc.ok, gc
    assert [l["address"] for l in leases(data_dir, net) if l["containerID"].startswith("adopted-")] == [live_address(a)]
    assert ping(a, "10.96.0.1"), "GC cut off a running container"


@pytest.mark.parametrize("args,why", [
    (["--network", "nosuch"], "unknown network"),
    (["--force"], "--force without --apply"),
    (["--apply", "--max-release-fraction", "0"], "fraction out of range"),
    (["--apply", "--max-release-fraction", "abc"], "malformed fraction"),
])
def test_reconcile_bad_input_changes_nothing(data_dir, node, containers, args, why):
    conf = conf_for(data_dir)
    assert add(conf, containers(), node).ok
    before = leases(data_dir, conf["name"])
    proc = node.exec(binary("ipamctl"), "reconcile", "--data-dir", str(data_dir), *args, check=False)
    assert proc.returncode != 0 and proc.stderr.strip(), (why, proc.stdout, proc.stderr)
    assert leases(data_dir, conf["name"]) == before
    assert not (data_dir / conf["name"] / "backups").exists(), "a refused command took a backup"
