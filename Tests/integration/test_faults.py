"""Bad input and faults (issue 12): each answered with CNI error JSON within
its bound, never a trap, a hang or a silent wrong answer."""
import json
import os
import signal
import sqlite3
import subprocess
import time

import pytest

from cnitool import binary, ipamctl, leases, run_plugin, unique

INT64_MAX = 2**63 - 1
INT64_MIN = -2**63


def ipam_conf(data_dir, **ipam):
    section = {"type": "holdfast-ipam", "dataDir": str(data_dir), "ranges": [[{"subnet": "10.78.0.0/29"}]]}
    section.update(ipam)
    return {"cniVersion": "1.1.0", "name": unique("net"), "type": "bridge", "ipam": section}


def ipam(command, conf, ctr, **kw):
    return run_plugin(binary("holdfast-ipam"), command, conf, container_id=ctr, **kw)


def answered(r):
    """The run ended by itself (no signal) and printed JSON or nothing (DEL)."""
    assert r.rc >= 0, f"killed by signal {-r.rc}: {r.stderr[-400:]!r}"
    if r.stdout.strip():
        json.loads(r.stdout)
    return r


def edit_store(data_dir, conf, sql, *args):
    db = sqlite3.connect(str(data_dir / conf["name"] / "leases.db"))
    with db:
        db.execute(sql, args)
    db.close()


# ------------------------------------------------------- extreme timestamps

@pytest.mark.parametrize("stamp", [INT64_MAX, INT64_MIN])
def test_extreme_created_at_does_not_trap(data_dir, stamp):
    conf = ipam_conf(data_dir)
    assert answered(ipam("ADD", conf, "c1")).ok
    edit_store(data_dir, conf, "UPDATE leases SET created_at = ?", stamp)
    assert answered(ipam("ADD", conf, "c1")).ok, "a retried ADD returns the existing lease"
    listing = ipamctl("leases", "--json", data_dir=data_dir, check=False)
    assert listing.returncode == 0, listing.stderr
    r = answered(ipam("DEL", conf, "c1"))
    assert r.ok, r
    assert leases(data_dir, conf["name"]) == []
    history = ipamctl("history", "10.78.0.2", data_dir=data_dir, check=False)
    assert history.returncode == 0, history.stderr


@pytest.mark.parametrize("stamp", [INT64_MAX, INT64_MIN])
def test_extreme_released_at_does_not_trap(data_dir, stamp):
    conf = ipam_conf(data_dir, quarantineSeconds=60)
    first = answered(ipam("ADD", conf, "c1"))
    assert first.ok
    assert answered(ipam("DEL", conf, "c1")).ok
    edit_store(data_dir, conf, "UPDATE quarantine SET released_at = ?", stamp)
    # The quarantined address asked for by name: an answer (quarantined or not), not a trap.
    answered(ipam("ADD", conf, "wanted", args=f"IP={first.json['ips'][0]['address'].split('/')[0]}"))
    got = set()
    for i in range(6):   # the /29 has 6 usable addresses: walk past the quarantined one
        r = answered(ipam("ADD", conf, f"n{i}"))
        if r.ok:
            got.add(r.json["ips"][0]["address"])
    assert got, "ADD must still hand out the other addresses"
    pools = ipamctl("pools", data_dir=data_dir, check=False)
    assert pools.returncode == 0, pools.stderr


# ------------------------------------------------------- runtime-supplied paths

def bridge_conf(data_dir, **extra):
    conf = {"cniVersion": "1.1.0", "name": unique("net"), "type": "holdfast", "bridge": unique("hfbr"),
            "isGateway": True,
            "ipam": {"type": "holdfast-ipam", "dataDir": str(data_dir), "ranges": [[{"subnet": "10.79.0.0/24"}]]}}
    conf.update(extra)
    return conf


def hf(command, conf, netns, node, ctr="c1", **kw):
    return run_plugin(binary("holdfast"), command, conf, container_id=ctr, netns=netns, node=node.name, **kw)


