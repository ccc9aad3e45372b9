"""Operations and safety: freeze, guarded destructive commands, non-blocking
metrics, flood protection and structured logs, through the real binaries."""
import concurrent.futures
import fcntl
import json
import os
import sqlite3
import subprocess
import threading
import time

import pytest

from cnitool import BIN_DIR, Netns, binary, ipamctl, leases, run_plugin, unique

VERSION = "1.1.0"


def ipam_conf(data_dir, name=None, subnet="10.66.0.0/24", **ipam):
    section = {"type": "holdfast-ipam", "dataDir": str(data_dir), "ranges": [[{"subnet": subnet}]]}
    section.update(ipam)
    return {"cniVersion": VERSION, "name": name or unique("net"), "type": "bridge", "ipam": section}


def ipam(command, conf, **kw):
    return run_plugin(binary("holdfast-ipam"), command, conf, **kw)


def err_code(r):
    return (r.json or {}).get("code")


def add_n(conf, n, prefix="c"):
    for i in range(n):
        r = ipam("ADD", conf, container_id=f"{prefix}{i}")
        assert r.ok, r


def state(data_dir, network):
    """Everything a refused command must leave alone: leases, audit, freeze, backups."""
    backups = data_dir / network / "backups"
    return (leases(data_dir, network),
            json.loads(ipamctl("audit", "--network", network, "--json", data_dir=data_dir).stdout),
            json.loads(ipamctl("pools", "--network", network, "--json", data_dir=data_dir).stdout),
            sorted(os.listdir(backups)) if backups.exists() else [])


def audit(data_dir, network):
    return json.loads(ipamctl("audit", "--network", network, "--json", data_dir=data_dir).stdout)


def backups(data_dir, network):
    d = data_dir / network / "backups"
    return sorted(d / f for f in os.listdir(d)) if d.exists() else []


