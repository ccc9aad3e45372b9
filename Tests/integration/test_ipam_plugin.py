"""Black-box tests of the holdfast-ipam binary: every verb, every version, bad input."""
import concurrent.futures
import json
import os
import signal
import subprocess
import time

import pytest

from cnitool import binary, ipamctl, leases, run_plugin, unique, REF_DIR

VERSIONS = ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]


def ipam_conf(data_dir, version="1.0.0", name=None, ipam_type="holdfast-ipam", **ipam):
    ipam_section = {"type": ipam_type, "dataDir": str(data_dir),
                    "ranges": [[{"subnet": "10.77.0.0/24"}]],
                    "routes": [{"dst": "0.0.0.0/0"}]}
    ipam_section.update(ipam)
    return {"cniVersion": version, "name": name or unique("net"), "type": "bridge", "ipam": ipam_section}


def plugin_conf(conf):
    """holdfast-ipam is exec'd with the whole network config, as a delegated plugin."""
    return conf


def ipam(command, conf, **kw):
    return run_plugin(binary("holdfast-ipam"), command, conf, **kw)


def store_snapshot(data_dir, network):
    """Leases of a network as ipamctl reports them, or None when no store exists."""
    if not (data_dir / network / "leases.db").exists():
        return None
    return leases(data_dir, network)


@pytest.mark.parametrize("version", VERSIONS)
def test_add_result_shape_per_version(data_dir, version):
    conf = ipam_conf(data_dir, version)
    r = ipam("ADD", conf)
    assert r.ok, r
    res = r.json
    assert res["cniVersion"] == version
    assert "interfaces" not in res
    assert len(res["ips"]) == 1
    ip = res["ips"][0]
    assert ip["address"] == "10.77.0.2/24"
    assert ip["gateway"] == "10.77.0.1"
    assert "interface" not in ip
    if version.startswith("0."):
        assert ip["version"] == "4"
    else:
        assert "version" not in ip
    assert res["routes"] == [{"dst": "0.0.0.0/0"}]


def test_same_shape_as_host_local(data_dir):
    ref_dir = data_dir / "ref"
    # Debian's host-local (containernetworking-plugins 1.1.x) stops at 1.0.0.
    for version in VERSIONS[:-1]:
        ours = ipam("ADD", ipam_conf(data_dir, version, name="shape"), container_id=f"c{version.replace('.', '')}")
        ref = run_plugin(str(REF_DIR / "host-local"), "ADD",
                         ipam_conf(ref_dir, version, name="shape", ipam_type="host-local"),
                         container_id=f"c{version.replace('.', '')}")
        assert ours.ok and ref.ok, (ours, ref)

        def shape(v):
            if isinstance(v, dict):
                return {k: shape(x) for k, x in v.items()}
            if isinstance(v, list):
                return [shape(x) for x in v]
            return type(v).__name__
        ref_json = dict(ref.json)
        # host-local always emits an empty dns object; we do too when resolvConf is unset.
        assert shape(ours.json) == shape(ref_json), (version, ours.json, ref_json)
        assert ours.json["ips"] == ref.json["ips"]


def test_retried_add_returns_existing_lease(data_dir):
    conf = ipam_conf(data_dir)
    first = ipam("ADD", conf, container_id="retry")
    second = ipam("ADD", conf, container_id="retry")
    assert first.ok and second.ok
    assert first.json["ips"] == second.json["ips"]
    assert len(leases(data_dir, conf["name"])) == 1


def test_del_is_idempotent_and_releases(data_dir):
    conf = ipam_conf(data_dir)
    assert ipam("ADD", conf, container_id="d1").ok
    for _ in range(2):
        r = ipam("DEL", conf, container_id="d1")
        assert r.ok, r
        assert r.stdout.strip() == b""
    assert leases(data_dir, conf["name"]) == []
    # DEL of something never added, and with no netns at all, succeeds.
    assert ipam("DEL", conf, container_id="never", netns=None).ok
    hist = json.loads(ipamctl("history", "10.77.0.2", "--json", data_dir=data_dir).stdout)
    assert [h["containerID"] for h in hist] == ["d1"]
    assert hist[0]["reason"] == "del"