@pytest.mark.parametrize("command", ["ADD", "DEL"])
def test_fifo_as_netns_is_rejected_at_once(data_dir, node, tmp_path, command):
    fifo = tmp_path / "netns-fifo"
    os.mkfifo(fifo)
    conf = bridge_conf(data_dir)
    start = time.monotonic()
    try:
        r = hf(command, conf, str(fifo), node, timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{command} with a FIFO as CNI_NETNS hung (open blocked)")
    assert time.monotonic() - start < 5
    answered(r)
    if command == "DEL":
        assert r.ok, r   # nothing was created, DEL is idempotent
    else:
        assert not r.ok and r.json["code"] == 4 and "CNI_NETNS" in r.json["msg"], r
    assert not (data_dir / conf["name"] / "leases.db").exists() or leases(data_dir, conf["name"]) == []


# ------------------------------------------------------- delegated IPAM deadline

def test_delegated_ipam_is_killed_at_the_run_deadline(data_dir, node, containers, tmp_path):
    """A delegated IPAM plugin that never answers is killed when the run's
    deadline (`timeoutMs`) passes, and ADD answers code 11 (try again)."""
    plugin_dir = tmp_path / "plugins"
    plugin_dir.mkdir()
    pidfile = tmp_path / "slow.pid"
    slow = plugin_dir / "slow-ipam"
    slow.write_text(f"#!/bin/sh\necho $$ >> {pidfile}\nexec sleep 60\n")
    slow.chmod(0o755)
    ctr = containers()
    conf = bridge_conf(data_dir, timeoutMs=1500)
    conf["ipam"] = {"type": "slow-ipam"}
    def sleeping(pid):
        try:
            return open(f"/proc/{pid}/cmdline").read().startswith("sleep")
        except OSError:
            return False

    start = time.monotonic()
    try:
        r = hf("ADD", conf, ctr.path, node, ctr=ctr.name, timeout=20,
               cni_path=f"{plugin_dir}:{binary('holdfast').rsplit('/', 1)[0]}")
        took = time.monotonic() - start
        answered(r)
        assert not r.ok and r.json["code"] == 11, r
        assert took < 6, f"ADD took {took:.1f}s with timeoutMs=1500"
        pids = pidfile.read_text().split()
        assert pids, "the delegated plugin never ran"
        assert not [p for p in pids if sleeping(p)], "the delegated plugin was left running"
    except subprocess.TimeoutExpired:
        pytest.fail("ADD waited on a delegated IPAM plugin that never answers")
    finally:
        for pid in (pidfile.read_text().split() if pidfile.exists() else []):
            if sleeping(pid):   # only the sleeps this test started, by PID
                os.kill(int(pid), signal.SIGKILL)


def test_timeout_ms_is_validated(data_dir, node, containers):
    ctr = containers()
    r = answered(hf("ADD", bridge_conf(data_dir, timeoutMs=0), ctr.path, node, ctr=ctr.name))
    assert not r.ok and r.json["code"] == 7 and "timeoutMs" in r.json["details"], r


# ------------------------------------------------------- storage failures name their cause

@pytest.fixture
def small_fs(tmp_path):
    """A 1 MiB tmpfs of our own, unmounted afterwards (by its path)."""
    mnt = tmp_path / "fs"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "holdfast-test", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)])


def test_disk_full_is_named_in_msg(small_fs):
    conf = ipam_conf(small_fs)
    assert answered(ipam("ADD", conf, "c1")).ok
    fd = os.open(small_fs / "filler", os.O_WRONLY | os.O_CREAT)
    try:   # fill the file system to the last block
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    r = answered(ipam("ADD", conf, "c2"))
    assert not r.ok and r.json["code"] == 100, r
    assert "disk full" in r.json["msg"], r.json


def test_read_only_store_is_named_in_msg(small_fs):
    conf = ipam_conf(small_fs)
    assert answered(ipam("ADD", conf, "c1")).ok
    subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)
    r = answered(ipam("ADD", conf, "c2"))
    assert not r.ok and r.json["code"] == 100, r
    assert "read-only" in r.json["msg"], r.json


# ------------------------------------------------------- bridge plugin: codes, MAC, foreign links