def metric(text, name, **labels):
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name + "{"):
            continue
        body = line[len(name) + 1:line.index("}")]
        got = dict(kv.split("=", 1) for kv in body.split(",")) if body else {}
        if all(got.get(k) == f'"{v}"' for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no sample {name}{labels} in:\n{text}")


class HeldWriter:
    """A real writer: holds the network's flock and an open BEGIN IMMEDIATE
    transaction with an uncommitted lease for `seconds`, like a plugin stuck
    mid-ADD."""

    def __init__(self, data_dir, network, seconds):
        self.dir = data_dir / network
        self.seconds = seconds
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        with open(self.dir / "lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            db = sqlite3.connect(self.dir / "leases.db", isolation_level=None, timeout=5)
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO leases (address, range_set, container_id, ifname, created_at, state) "
                       "VALUES ('10.66.0.250', 0, 'uncommitted', 'eth0', 0, 'active')")
            self.ready.set()
            time.sleep(self.seconds)
            db.execute("ROLLBACK")
            db.close()

    def __enter__(self):
        self.thread.start()
        assert self.ready.wait(10)
        return self

    def __exit__(self, *exc):
        self.thread.join(self.seconds + 10)


def test_reads_never_wait_for_a_writer(data_dir):
    conf = ipam_conf(data_dir)
    net = conf["name"]
    add_n(conf, 3)
    with HeldWriter(data_dir, net, 5):
        # The writer really holds the lock: an ADD times out with 11.
        blocked = ipam("ADD", dict(conf, ipam=dict(conf["ipam"], lockTimeoutMs=300)), container_id="late")
        assert err_code(blocked) == 11, blocked
        timings = {}
        for cmd in (["metrics"], ["leases", "--json"], ["pools", "--json"]):
            t0 = time.monotonic()
            p = ipamctl(*cmd, "--network", net, data_dir=data_dir)
            timings[cmd[0]] = time.monotonic() - t0
            if cmd[0] == "metrics":
                assert metric(p.stdout, "holdfast_leases_used", network=net) == 3
                assert metric(p.stdout, "holdfast_allocations_total", network=net) == 3
            elif cmd[0] == "leases":
                assert sorted(r["containerID"] for r in json.loads(p.stdout)) == ["c0", "c1", "c2"]
            else:
                assert json.loads(p.stdout)[0]["used"] == 3
        print(f"\nread latency while the lock is held: {timings}")
        assert all(t < 1.0 for t in timings.values()), timings


def test_freeze_ipam(data_dir):
    conf = ipam_conf(data_dir)
    net = conf["name"]
    assert ipam("ADD", conf, container_id="a").ok
    ipamctl("freeze", "--network", net, "--reason", "storage migration INC-42", data_dir=data_dir)
    r = ipam("ADD", conf, container_id="b")
    assert err_code(r) == 11 and "INC-42" in r.stdout.decode(), r
    st = ipam("STATUS", conf)
    assert err_code(st) == 50 and "frozen" in st.stdout.decode(), st
    d = ipam("DEL", conf, container_id="a")
    assert d.ok, d
    rows = leases(data_dir, net)
    assert [(x["containerID"], x["state"]) for x in rows] == [("a", "pending-release")]
    # Durable: new processes (plugin, ipamctl) still see the freeze.
    assert err_code(ipam("ADD", conf, container_id="b")) == 11
    m = ipamctl("metrics", "--network", net, data_dir=data_dir).stdout
    assert metric(m, "holdfast_network_frozen", network=net) == 1
    assert metric(m, "holdfast_leases_pending_release", network=net) == 1
    out = ipamctl("unfreeze", "--network", net, data_dir=data_dir).stdout
    assert "released 1 pending" in out
    assert leases(data_dir, net) == []
    assert ipam("ADD", conf, container_id="b").ok
    assert ipam("STATUS", conf).ok
    actions = [e["action"] for e in audit(data_dir, net)]
    assert actions == ["freeze", "unfreeze"], actions
    assert "root" in audit(data_dir, net)[0]["actor"] and "ipamctl" in audit(data_dir, net)[0]["actor"]
    assert len(backups(data_dir, net)) == 1  # unfreeze released something: backup first
    m = ipamctl("metrics", "--network", net, data_dir=data_dir).stdout
    assert metric(m, "holdfast_network_frozen", network=net) == 0
    assert metric(m, "holdfast_releases_total", network=net) == 1
    assert metric(m, "holdfast_errors_total", network=net, code="11") >= 2
    assert metric(m, "holdfast_errors_total", network=net, code="50") == 1


def test_freeze_bridge_del_removes_veth_lease_waits(data_dir):
    node, a, b = Netns(unique("hfnode")), Netns(unique("hfc")), Netns(unique("hfc"))
    try:
        conf = {"cniVersion": VERSION, "name": unique("net"), "type": "holdfast", "bridge": unique("hfbr"),
                "isGateway": True, "ipam": {"type": "holdfast-ipam", "dataDir": str(data_dir),
                                            "ranges": [[{"subnet": "10.93.0.0/24"}]]}}
        net = conf["name"]

        def hf(cmd, ctr):
            return run_plugin(binary("holdfast"), cmd, conf, container_id=ctr.name, netns=ctr.path, node=node.name)
        add = hf("ADD", a)
        assert add.ok, add
        veth = add.json["interfaces"][1]["name"]
        ipamctl("freeze", "--network", net, "--reason", "drain node", data_dir=data_dir)
        r = hf("ADD", b)
        assert err_code(r) == 11 and "drain node" in r.stdout.decode(), r
        assert "eth0" not in b.exec("ip", "-j", "link").stdout, "refused ADD left an interface"
        d = hf("DEL", a)
        assert d.ok, d
        names = [l["ifname"] for l in json.loads(node.exec("ip", "-j", "link").stdout)]
        assert veth not in names
        assert [x["state"] for x in leases(data_dir, net)] == ["pending-release"]
        ipamctl("unfreeze", "--network", net, data_dir=data_dir)
        assert leases(data_dir, net) == []
        assert hf("ADD", b).ok
    finally:
        for ns in (a, b, node):
            ns.delete()


def test_release_guard_dry_run_limit_backup_audit_restore(data_dir):
    conf = ipam_conf(data_dir)
    net = conf["name"]
    add_n(conf, 12)
    before = state(data_dir, net)
    ip = before[0][0]["address"]
    # Dry runs change nothing, and say exactly what would go.
    for args in ([ip], ["--container", "c3"], ["--all"]):
        p = ipamctl("release", *args, "--network", net, data_dir=data_dir)
        assert "DRY RUN" in p.stdout
        assert state(data_dir, net) == before
    assert ip in ipamctl("release", ip, "--network", net, data_dir=data_dir).stdout
    # Over the limit (12 > min(10, 25% of 12 = 3)) without --force: refused.
    p = ipamctl("release", "--all", "--network", net, "--apply", data_dir=data_dir, check=False)
    assert p.returncode != 0 and "refused" in p.stderr, p
    assert state(data_dir, net) == before
    p = ipamctl("release", "--all", "--network", net, "--apply", "--max-release", "5", "--max-release-fraction", "1",
                data_dir=data_dir, check=False)
    assert p.returncode != 0 and "refused" in p.stderr
    assert state(data_dir, net) == before
    # One address: backup, audit, gone.
    env = dict(os.environ, SUDO_USER="alice")
    proc = subprocess.run([binary("ipamctl"), "release", ip, "--network", net, "--apply", "--data-dir", str(data_dir)],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert ip not in [x["address"] for x in leases(data_dir, net)]
    [b1] = backups(data_dir, net)
    entry = audit(data_dir, net)[-1]
    assert entry["action"] == "release" and ip in entry["detail"] and str(b1) in entry["detail"]
    assert "root" in entry["actor"] and "alice" in entry["actor"]
    # A container's leases.
    ipamctl("release", "--container", "c3", "--network", net, "--apply", data_dir=data_dir)
    assert "c3" not in [x["containerID"] for x in leases(data_dir, net)]
    assert len(backups(data_dir, net)) == 2
    # Everything, forced: backed up first; restoring that backup brings the lease set back.
    live = leases(data_dir, net)
    ipamctl("release", "--all", "--network", net, "--apply", "--force", data_dir=data_dir)
    assert leases(data_dir, net) == []
    last = backups(data_dir, net)[-1]
    assert "forced" in audit(data_dir, net)[-1]["detail"] and str(last) in audit(data_dir, net)[-1]["detail"]
    p = ipamctl("restore", str(last), "--network", net, data_dir=data_dir)
    assert "DRY RUN" in p.stdout and leases(data_dir, net) == []
    ipamctl("restore", str(last), "--network", net, "--apply", data_dir=data_dir)
    key = lambda rows: sorted((x["address"], x["containerID"], x["ifname"]) for x in rows)
    assert key(leases(data_dir, net)) == key(live)
    assert audit(data_dir, net)[-1]["action"] == "restore"


def test_restore_guard(data_dir):
    conf = ipam_conf(data_dir)
    net = conf["name"]
    add_n(conf, 1, "old")
    out = data_dir / "early.db"
    ipamctl("backup", "--network", net, "--output", str(out), data_dir=data_dir)
    add_n(conf, 8, "new")
    before = state(data_dir, net)
    # Restoring the early backup would drop 8 of 9 live leases: over the limit.
    p = ipamctl("restore", str(out), "--network", net, data_dir=data_dir)
    assert "drop" in p.stdout and state(data_dir, net) == before
    p = ipamctl("restore", str(out), "--network", net, "--apply", data_dir=data_dir, check=False)
    assert p.returncode != 0 and "refused" in p.stderr, p
    assert state(data_dir, net) == before
    ipamctl("restore", str(out), "--network", net, "--apply", "--force", data_dir=data_dir)
    assert [x["containerID"] for x in leases(data_dir, net)] == ["old0"]
    assert len(backups(data_dir, net)) == 1


def test_gc_verb_guard_backup_audit(data_dir):
    conf = ipam_conf(data_dir)
    net = conf["name"]
    add_n(conf, 4)
    before = state(data_dir, net)

    def gc(valid):
        c = dict(conf, **{"cni.dev/valid-attachments": [{"containerID": v, "ifname": "eth0"} for v in valid]})
        return ipam("GC", c)
    r = gc([])
    assert err_code(r) == 103, r
    r = gc(["c0"])  # would free 3 of 4 (> 50%)
    assert err_code(r) == 103, r
    assert state(data_dir, net) == before
    r = gc(["c0", "c1", "c2"])
    assert r.ok, r
    assert sorted(x["containerID"] for x in leases(data_dir, net)) == ["c0", "c1", "c2"]
    [b] = backups(data_dir, net)
    entry = audit(data_dir, net)[-1]
    assert entry["action"] == "gc" and "cni-gc" in entry["actor"] and str(b) in entry["detail"]
    # The backup holds the pre-GC lease set.
    db = sqlite3.connect(f"file:{b}?mode=ro", uri=True)
    assert sorted(x[0] for x in db.execute("SELECT container_id FROM leases")) == ["c0", "c1", "c2", "c3"]
    db.close()


def run_with_rusage(conf, container_id):
    """One ADD; returns (rc, code, seconds, max RSS KiB)."""
    env = {"PATH": "/usr/bin:/bin", "CNI_COMMAND": "ADD", "CNI_CONTAINERID": container_id, "CNI_IFNAME": "eth0",
           "CNI_NETNS": "/var/run/netns/none", "CNI_PATH": str(BIN_DIR)}
    t0 = time.monotonic()
    p = subprocess.Popen([binary("holdfast-ipam")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=env)
    p.stdin.write(json.dumps(conf).encode())
    p.stdin.close()
    out = p.stdout.read()
    p.stdout.close()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.monotonic() - t0
    code = None if p.returncode == 0 else json.loads(out).get("code")
    return p.returncode, code, elapsed, usage.ru_maxrss


def test_flood_rate_limit_and_waiter_cap(data_dir):
    conf = ipam_conf(data_dir, subnet="10.67.0.0/22", lockTimeoutMs=2000, maxWaiters=8,
                     rateLimit={"perSecond": 40, "burst": 20})
    net = conf["name"]
    base = [run_with_rusage(conf, f"warm{i}") for i in range(3)]
    assert all(b[0] == 0 for b in base), base
    baseline_rss = max(b[3] for b in base)
    ipamctl("release", "--all", "--network", net, "--apply", "--force", data_dir=data_dir)
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        results = list(pool.map(lambda i: (f"f{i}",) + run_with_rusage(conf, f"f{i}"), range(1000)))
    wall = time.monotonic() - t0
    ok = [r for r in results if r[1] == 0]
    busy = [r for r in results if r[2] == 11]
    other = [r for r in results if r[1] != 0 and r[2] != 11]
    max_latency = max(r[3] for r in results)
    max_rss = max(r[4] for r in results)
    print(f"\nflood: {len(results)} ADDs in {wall:.1f}s, ok={len(ok)}, error11={len(busy)}, other={len(other)}, "
          f"max latency={max_latency:.3f}s, max RSS={max_rss} KiB (uncontended {baseline_rss} KiB)")
    assert not other, other[:5]
    assert ok and busy
    assert max_latency < 2.0 + 1.5, max_latency  # the lock deadline plus process start/exit
    assert max_rss <= baseline_rss * 1.25 + 2048, (max_rss, baseline_rss)
    # The bucket held: no more allocations than burst + rate * elapsed.
    assert len(ok) <= 20 + 40 * wall + 5
    # No lease without a container: exactly the successful ADDs hold leases.
    held = sorted(x["containerID"] for x in leases(data_dir, net))
    assert held == sorted(r[0] for r in ok)
    m = ipamctl("metrics", "--network", net, data_dir=data_dir).stdout
    assert 0 < metric(m, "holdfast_errors_total", network=net, code="11") <= len(busy)
    assert metric(m, "holdfast_lock_wait_seconds_count", network=net) > 0


def test_structured_log_rotation_and_failure(data_dir, tmp_path):
    log = tmp_path / "logs" / "holdfast.log"
    conf = ipam_conf(data_dir, logFile=str(log), logMaxBytes=4096, logKeep=2)
    for i in range(40):
        r = ipam("ADD", conf, container_id=f"l{i}")
        assert r.ok and r.json["ips"], r  # stdout is only the result
        assert ipam("DEL", conf, container_id=f"l{i}").ok
    assert log.exists() and (tmp_path / "logs" / "holdfast.log.1").exists()
    assert not (tmp_path / "logs" / "holdfast.log.3").exists()
    assert os.path.getsize(log) <= 4096
    lines = [json.loads(x) for f in ("holdfast.log.1", "holdfast.log") for x in open(tmp_path / "logs" / f)]
    add = next(x for x in lines if x["verb"] == "ADD")
    assert {"time", "verb", "network", "container", "addresses", "durationMs", "outcome", "plugin", "pid"} <= add.keys()
    assert add["outcome"] == "ok" and add["network"] == conf["name"] and add["addresses"]
    # An error is logged with its code.
    ipamctl("freeze", "--network", conf["name"], "--reason", "log test", data_dir=data_dir)
    assert err_code(ipam("ADD", conf, container_id="x")) == 11
    last = json.loads(open(log).read().splitlines()[-1])
    assert last["outcome"] == "error" and last["code"] == 11 and "log test" in last["message"]
    ipamctl("unfreeze", "--network", conf["name"], data_dir=data_dir)
    # A log that cannot be written never fails the operation.
    bad = ipam_conf(data_dir, logFile="/proc/holdfast-no/such.log")
    assert ipam("ADD", bad, container_id="y").ok
    via_env = ipam("ADD", ipam_conf(data_dir), container_id="z", env_extra={"HOLDFAST_LOG": str(tmp_path / "env.log")})
    assert via_env.ok and json.loads(open(tmp_path / "env.log").read())["container"] == "z"


def test_metrics_textfile_atomic(data_dir, tmp_path):
    conf = ipam_conf(data_dir)
    add_n(conf, 2)
    out = tmp_path / "holdfast.prom"
    ipamctl("metrics", "--textfile", str(out), data_dir=data_dir)
    text = out.read_text()
    assert metric(text, "holdfast_pool_size", network=conf["name"], range="10.66.0.1-10.66.0.254") == 253
    assert metric(text, "holdfast_leases_free", network=conf["name"]) == 251
    assert "# TYPE holdfast_lock_wait_seconds histogram" in text
    assert [f for f in os.listdir(tmp_path) if f != "holdfast.prom"] == []


def test_bad_config_values_are_config_errors(data_dir):
    for bad in ({"rateLimit": {"perSecond": 0}}, {"maxWaiters": -1}, {"logFile": "relative.log"}, {"logMaxBytes": 10}):
        r = ipam("ADD", ipam_conf(data_dir, **bad))
        assert err_code(r) == 7, (bad, r)


@pytest.mark.parametrize("args, why", [
    (["freeze", "--network", "nosuch", "--reason", "x"], "unknown network"),
    (["unfreeze", "--network", "nosuch"], "unknown network"),
    (["release", "10.66.0.2", "--network", "nosuch"], "unknown network"),
    (["release", "--all", "--network", "nosuch", "--apply"], "unknown network"),
    (["metrics", "--network", "nosuch"], "unknown network"),
    (["backup", "--network", "nosuch"], "unknown network"),
    (["audit", "--network", "nosuch"], "unknown network"),
    (["restore", "BACKUP", "--network", "nosuch", "--apply"], "unknown network"),
    (["release", "10.66.0.999", "--network", "NET", "--apply"], "malformed IP"),
    (["release", "not-an-ip", "--network", "NET"], "malformed IP"),
    (["release", "10.66.0.2", "--all", "--network", "NET", "--apply"], "only one of"),
    (["release", "--container", "c0", "--all", "--network", "NET"], "only one of"),
    (["release", "--network", "NET", "--apply"], "say what to release"),
    (["release", "--all", "--apply", "--force"], "needs --network"),
    (["release", "10.66.0.2", "--network", "NET", "--force"], "--force only"),
    (["release", "--all", "--network", "NET", "--apply", "--max-release-fraction", "2"], "max-release-fraction"),
    (["release", "--all", "--network", "NET", "--apply", "--max-release", "0"], "max-release"),
    (["release", "10.66.0.77", "--network", "NET", "--apply"], "no lease"),
    (["freeze", "--network", "NET"], "reason"),
    (["freeze", "--network", "NET", "--reason", "  "], "must not be empty"),
    (["backup", "--output", "OUT"], "--network"),
    (["restore", "BACKUP"], "needs --network"),
    (["restore", "/nonexistent/backup.db", "--network", "NET", "--apply"], "cannot read"),
    (["restore", "GARBAGE", "--network", "NET", "--apply"], "not a usable Holdfast backup"),
    (["metrics", "--textfile", "/nonexistent-dir/x.prom"], "does not exist"),
    (["release", "10.66.0.2", "--network", "../etc", "--apply"], "network"),
])
def test_bad_input_changes_nothing(data_dir, tmp_path, args, why):
    conf = ipam_conf(data_dir)
    other = ipam_conf(data_dir)
    net = conf["name"]
    add_n(conf, 3)
    add_n(other, 1)  # two networks, so "--output" without --network is ambiguous
    backup = data_dir / "b.db"
    ipamctl("backup", "--network", net, "--output", str(backup), data_dir=data_dir)
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(os.urandom(4096))
    subst = {"NET": net, "BACKUP": str(backup), "OUT": str(tmp_path / "o.db"), "GARBAGE": str(garbage)}
    args = [subst.get(a, a) for a in args]
    before = state(data_dir, net)
    p = ipamctl(*args, data_dir=data_dir, check=False)
    assert p.returncode != 0, p
    assert why in p.stderr, p.stderr
    assert state(data_dir, net) == before
    assert not (tmp_path / "o.db").exists()
    assert not (data_dir / "nosuch").exists()