def test_check(data_dir):
    conf = ipam_conf(data_dir, "1.0.0")
    add = ipam("ADD", conf, container_id="chk")
    assert add.ok
    conf_check = dict(conf, prevResult=add.json)
    assert ipam("CHECK", conf_check, container_id="chk").ok
    wrong = json.loads(json.dumps(add.json))
    wrong["ips"][0]["address"] = "10.77.0.99/24"
    r = ipam("CHECK", dict(conf, prevResult=wrong), container_id="chk")
    assert not r.ok and r.json["code"] >= 100, r
    assert ipam("DEL", conf, container_id="chk").ok
    r = ipam("CHECK", conf_check, container_id="chk")
    assert not r.ok, r


def test_version_and_status(data_dir):
    conf = ipam_conf(data_dir, "1.1.0")
    r = ipam("VERSION", conf)
    assert r.ok
    assert r.json["supportedVersions"] == VERSIONS
    assert r.json["cniVersion"] == "1.1.0"
    assert ipam("STATUS", conf).ok


def test_gc_valid_list_and_empty_list(data_dir):
    conf = ipam_conf(data_dir, "1.1.0")
    for cid in ("g1", "g2", "g3"):
        assert ipam("ADD", conf, container_id=cid).ok
    gc = dict(conf, **{"cni.dev/valid-attachments": [{"containerID": "g1", "ifname": "eth0"},
                                                     {"containerID": "g2", "ifname": "eth0"}]})
    r = ipam("GC", gc)
    assert r.ok, r
    assert sorted(l["containerID"] for l in leases(data_dir, conf["name"])) == ["g1", "g2"]
    empty = dict(conf, **{"cni.dev/valid-attachments": []})
    r = ipam("GC", empty)
    assert not r.ok and r.json["code"] >= 100 and "empty" in r.json["msg"] + r.json.get("details", ""), r
    assert sorted(l["containerID"] for l in leases(data_dir, conf["name"])) == ["g1", "g2"]


def test_requested_ip_sources(data_dir):
    conf = ipam_conf(data_dir)
    r = ipam("ADD", conf, container_id="a1", args="IgnoreUnknown=1;IP=10.77.0.50")
    assert r.ok and r.json["ips"][0]["address"] == "10.77.0.50/24", r
    r = ipam("ADD", dict(conf, args={"cni": {"ips": ["10.77.0.51"]}}), container_id="a2")
    assert r.ok and r.json["ips"][0]["address"] == "10.77.0.51/24", r
    r = ipam("ADD", dict(conf, runtimeConfig={"ips": ["10.77.0.52/24"]}), container_id="a3")
    assert r.ok and r.json["ips"][0]["address"] == "10.77.0.52/24", r
    before = leases(data_dir, conf["name"])
    r = ipam("ADD", conf, container_id="a4", args="IP=10.77.0.50")
    assert not r.ok, r
    r = ipam("ADD", conf, container_id="a5", args="IP=10.99.0.5")
    assert not r.ok, r
    assert leases(data_dir, conf["name"]) == before


def test_dual_stack(data_dir):
    conf = ipam_conf(data_dir, "1.0.0", ranges=[[{"subnet": "10.78.0.0/24"}], [{"subnet": "fd00:78::/64"}]])
    r = ipam("ADD", conf, container_id="ds")
    assert r.ok, r
    assert [ip["address"] for ip in r.json["ips"]] == ["10.78.0.2/24", "fd00:78::2/64"]