def host_veth(container_id, ifname):
    """InterfaceName.hostVeth: "hf" + 11 hex digits of FNV-1a 64 over id NUL ifname."""
    h = 0xcbf29ce484222325
    for b in container_id.encode() + b"\0" + ifname.encode():
        h ^= b
        h = (h * 0x100000001b3) & (2**64 - 1)
    return "hf" + format(h & 0xfffffffffff, "011x")


def link_json(node, name):
    out = node.exec("ip", "-j", "link", "show", "dev", name, check=False)
    return json.loads(out.stdout)[0] if out.returncode == 0 else None


def test_force_address_conflict_is_a_config_error(data_dir, node, containers):
    conf = bridge_conf(data_dir)
    node.exec("ip", "link", "add", "name", conf["bridge"], "type", "bridge")
    node.exec("ip", "addr", "add", "10.79.0.254/24", "dev", conf["bridge"])
    ctr = containers()
    r = answered(hf("ADD", conf, ctr.path, node, ctr=ctr.name))
    assert not r.ok and r.json["code"] == 7 and "forceAddress" in r.json["msg"], r
    assert link_json(node, host_veth(ctr.name, "eth0")) is None, "rollback must remove the veth"
    assert leases(data_dir, conf["name"]) == [], "rollback must release the lease"


def test_add_result_carries_the_bridge_mac_after_its_first_port(data_dir, node, containers):
    conf = bridge_conf(data_dir)
    ctr = containers()
    r = answered(hf("ADD", conf, ctr.path, node, ctr=ctr.name))
    assert r.ok, r
    now = link_json(node, conf["bridge"])["address"]
    assert r.json["interfaces"][0] == {"name": conf["bridge"], "mac": now}, (r.json["interfaces"][0], now)


@pytest.mark.parametrize("kind,alias", [("veth", "holdfast someone-else eth0"), ("veth", "not holdfast"),
                                        ("bridge", None)])
def test_add_leaves_a_foreign_link_with_its_veth_name_alone(data_dir, node, containers, kind, alias):
    """A link that has the attachment's host veth name but is not ours (another
    attachment's alias, or not a veth at all) is never deleted by ADD."""
    ctr = containers()
    name = host_veth(ctr.name, "eth0")
    peer = ["peer", "name", "x" + name[1:]] if kind == "veth" else []
    node.exec("ip", "link", "add", "name", name, "type", kind, *peer)
    if alias:
        node.exec("ip", "link", "set", "dev", name, "alias", alias)
    before = link_json(node, name)
    r = answered(hf("ADD", bridge_conf(data_dir), ctr.path, node, ctr=ctr.name))
    assert not r.ok and r.json["code"] == 110 and name in r.json["msg"], r
    after = link_json(node, name)
    assert after is not None and after["ifindex"] == before["ifindex"], "ADD deleted a link that is not its own"


def test_add_rebuilds_its_own_leftover_veth(data_dir, node, containers):
    """The other side of the alias check: a leftover veth of this attachment
    (an earlier ADD killed half-way) is still rebuilt, not an error."""
    conf = bridge_conf(data_dir)
    ctr = containers()
    assert answered(hf("ADD", conf, ctr.path, node, ctr=ctr.name)).ok
    ctr.exec("ip", "link", "del", "eth0")   # the container end goes, the host end with it
    name = host_veth(ctr.name, "eth0")
    node.exec("ip", "link", "add", "name", name, "type", "veth", "peer", "name", "tmp" + name[2:12])
    r = answered(hf("ADD", conf, ctr.path, node, ctr=ctr.name))
    assert r.ok, r
    assert link_json(node, name)["master"] == conf["bridge"]


@pytest.mark.parametrize("index", [-1, 2**31, INT64_MAX])
def test_out_of_range_range_set_index_does_not_trap(data_dir, index):
    conf = ipam_conf(data_dir)
    assert answered(ipam("ADD", conf, "c1")).ok
    edit_store(data_dir, conf, "UPDATE leases SET range_set = ?", index)
    answered(ipam("ADD", conf, "c1"))     # the retried ADD: an answer, not a trap
    answered(ipam("CHECK", conf, "c1"))
    assert answered(ipam("DEL", conf, "c1")).ok
    listing = ipamctl("leases", "--json", data_dir=data_dir, check=False)
    assert listing.returncode == 0, listing.stderr