def test_legacy_subnet_and_range_bounds(data_dir):
    conf = ipam_conf(data_dir, ranges=None)
    del conf["ipam"]["ranges"]
    conf["ipam"].update(subnet="10.79.0.0/24", rangeStart="10.79.0.100", rangeEnd="10.79.0.101", gateway="10.79.0.254")
    got = []
    for cid in ("l1", "l2"):
        r = ipam("ADD", conf, container_id=cid)
        assert r.ok, r
        got.append(r.json["ips"][0])
    assert [g["address"] for g in got] == ["10.79.0.100/24", "10.79.0.101/24"]
    assert got[0]["gateway"] == "10.79.0.254"
    r = ipam("ADD", conf, container_id="l3")
    assert not r.ok and r.json["code"] == 11 and "10.79.0" in r.json["msg"] + r.json["details"], r
    assert len(leases(data_dir, conf["name"])) == 2


BAD_INPUTS = [
    ("malformed json", None, b"{not json", 6),
    ("not an object", None, b"[1,2]", 6),
    ("unknown version", {"cniVersion": "9.9.9"}, None, 1),
    ("bad cidr", {"ipam.ranges": [[{"subnet": "10.0.0.0/33"}]]}, None, 7),
    ("host bits", {"ipam.ranges": [[{"subnet": "10.0.0.5/24"}]]}, None, 7),
    ("start outside", {"ipam.ranges": [[{"subnet": "10.0.0.0/24", "rangeStart": "10.0.1.5"}]]}, None, 7),
    ("overlapping sets", {"ipam.ranges": [[{"subnet": "10.0.0.0/24"}], [{"subnet": "10.0.0.0/25"}]]}, None, 7),
    ("no ranges", {"ipam.ranges": []}, None, 7),
    ("traversal name", {"name": "../../etc"}, None, 7),
    ("slash name", {"name": "a/b"}, None, 7),
    ("relative dataDir", {"ipam.dataDir": "relative/dir"}, None, 7),
]


@pytest.mark.parametrize("label,patch,raw,code", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_config(data_dir, label, patch, raw, code):
    conf = ipam_conf(data_dir, name="badnet")
    assert ipam("ADD", conf, container_id="keep").ok
    before = store_snapshot(data_dir, "badnet")
    if patch:
        for k, v in patch.items():
            if k.startswith("ipam."):
                conf["ipam"][k[5:]] = v
            else:
                conf[k] = v
    r = ipam("ADD", conf, container_id="new", stdin=raw)
    assert r.rc != 0, r
    assert r.json is not None, f"stdout is not error JSON: {r}"
    assert r.json["code"] == code, r
    assert r.json["msg"], r
    assert store_snapshot(data_dir, "badnet") == before
    assert not (data_dir.parent / "etc").exists()


BAD_ENV = [
    ("no command", {"CNI_COMMAND": None}, "CNI_COMMAND"),
    ("bad command", {"CNI_COMMAND": "EXPLODE"}, "CNI_COMMAND"),
    ("no container", {"CNI_CONTAINERID": None}, "CNI_CONTAINERID"),
    ("traversal container", {"CNI_CONTAINERID": "../../x"}, "CNI_CONTAINERID"),
    ("no ifname", {"CNI_IFNAME": None}, "CNI_IFNAME"),
    ("long ifname", {"CNI_IFNAME": "a" * 16}, "CNI_IFNAME"),
    ("bad args", {"CNI_ARGS": "novalue"}, "CNI_ARGS"),
]


@pytest.mark.parametrize("label,changes,var", BAD_ENV, ids=[b[0] for b in BAD_ENV])
def test_bad_environment(data_dir, label, changes, var):
    conf = ipam_conf(data_dir, name="envnet")
    env = {"PATH": os.environ["PATH"], "CNI_COMMAND": "ADD", "CNI_CONTAINERID": "c1", "CNI_IFNAME": "eth0",
           "CNI_NETNS": "/var/run/netns/x", "CNI_PATH": "/usr/lib/cni"}
    for k, v in changes.items():
        if v is None:
            env.pop(k)
        else:
            env[k] = v
    r = ipam("ADD", conf, env_override=env)
    assert r.rc != 0 and r.json and r.json["code"] == 4, r
    assert var in r.json["msg"] + r.json.get("details", ""), r
    assert store_snapshot(data_dir, "envnet") in (None, [])


def test_huge_stdin_is_rejected_bounded(data_dir):
    conf = ipam_conf(data_dir, name="hugenet")
    # 64 MiB of padding: must be refused without reading it all.
    payload = json.dumps(conf).encode()[:-1] + b', "pad": "' + b"x" * (64 << 20) + b'"}'
    start = time.monotonic()
    r = ipam("ADD", conf, stdin=payload)
    assert r.rc != 0 and r.json, r
    assert r.json["code"] in (5, 7), r
    assert "large" in r.json["msg"] + r.json.get("details", "")
    assert time.monotonic() - start < 10
    assert store_snapshot(data_dir, "hugenet") is None


def test_exhausted_pool(data_dir):
    conf = ipam_conf(data_dir, ranges=[[{"subnet": "10.80.0.0/30"}]])
    assert ipam("ADD", conf, container_id="e1").ok   # /30: .1 gateway, .2 usable
    r = ipam("ADD", conf, container_id="e2")
    assert not r.ok and r.json["code"] == 11, r
    assert "exhausted" in (r.json["msg"] + r.json["details"]).lower() or "no free" in r.json["msg"], r
    assert [l["containerID"] for l in leases(data_dir, conf["name"])] == ["e1"]


def test_32_concurrent_adds_then_dels(data_dir):
    conf = ipam_conf(data_dir, ranges=[[{"subnet": "10.81.0.0/24"}]])
    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        results = list(pool.map(lambda i: ipam("ADD", conf, container_id=f"p{i}"), range(32)))
    assert all(r.ok for r in results), [r for r in results if not r.ok][:2]
    addrs = [r.json["ips"][0]["address"] for r in results]
    assert len(set(addrs)) == 32
    assert len(leases(data_dir, conf["name"])) == 32
    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        results = list(pool.map(lambda i: ipam("DEL", conf, container_id=f"p{i}"), range(32)))
    assert all(r.ok for r in results)
    assert leases(data_dir, conf["name"]) == []


def test_killed_lock_holder_does_not_block(data_dir):
    conf = ipam_conf(data_dir, lockTimeoutMs=3000)
    assert ipam("ADD", conf, container_id="k0").ok
    lock = data_dir / conf["name"] / "lock"
    holder = subprocess.Popen(["flock", "--no-fork", str(lock), "sleep", "60"])
    try:
        time.sleep(0.3)
        start = time.monotonic()
        r = ipam("ADD", conf, container_id="k1")
        waited = time.monotonic() - start
        assert not r.ok and r.json["code"] == 11, r
        assert 2.5 < waited < 6, waited
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        r = ipam("ADD", conf, container_id="k1")
        assert r.ok, r
    finally:
        if holder.poll() is None:
            os.kill(holder.pid, signal.SIGKILL)
            holder.wait()


def test_sigkill_mid_add_leaves_no_half_lease(data_dir):
    conf = ipam_conf(data_dir, ranges=[[{"subnet": "10.82.0.0/16"}]])
    plugin = binary("holdfast-ipam")
    env = {"PATH": os.environ["PATH"], "CNI_COMMAND": "ADD", "CNI_IFNAME": "eth0", "CNI_NETNS": "/var/run/netns/x",
           "CNI_PATH": "/usr/lib/cni"}
    data = json.dumps(conf).encode()
    # One completed ADD first, so the store exists even if a loaded machine lets every kill land before it opens.
    assert ipam("ADD", conf, container_id="seed").ok
    for i in range(40):
        p = subprocess.Popen([plugin], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env=dict(env, CNI_CONTAINERID=f"kill{i}"))
        p.stdin.write(data)
        p.stdin.close()
        time.sleep((i % 8) * 0.0015)
        p.kill()
        p.wait()
    rows = [r for r in leases(data_dir, conf["name"]) if r["containerID"] != "seed"]
    assert len({r["address"] for r in rows}) == len(rows)
    for r in rows:
        assert r["containerID"].startswith("kill") and r["ifname"] == "eth0" and r["state"] == "active"
    # Every killed container can be retried and then deleted.
    for i in range(40):
        add = ipam("ADD", conf, container_id=f"kill{i}")
        assert add.ok, add
    assert len(leases(data_dir, conf["name"])) == 41
    for i in range(40):
        assert ipam("DEL", conf, container_id=f"kill{i}").ok
    assert ipam("DEL", conf, container_id="seed").ok
    assert leases(data_dir, conf["name"]) == []


def test_corrupt_store_is_an_error_not_a_fresh_start(data_dir):
    conf = ipam_conf(data_dir, name="corrupt")
    assert ipam("ADD", conf, container_id="c1").ok
    db = data_dir / "corrupt" / "leases.db"
    for suffix in ("-wal", "-shm"):
        p = db.with_name(db.name + suffix)
        if p.exists():
            p.unlink()
    db.write_bytes(b"this is not a database" * 100)
    r = ipam("ADD", conf, container_id="c2")
    assert not r.ok and r.json["code"] >= 100 and "corrupt" in (r.json["msg"] + r.json["details"]).lower(), r
    assert db.read_bytes() == b"this is not a database" * 100


def test_ipamctl_show_history_pools(data_dir):
    conf = ipam_conf(data_dir, ranges=[[{"subnet": "10.83.0.0/28"}]])
    net = conf["name"]
    a = ipam("ADD", conf, container_id="showme")
    assert a.ok
    ip = a.json["ips"][0]["address"].split("/")[0]
    by_ip = json.loads(ipamctl("show", ip, "--json", data_dir=data_dir).stdout)
    by_id = json.loads(ipamctl("show", "showme", "--json", data_dir=data_dir).stdout)
    assert by_ip == by_id and by_ip[0]["containerID"] == "showme" and by_ip[0]["network"] == net
    table = ipamctl("show", ip, data_dir=data_dir).stdout
    assert "showme" in table and "ADDRESS" in table
    assert ipam("DEL", conf, container_id="showme").ok
    hist = json.loads(ipamctl("history", ip, "--json", data_dir=data_dir).stdout)
    assert [h["containerID"] for h in hist] == ["showme"] and hist[0]["ended"]
    pools = json.loads(ipamctl("pools", "--json", data_dir=data_dir).stdout)
    # /28: .1 is the gateway, .2-.14 allocatable (13), broadcast .15 excluded.
    assert pools[0]["size"] == 13 and pools[0]["used"] == 0 and pools[0]["quarantined"] == 1
    for args in (["show", "10.83.0.9"], ["show", "nobody"], ["history", "not-an-ip"], ["leases", "--network", "nosuch"]):
        p = ipamctl(*args, data_dir=data_dir, check=False)
        assert p.returncode != 0 and p.stderr.strip(), (args, p.stderr)


def test_steady_add_and_del_do_not_load_libmnl(data_dir):
    """libmnl is dlopen()ed on the first netlink call (Sources/CMnlLazy). A
    store's first ADD reads the kernel to prove the store current, so it loads
    it (which shows the LD_DEBUG check can see the library); the steady-state
    ADD and DEL after it make no netlink call, so the loader must not map it."""
    conf = ipam_conf(data_dir)
    first = ipam("ADD", conf, container_id="c0", env_extra={"LD_DEBUG": "libs"})
    assert first.ok, first
    assert b"libmnl.so.0" in first.stderr
    for command in ("ADD", "DEL"):
        r = ipam(command, conf, container_id="c1", env_extra={"LD_DEBUG": "libs"})
        assert r.ok, r
        assert b"libmnl" not in r.stderr, command
