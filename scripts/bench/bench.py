#!/usr/bin/env python3
"""Holdfast against the reference CNI plugins, scenario by scenario, in one run.

The machine is shared and noisy, so no figure stands alone: every scenario runs
Holdfast and the reference (Debian's containernetworking-plugins) on configs that
differ only in plugin type, bridge, subnet and dataDir, alternating run by run,
and reports the ratio of medians.

Method:
- Every namespace is created before timing starts, has a name unique to this run
  (prefix in $HOLDFAST_BENCH_TAG) and is deleted by name in a finally block (also
  on Ctrl-C / SIGTERM; scripts/bench.sh deletes leftovers by the same prefix).
- The driver enters a private "node" namespace once with setns(2), so plugins it
  spawns run there without an `ip netns exec` wrapper; bridges, veths, nftables
  tables and sysctls vanish with that namespace. No traffic is sent at all.
- Only the plugin process is timed: posix_spawn with stdin/stdout/stderr opened
  by the spawn itself, then wait4, whose rusage gives the run's peak RSS.

Usage: bench.py [--quick] [--json FILE] [--only s1,s2,s3,s4,profile]
"""
import argparse
import ctypes
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BIN = Path(os.environ.get("HOLDFAST_BIN_DIR", REPO / ".build" / "release"))
REF = Path("/usr/lib/cni")
TAG = os.environ.get("HOLDFAST_BENCH_TAG") or f"hfb{uuid.uuid4().hex[:6]}"
CLONE_NEWNET = 0x40000000
VERSION = "1.0.0"  # the highest version Debian's reference plugins (1.1.1) accept

libc = ctypes.CDLL(None, use_errno=True)


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- namespaces

class Namespaces:
    """Every namespace this run creates, deleted by name at the end."""

    def __init__(self):
        self.names = []
        self.counter = 0
        self.host_fd = os.open("/proc/self/ns/net", os.O_RDONLY)

    def make(self, kind):
        self.counter += 1
        name = f"{TAG}-{kind}{self.counter}"
        subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
        self.names.append(name)
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True, capture_output=True)
        return name

    def make_many(self, kind, n):
        """Creates n namespaces with one `ip -batch` (fast for hundreds)."""
        names = []
        for _ in range(n):
            self.counter += 1
            names.append(f"{TAG}-{kind}{self.counter}")
        self.names.extend(names)
        # `-n` is not accepted inside a batch; the plugins do not need lo up.
        batch = "".join(f"netns add {x}\n" for x in names)
        subprocess.run(["ip", "-batch", "-"], input=batch.encode(), check=True, capture_output=True)
        return names

    def delete(self, names):
        if not names:
            return
        batch = "".join(f"netns del {x}\n" for x in names)
        subprocess.run(["ip", "-force", "-batch", "-"], input=batch.encode(), capture_output=True)
        for x in names:
            if x in self.names:
                self.names.remove(x)

    def enter(self, name):
        fd = os.open(f"/var/run/netns/{name}", os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), f"setns({name})")
        finally:
            os.close(fd)

    def leave(self):
        if libc.setns(self.host_fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns(host)")

    def cleanup(self):
        self.leave()
        self.delete(list(self.names))


# --------------------------------------------------------------------------- running plugins

def build_launcher(scratch):
    """Compiles spawn.c (static when libc.a is there) into the scratch dir."""
    exe = str(Path(scratch) / "spawn")
    for cc in ("cc", "gcc", "clang", "/opt/swift/usr/bin/clang"):
        if not shutil.which(cc):
            continue
        for static in (["-static"], []):
            if subprocess.run([cc, "-O2", *static, "-o", exe, str(HERE / "spawn.c")], capture_output=True).returncode == 0:
                return exe
    sys.exit("no C compiler found for scripts/bench/spawn.c (install gcc)")


class Run:
    __slots__ = ("plugin", "command", "rc", "seconds", "rss_kib", "cpu_ms", "stdout", "stderr", "start", "end")

    def __init__(self, plugin, command):
        self.plugin, self.command = plugin, command
        self.rc = None
        self.seconds = self.rss_kib = self.cpu_ms = None
        self.stdout = self.stderr = b""

    @property
    def ok(self):
        return self.rc == 0

    def json(self):
        try:
            return json.loads(self.stdout)
        except ValueError:
            return None

    def cni_code(self):
        j = self.json()
        return j.get("code") if isinstance(j, dict) else None

    def addresses(self):
        j = self.json() or {}
        return [ip["address"].split("/")[0] for ip in j.get("ips", [])]


class Runner:
    """Spawns plugins with posix_spawn and reaps them with wait4 (rusage = peak RSS)."""

    def __init__(self, scratch):
        self.scratch = Path(scratch)
        self.live = {}  # pid -> (Run, slot)
        self.cfg_cache = {}
        self.launcher = build_launcher(self.scratch)

    def cfg_file(self, config):
        text = json.dumps(config)
        if text not in self.cfg_cache:
            p = self.scratch / f"cfg{len(self.cfg_cache)}.json"
            p.write_text(text)
            self.cfg_cache[text] = str(p)
        return self.cfg_cache[text]

    @staticmethod
    def env(command, cid, netns, ifname, cni_path):
        return {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "CNI_COMMAND": command, "CNI_CONTAINERID": cid,
                "CNI_NETNS": netns, "CNI_IFNAME": ifname, "CNI_PATH": cni_path}

    def spawn(self, job, slot):
        plugin, command, config, cid, netns, ifname = job
        cni_path = str(BIN) if str(plugin).startswith(str(BIN)) else str(REF)
        out = str(self.scratch / f"out{slot}")
        wr = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        actions = [(os.POSIX_SPAWN_OPEN, 0, self.cfg_file(config), os.O_RDONLY, 0),
                   (os.POSIX_SPAWN_OPEN, 1, out, wr, 0o600),
                   (os.POSIX_SPAWN_OPEN, 2, out + ".err", wr, 0o600)]
        run = Run(Path(plugin).name, command)
        env = self.env(command, cid, netns, ifname, cni_path)
        run.start = time.perf_counter()
        pid = os.posix_spawn(self.launcher, [self.launcher, out + ".res", str(plugin)], env, file_actions=actions)
        self.live[pid] = (run, slot)
        return run

    def reap(self, pid=-1):
        pid, status, ru = os.wait4(pid, 0)
        end = time.perf_counter()
        run, slot = self.live.pop(pid)
        run.end = end
        out = self.scratch / f"out{slot}"
        try:
            ns, rss, wstatus, cpu = open(str(out) + ".res").read().split()
        except (OSError, ValueError):  # the launcher itself failed
            run.seconds, run.rss_kib, run.rc = end - run.start, None, os.waitstatus_to_exitcode(status)
        else:
            # The launcher's own clock: fork -> wait4 of the plugin, nothing of Python's.
            run.seconds, run.rss_kib, run.cpu_ms = int(ns) / 1e9, int(rss), int(cpu) / 1000
            run.rc = os.waitstatus_to_exitcode(int(wstatus))
            os.unlink(str(out) + ".res")
        run.stdout = out.read_bytes()
        run.stderr = Path(str(out) + ".err").read_bytes()
        return run, slot

    def one(self, job):
        self.spawn(job, 0)
        return self.reap()[0]

    def many(self, jobs, concurrency):
        """Runs jobs with at most `concurrency` in flight; returns (runs in job order, wall seconds)."""
        runs = [None] * len(jobs)
        free = list(range(concurrency))
        slot_job = {}
        nxt = 0
        t0 = time.perf_counter()
        while nxt < len(jobs) or self.live:
            while free and nxt < len(jobs):
                slot = free.pop()
                slot_job[slot] = nxt
                runs[nxt] = self.spawn(jobs[nxt], slot)
                nxt += 1
            run, slot = self.reap()
            free.append(slot)
        return runs, time.perf_counter() - t0

    def kill_all(self):
        for pid in list(self.live):
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except OSError:
                pass
        self.live.clear()


# --------------------------------------------------------------------------- helpers

def med_ms(runs):
    xs = [r.seconds for r in runs if r.ok]
    return statistics.median(xs) * 1000 if xs else float("nan")


def cpu_ms(runs):
    xs = [r.cpu_ms for r in runs if r.ok and r.cpu_ms is not None]
    return statistics.median(xs) if xs else float("nan")


def pct_ms(runs, p):
    xs = sorted(r.seconds for r in runs if r.ok)
    if not xs:
        return float("nan")
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] * 1000


def max_rss(runs):
    return max((r.rss_kib for r in runs if r.rss_kib), default=0)


def fail_summary(runs):
    bad = [r for r in runs if not r.ok]
    if not bad:
        return None
    r = bad[0]
    return f"{len(bad)} failed; first: rc={r.rc} out={r.stdout[:300]!r} err={r.stderr[-300:]!r}"


def settle_retired(timeout=5.0):
    """Waits until no retired holdfast veth (`hfr...`) is left in this namespace.

    Holdfast's DEL retires the veth and a detached child deletes it; that
    kernel teardown must not overlap a timed reference run, or the reference
    would pay for our work. Holdfast's own next ADD is not settled for, so it
    is measured with the teardown still running when the loop order puts it
    right after a Holdfast DEL. Returns the seconds waited.
    """
    start = time.monotonic()
    while any(name.startswith("hfr") for _, name in socket.if_nameindex()):
        if time.monotonic() - start > timeout:
            raise RuntimeError(f"retired veths still present after {timeout}s")
        time.sleep(0.0005)
    return time.monotonic() - start


def bridge_conf(kind, name, bridge, subnet, data_dir, masq=False, lock_ms=None):
    hf = kind == "hf"
    ipam = {"type": "holdfast-ipam" if hf else "host-local", "dataDir": str(data_dir),
            "ranges": [[{"subnet": subnet}]]}
    if hf and lock_ms:
        ipam["lockTimeoutMs"] = lock_ms
    return {"cniVersion": VERSION, "name": name, "type": "holdfast" if hf else "bridge", "bridge": bridge,
            "isGateway": True, "ipMasq": masq, "ipam": ipam}


def plugin_path(kind, ipam_only=False):
    if ipam_only:
        return BIN / "holdfast-ipam" if kind == "hf" else REF / "host-local"
    return BIN / "holdfast" if kind == "hf" else REF / "bridge"


class Bench:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.ns = Namespaces()
        self.scratch = Path(tempfile.mkdtemp(prefix=f"{TAG}-scratch-", dir="/dev/shm"))
        # Lease stores on the real disk, where fsync costs what it costs in production.
        self.data = Path(tempfile.mkdtemp(prefix=f"{TAG}-data-", dir="/var/tmp"))
        self.runner = Runner(self.scratch)
        self.rows = []       # table rows
        self.results = {}    # everything, for JSON
        self.net_counter = 0

    def net(self, kind):
        self.net_counter += 1
        return f"{TAG}-{kind}{self.net_counter}"

    def brname(self, kind):
        self.net_counter += 1
        return f"{TAG[:7]}{kind}{self.net_counter}"[:15]

    def row(self, scenario, hf_ms, ref_ms, hf_rss, ref_rss, target=None, met=None, note=""):
        ratio = hf_ms / ref_ms if ref_ms and ref_ms == ref_ms else float("nan")
        self.rows.append({"scenario": scenario, "holdfast_ms": hf_ms, "reference_ms": ref_ms, "ratio": ratio,
                          "holdfast_rss_kib": hf_rss, "reference_rss_kib": ref_rss, "target": target,
                          "met": met, "note": note})

    def node(self, label):
        name = self.ns.make(f"node{label}")
        self.ns.enter(name)
        subprocess.run(["sysctl", "-qw", "net.ipv4.ip_forward=1"], capture_output=True)
        return name

    def end_node(self, names):
        self.ns.leave()
        self.ns.delete(names)

    # ----------------------------------------------------------------------- scenario 1

    def latency(self, masq, cycles):
        label = "masq" if masq else "plain"
        node = self.node(f"s1{label[0]}")
        ctr = {"hf": self.ns.make("c"), "ref": self.ns.make("c")}
        confs = {"hf": bridge_conf("hf", self.net("hf"), self.brname("h"), "10.201.0.0/16", self.data / "s1hf", masq),
                 "ref": bridge_conf("ref", self.net("ref"), self.brname("r"), "10.202.0.0/16", self.data / "s1ref", masq)}
        runs = {(k, c): [] for k in confs for c in ("ADD", "DEL")}
        warm = 3
        for i in range(warm + cycles):
            order = ("hf", "ref") if i % 2 == 0 else ("ref", "hf")
            for cmd in ("ADD", "DEL"):
                for k in order:
                    if k == "ref":
                        settle_retired()
                    r = self.runner.one((plugin_path(k), cmd, confs[k], f"{label}-{i}", f"/var/run/netns/{ctr[k]}", "eth0"))
                    if i >= warm:
                        runs[(k, cmd)].append(r)
                    elif not r.ok:
                        raise RuntimeError(f"warm-up {k} {cmd} failed: {r.stdout!r} {r.stderr[-500:]!r}")
        for cmd in ("ADD", "DEL"):
            h, f = runs[("hf", cmd)], runs[("ref", cmd)]
            hm, fm = med_ms(h), med_ms(f)
            limit = 0.55 if cmd == "ADD" else 0.8  # issue 13's targets
            met = hm <= limit * fm and not fail_summary(h)
            note = "; ".join(x for x in (fail_summary(h), fail_summary(f) and "ref " + fail_summary(f)) if x)
            note = "; ".join(x for x in (f"cpu hf {cpu_ms(h):.1f} / ref {cpu_ms(f):.1f} ms (ref incl. host-local"
                                         f"{' + iptables' if masq else ''} children)", note) if x)
            self.row(f"1 bridge {cmd} ipMasq={str(masq).lower()} ({cycles}x)", hm, fm, max_rss(h), max_rss(f),
                     f"<= {limit}x", met, note)
            self.results[f"s1_{label}_{cmd}"] = {
                "holdfast_ms": [r.seconds * 1000 for r in h], "reference_ms": [r.seconds * 1000 for r in f],
                "holdfast_p90_ms": pct_ms(h, 90), "reference_p90_ms": pct_ms(f, 90),
                "holdfast_cpu_ms": cpu_ms(h), "reference_cpu_ms": cpu_ms(f)}
        self.end_node([node, *ctr.values()])

    def ipam_latency(self, cycles):
        confs = {k: bridge_conf(k, self.net(k), "unused", s, self.data / f"s1i{k}")
                 for k, s in (("hf", "10.203.0.0/16"), ("ref", "10.204.0.0/16"))}
        runs = {(k, c): [] for k in confs for c in ("ADD", "DEL")}
        warm = 3
        for i in range(warm + cycles):
            order = ("hf", "ref") if i % 2 == 0 else ("ref", "hf")
            for cmd in ("ADD", "DEL"):
                for k in order:
                    r = self.runner.one((plugin_path(k, True), cmd, confs[k], f"ipam-{i}", "/var/run/netns/none", "eth0"))
                    if i >= warm:
                        runs[(k, cmd)].append(r)
        for cmd in ("ADD", "DEL"):
            h, f = runs[("hf", cmd)], runs[("ref", cmd)]
            hm, fm = med_ms(h), med_ms(f)
            self.row(f"1 IPAM-only {cmd} ({cycles}x)", hm, fm, max_rss(h), max_rss(f), "<= 1.0x",
                     hm <= fm and not fail_summary(h),
                     "; ".join(x for x in (f"cpu hf {cpu_ms(h):.1f} / ref {cpu_ms(f):.1f} ms", fail_summary(h),
                                           fail_summary(f)) if x))
            self.results[f"s1_ipam_{cmd}"] = {"holdfast_ms": [r.seconds * 1000 for r in h],
                                              "reference_ms": [r.seconds * 1000 for r in f]}

    def startup(self, n):
        """VERSION: process start + config-free dispatch, the floor of any CNI call."""
        runs = {k: [] for k in ("holdfast", "holdfast-ipam", "bridge", "host-local")}
        for i in range(n):
            for k in runs:
                p = BIN / k if k.startswith("holdfast") else REF / k
                runs[k].append(self.runner.one((p, "VERSION", {"cniVersion": VERSION}, "", "", "")))
        for hf, ref, label in (("holdfast", "bridge", "bridge"), ("holdfast-ipam", "host-local", "IPAM")):
            hm, fm = med_ms(runs[hf]), med_ms(runs[ref])
            self.row(f"0 VERSION (process start) {label}", hm, fm, max_rss(runs[hf]), max_rss(runs[ref]),
                     "<= 1.0x", hm <= fm)
        self.results["startup_ms"] = {k: med_ms(v) for k, v in runs.items()}

    # ----------------------------------------------------------------------- scenario 2

    def parallel(self, n, rounds):
        node = self.node("s2")
        ctrs = {k: self.ns.make_many("p", n) for k in ("hf", "ref")}
        confs = {"hf": bridge_conf("hf", self.net("hf"), self.brname("h"), "10.205.0.0/16", self.data / "s2hf"),
                 "ref": bridge_conf("ref", self.net("ref"), self.brname("r"), "10.206.0.0/16", self.data / "s2ref")}
        walls = {(k, c): [] for k in confs for c in ("ADD", "DEL")}
        allruns = {(k, c): [] for k in confs for c in ("ADD", "DEL")}
        problems = []
        for k in confs:  # warm-up: the bridge exists before timing, as on a busy node
            r = self.runner.one((plugin_path(k), "ADD", confs[k], "warm", f"/var/run/netns/{ctrs[k][0]}", "eth0"))
            r2 = self.runner.one((plugin_path(k), "DEL", confs[k], "warm", f"/var/run/netns/{ctrs[k][0]}", "eth0"))
            if not (r.ok and r2.ok):
                raise RuntimeError(f"s2 warm-up {k}: {r.stdout!r} {r.stderr[-400:]!r}")
        for rnd in range(rounds):
            order = ("hf", "ref") if rnd % 2 == 0 else ("ref", "hf")
            for k in order:
                for cmd in ("ADD", "DEL"):
                    jobs = [(plugin_path(k), cmd, confs[k], f"r{rnd}-{j}", f"/var/run/netns/{c}", "eth0")
                            for j, c in enumerate(ctrs[k])]
                    if k == "ref":
                        settle_retired()
                    runs, wall = self.runner.many(jobs, n)
                    walls[(k, cmd)].append(wall * 1000)
                    allruns[(k, cmd)].extend(runs)
                    bad = fail_summary(runs)
                    if bad:
                        problems.append(f"{k} {cmd} round {rnd}: {bad}")
                    if cmd == "ADD":
                        addrs = [a for r in runs if r.ok for a in r.addresses()]
                        if len(set(addrs)) != len(addrs) or len(addrs) != sum(r.ok for r in runs):
                            problems.append(f"{k} round {rnd}: duplicate or missing addresses")
        for cmd in ("ADD", "DEL"):
            hw, fw = statistics.median(walls[("hf", cmd)]), statistics.median(walls[("ref", cmd)])
            hf_bad = [p for p in problems if p.startswith("hf")]
            limit = 0.6 if cmd == "ADD" else 1.0  # issue 13: parallel ADD wall at most 0.6x
            self.row(f"2 {n} parallel {cmd} wall ({rounds} rounds)", hw, fw, max_rss(allruns[("hf", cmd)]),
                     max_rss(allruns[("ref", cmd)]), f"<= {limit}x, all ok, distinct", hw <= limit * fw and not hf_bad,
                     "; ".join(problems)[:300])
            self.results[f"s2_{cmd}"] = {"holdfast_wall_ms": walls[("hf", cmd)], "reference_wall_ms": walls[("ref", cmd)],
                                         "holdfast_per_call_median_ms": med_ms(allruns[("hf", cmd)]),
                                         "reference_per_call_median_ms": med_ms(allruns[("ref", cmd)]),
                                         "problems": problems}
        self.end_node([node, *ctrs["hf"], *ctrs["ref"]])

    # ----------------------------------------------------------------------- scenario 3

    def ipamctl_timed(self, data_dir, network, n=3):
        """Median wall and peak RSS of `ipamctl leases --json` (posix_spawn, stdout to tmpfs)."""
        times, rss, rows = [], 0, None
        out = self.scratch / "ipamctl.json"
        for _ in range(n):
            argv = [str(BIN / "ipamctl"), "leases", "--json", "--data-dir", str(data_dir), "--network", network]
            actions = [(os.POSIX_SPAWN_OPEN, 1, str(out), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)]
            res = str(self.scratch / "ipamctl.res")
            pid = os.posix_spawn(self.runner.launcher, [self.runner.launcher, res, *argv], {"PATH": "/usr/bin:/bin"},
                                 file_actions=actions)
            _, status, _ = os.wait4(pid, 0)
            if os.waitstatus_to_exitcode(status) != 0:
                raise RuntimeError("ipamctl leases failed")
            ns, kib, _, _ = open(res).read().split()
            times.append(int(ns) / 1e6)
            rss = max(rss, int(kib))
            rows = json.loads(out.read_bytes())
        return statistics.median(times), rss, rows

    def occupancy(self, levels, probes, fill_concurrency=4):
        confs = {k: bridge_conf(k, self.net(k), "unused", s, self.data / f"s3{k}")
                 for k, s in (("hf", "10.207.0.0/16"), ("ref", "10.208.0.0/16"))}
        filled = 0
        series = []
        for level in levels:
            if level > filled:
                # Holdfast: through holdfast-ipam itself, 4 callers at a time.
                jobs = [(plugin_path("hf", True), "ADD", confs["hf"], f"fill-{j}", "/var/run/netns/none", "eth0")
                        for j in range(filled, level)]
                runs, wall = self.runner.many(jobs, fill_concurrency)
                bad = fail_summary(runs)
                log(f"s3 fill hf {filled}->{level}: {wall:.1f}s ({len(jobs) / wall:.0f}/s){' ' + bad if bad else ''}")
                if bad:
                    raise RuntimeError(f"s3 fill hf: {bad}")
                # host-local: its ADD reads every lease file (GetByID), so filling through
                # the plugin is quadratic (28 ADD/s at 5,000); write its on-disk format
                # directly instead: one file per address holding "<containerID>\r\n<ifname>".
                t = time.perf_counter()
                write_host_local_leases(self.data / "s3ref" / confs["ref"]["name"], "10.208.0.0", filled, level)
                log(f"s3 fill ref {filled}->{level}: files written in {time.perf_counter() - t:.1f}s")
                filled = level
            runs = {(k, c): [] for k in confs for c in ("ADD", "DEL")}
            ref_spent, ref_budget = 0.0, 30.0
            for i in range(probes):
                order = ("hf", "ref") if i % 2 == 0 else ("ref", "hf")
                if i >= 5 and ref_spent > ref_budget:
                    order = ("hf",)  # host-local is O(leases) per call: cap its share of the run
                for cmd in ("ADD", "DEL"):
                    for k in order:
                        r = self.runner.one(
                            (plugin_path(k, True), cmd, confs[k], f"probe-{level}-{i}", "/var/run/netns/none", "eth0"))
                        runs[(k, cmd)].append(r)
                        if k == "ref":
                            ref_spent += r.seconds
            ctl_ms, ctl_rss, rows = self.ipamctl_timed(self.data / "s3hf", confs["hf"]["name"])
            active = sum(1 for r in rows if r.get("state") == "active")
            ref_files = sum(1 for p in (self.data / "s3ref" / confs["ref"]["name"]).iterdir()
                            if re.fullmatch(r"[0-9.]+", p.name))
            point = {"leases": level, "hf_add_ms": med_ms(runs[("hf", "ADD")]), "ref_add_ms": med_ms(runs[("ref", "ADD")]),
                     "hf_del_ms": med_ms(runs[("hf", "DEL")]), "ref_del_ms": med_ms(runs[("ref", "DEL")]),
                     "hf_rss_kib": max(max_rss(runs[("hf", "ADD")]), max_rss(runs[("hf", "DEL")])),
                     "ref_rss_kib": max(max_rss(runs[("ref", "ADD")]), max_rss(runs[("ref", "DEL")])),
                     "ipamctl_ms": ctl_ms, "ipamctl_rss_kib": ctl_rss, "ipamctl_rows": len(rows),
                     "ipamctl_active": active, "ref_lease_files": ref_files,
                     "hf_add_cpu_ms": cpu_ms(runs[("hf", "ADD")]), "ref_add_cpu_ms": cpu_ms(runs[("ref", "ADD")]),
                     "hf_probes": len(runs[("hf", "ADD")]), "ref_probes": len(runs[("ref", "ADD")]),
                     "failures": [x for x in (fail_summary(v) for v in runs.values()) if x]}
            log(f"s3 @{level}: {json.dumps(point)}")
            series.append(point)
        self.results["s3_series"] = series
        base = series[0]
        for p in series:
            self.row(f"3 IPAM ADD @{p['leases']} leases (/16, {probes}x)", p["hf_add_ms"], p["ref_add_ms"],
                     p["hf_rss_kib"], p["ref_rss_kib"], "(curve)", None,
                     f"DEL hf {p['hf_del_ms']:.1f} / ref {p['ref_del_ms']:.1f} ms; ADD cpu hf {p['hf_add_cpu_ms']:.1f} / "
                     f"ref {p['ref_add_cpu_ms']:.1f} ms; probes {p['hf_probes']}/{p['ref_probes']}; ipamctl {p['ipamctl_ms']:.0f} ms "
                     f"({p['ipamctl_active']} active)" + ("; " + "; ".join(p["failures"]) if p["failures"] else ""))
        top = series[-1]
        growth = top["hf_add_ms"] / base["hf_add_ms"]
        self.results["s3_targets"] = {"add_growth": growth, "ipamctl_ms": top["ipamctl_ms"],
                                      "max_plugin_rss_kib": max(p["hf_rss_kib"] for p in series)}
        self.row(f"3 target: ADD@{top['leases']} / ADD@0 (holdfast)", top["hf_add_ms"], base["hf_add_ms"], None, None,
                 "<= 1.25x", growth <= 1.25, f"reference grows {top['ref_add_ms'] / base['ref_add_ms']:.2f}x")
        self.row(f"3 target: ipamctl leases --json @{top['leases']}", top["ipamctl_ms"], 1000.0, top["ipamctl_rss_kib"], None,
                 "< 1000 ms", top["ipamctl_ms"] < 1000 and top["ipamctl_active"] == top["leases"],
                 f"{top['ipamctl_active']} active rows listed")
        rss = self.results["s3_targets"]["max_plugin_rss_kib"]
        self.row("3 target: peak RSS of one plugin run", None, None, rss, max(p["ref_rss_kib"] for p in series),
                 "< 20 MiB", rss < 20 * 1024)

    # ----------------------------------------------------------------------- scenario 4

    def flood(self, total, callers, lock_ms, n_ns=50):
        node = self.node("s4")
        per_ns = (total + n_ns - 1) // n_ns
        ctrs = {k: self.ns.make_many("f", n_ns) for k in ("hf", "ref")}
        confs = {"hf": bridge_conf("hf", self.net("hf"), self.brname("h"), "10.209.0.0/21", self.data / "s4hf",
                                   lock_ms=lock_ms),
                 "ref": bridge_conf("ref", self.net("ref"), self.brname("r"), "10.210.0.0/21", self.data / "s4ref")}
        out = {}
        for k in ("hf", "ref"):
            jobs = []
            for j in range(total):
                c = ctrs[k][j % n_ns]
                jobs.append((plugin_path(k), "ADD", confs[k], f"flood-{j}", f"/var/run/netns/{c}", f"eth{j // n_ns}"))
            runs, wall = self.runner.many(jobs, callers)
            ok = [r for r in runs if r.ok]
            codes = {}
            for r in runs:
                if not r.ok:
                    key = f"rc{r.rc}/cni{r.cni_code()}"
                    codes[key] = codes.get(key, 0) + 1
            addrs = [a for r in ok for a in r.addresses()]
            # What the kernel holds: container-side IPv4 addresses in every container namespace.
            kernel = []
            for c in ctrs[k]:
                j = json.loads(subprocess.run(["ip", "-n", c, "-j", "-4", "addr", "show"], capture_output=True,
                                              check=True).stdout or b"[]")
                kernel += [a["local"] for l in j for a in l.get("addr_info", []) if a["local"] != "127.0.0.1"]
            host_ports = json.loads(subprocess.run(["ip", "-j", "link", "show", "master", confs[k]["bridge"]],
                                                   capture_output=True, check=True).stdout or b"[]")
            if k == "hf":
                _, _, rows = self.ipamctl_timed(self.data / "s4hf", confs[k]["name"], n=1)
                store = [r["address"] for r in rows if r.get("state") == "active"]
            else:
                d = self.data / "s4ref" / confs[k]["name"]
                store = [p.name for p in d.iterdir() if re.fullmatch(r"[0-9.]+", p.name)]
            over = [r for r in runs if r.seconds * 1000 > lock_ms]
            res = {"requests": total, "callers": callers, "wall_s": wall, "ok": len(ok), "errors": codes,
                   "p50_ms": pct_ms(runs, 50), "p99_ms": pct_ms(runs, 99),
                   "max_ms": max(r.seconds for r in runs) * 1000, "over_deadline": len(over),
                   "max_rss_kib": max_rss(runs), "store_leases": len(store), "kernel_addrs": len(kernel),
                   "host_ports": len(host_ports), "distinct_addrs": len(set(addrs)) == len(addrs),
                   "store_matches_kernel": sorted(store) == sorted(kernel) == sorted(addrs)}
            out[k] = res
            log(f"s4 {k}: {json.dumps(res)}")
        self.results["s4"] = out
        h, f = out["hf"], out["ref"]
        met = (h["ok"] + sum(h["errors"].get(x, 0) for x in h["errors"] if x.endswith("cni11")) == total
               and h["over_deadline"] == 0 and h["store_matches_kernel"] and h["distinct_addrs"]
               and h["host_ports"] == h["ok"])
        self.row(f"4 flood {total} ADD / {callers} callers: max request", h["max_ms"], f["max_ms"], h["max_rss_kib"],
                 f["max_rss_kib"], f"all end <= {lock_ms} ms, no leak", met,
                 f"hf ok {h['ok']} err {h['errors']} store={h['store_leases']} kernel={h['kernel_addrs']} "
                 f"ports={h['host_ports']}; ref ok {f['ok']} err {f['errors']} store={f['store_leases']} "
                 f"kernel={f['kernel_addrs']}")
        self.row(f"4 flood wall (s->ms)", h["wall_s"] * 1000, f["wall_s"] * 1000, None, None, "(info)", None,
                 f"p50 {h['p50_ms']:.0f}/{f['p50_ms']:.0f} ms, p99 {h['p99_ms']:.0f}/{f['p99_ms']:.0f} ms")
        self.end_node([node, *ctrs["hf"], *ctrs["ref"]])

    # ----------------------------------------------------------------------- profile

    def profile(self, samples):
        """strace one Holdfast bridge ADD (and DEL) and attribute its time by syscall family."""
        if not shutil.which("strace"):
            self.results["profile"] = "strace not installed"
            return
        node = self.node("pr")
        ctr = self.ns.make("c")
        conf = bridge_conf("hf", self.net("hf"), self.brname("h"), "10.211.0.0/16", self.data / "prhf", masq=True)
        path = str(plugin_path("hf"))
        env = Runner.env("ADD", "warm", f"/var/run/netns/{ctr}", "eth0", str(BIN))
        cfg = json.dumps(conf).encode()
        for cmd in ("ADD", "DEL"):  # warm-up: bridge, table, store exist
            env["CNI_COMMAND"] = cmd
            subprocess.run([path], input=cfg, env=env, capture_output=True, check=True)
        profiles = {"ADD": [], "DEL": []}
        for i in range(samples):
            for cmd in ("ADD", "DEL"):
                env["CNI_COMMAND"], env["CNI_CONTAINERID"] = cmd, f"prof-{i}"
                trace = self.scratch / f"strace-{cmd}-{i}"
                p = subprocess.run(["strace", "-f", "-ttt", "-T", "-o", str(trace), path], input=cfg, env=env,
                                   capture_output=True)
                if p.returncode != 0:
                    raise RuntimeError(f"profile {cmd}: {p.stdout!r} {p.stderr[-400:]!r}")
                profiles[cmd].append(parse_strace(trace.read_text()))
        summary = {}
        for cmd, ps in profiles.items():
            keys = sorted({k for p in ps for k in p})
            summary[cmd] = {k: statistics.median(p.get(k, 0) for p in ps) for k in keys}
        self.results["profile"] = summary
        log(f"profile: {json.dumps(summary)}")
        self.end_node([node, ctr])


def write_host_local_leases(directory, base, start, end):
    """Leases [start, end) in host-local's disk format, from base+2 upwards (skips .0 and the gateway .1)."""
    directory.mkdir(parents=True, exist_ok=True)
    b = int.from_bytes(bytes(int(x) for x in base.split(".")), "big")
    last = None
    for j in range(start, end):
        ip = ".".join(str(x) for x in (b + 2 + j).to_bytes(4, "big"))
        fd = os.open(directory / ip, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, f"fill-{j}\r\neth0".encode())
        os.close(fd)
        last = ip
    if last:
        (directory / "last_reserved_ip.0").write_text(last)


CATEGORIES = [
    ("fsync", {"fsync", "fdatasync"}),
    ("netlink", {"sendmsg", "recvmsg", "sendto", "recvfrom", "socket", "bind", "getsockname", "setsockopt"}),
    ("setns", {"setns"}),
    ("flock", {"flock", "fcntl"}),
    ("file_io", {"pread64", "pwrite64", "read", "write", "openat", "close", "fstat", "newfstatat", "lseek",
                 "unlink", "access", "mkdir", "ftruncate", "statx", "getdents64", "readlink"}),
    ("memory", {"mmap", "munmap", "mprotect", "brk", "madvise", "mremap"}),
]


def parse_strace(text):
    """Seconds per syscall family, the first-to-last span, and the span until the first store access."""
    per = {}
    first = last = None
    store_open = None
    counts = {}
    for line in text.splitlines():
        m = re.match(r"\d+\s+(\d+\.\d+)\s+(\w+)\((.*?)<(\d+\.\d+)>\s*$", line)
        if not m:
            m2 = re.match(r"\d+\s+(\d+\.\d+)\s", line)
            if m2:
                t = float(m2.group(1))
                first = t if first is None else first
                last = t
            continue
        t, name, argtext, dur = float(m.group(1)), m.group(2), m.group(3), float(m.group(4))
        first = t if first is None else first
        last = t + dur
        if store_open is None and name == "openat" and ".sqlite" in argtext or (store_open is None and "leases" in argtext and name == "openat"):
            store_open = t - first
        cat = next((c for c, names in CATEGORIES if name in names), "other")
        per[cat] = per.get(cat, 0.0) + dur
        counts[cat] = counts.get(cat, 0) + 1
    out = {f"{k}_ms": v * 1000 for k, v in per.items()}
    out.update({f"{k}_calls": v for k, v in counts.items()})
    if first is not None:
        out["span_ms"] = (last - first) * 1000
    if store_open is not None:
        out["until_store_open_ms"] = store_open * 1000
    return out


def machine():
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        mem = f"{int(open('/proc/meminfo').readline().split()[1]) // 1024 // 1024} GiB"
    except (OSError, ValueError, IndexError):
        pass
    ref = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "containernetworking-plugins"], capture_output=True,
                         text=True).stdout
    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "kernel": platform.release(), "cpu": cpu, "cores": os.cpu_count(), "memory": mem,
            "reference": f"containernetworking-plugins {ref}", "disk_fs": fs_of("/var/tmp")}


def fs_of(path):
    p = subprocess.run(["stat", "-f", "-c", "%T", path], capture_output=True, text=True)
    return p.stdout.strip()


def fmt(x, unit=""):
    if x is None:
        return "-"
    if isinstance(x, float) and x != x:
        return "n/a"
    return f"{x:.1f}{unit}" if isinstance(x, float) else f"{x}{unit}"


def table(rows):
    head = ["scenario", "holdfast", "reference", "ratio", "hf RSS", "ref RSS", "target", "met"]
    lines = []
    for r in rows:
        lines.append([r["scenario"], fmt(r["holdfast_ms"], " ms"), fmt(r["reference_ms"], " ms"),
                      fmt(r["ratio"]) + "x" if r["ratio"] == r["ratio"] else "-",
                      f"{r['holdfast_rss_kib'] / 1024:.1f} MiB" if r["holdfast_rss_kib"] else "-",
                      f"{r['reference_rss_kib'] / 1024:.1f} MiB" if r["reference_rss_kib"] else "-",
                      r["target"] or "", {True: "yes", False: "NO", None: ""}[r["met"]]])
    w = [max(len(str(x)) for x in col) for col in zip(head, *lines)]
    out = ["  ".join(str(c).ljust(w[i]) for i, c in enumerate(head)), "  ".join("-" * x for x in w)]
    out += ["  ".join(str(c).ljust(w[i]) for i, c in enumerate(line)) for line in lines]
    notes = [f"  [{r['scenario']}] {r['note']}" for r in rows if r.get("note")]
    return "\n".join(out + (["", "notes:"] + notes if notes else []))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer cycles and a smaller occupancy series")
    ap.add_argument("--only", default="s0,s1,s2,s3,s4,profile")
    ap.add_argument("--json", default=None, help="write results here")
    ap.add_argument("--cycles", type=int, default=None)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench.py needs root (namespaces)")
    for p in (BIN / "holdfast", BIN / "holdfast-ipam", BIN / "ipamctl", REF / "bridge", REF / "host-local"):
        if not os.access(p, os.X_OK):
            sys.exit(f"missing {p}: run scripts/setup.sh and scripts/build.sh")
    only = set(args.only.split(","))
    cycles = args.cycles or (30 if args.quick else 200)
    levels = [0, 1000, 5000] if args.quick else [0, 1000, 10000, 60000]
    probes = 15 if args.quick else 50
    flood = 300 if args.quick else 1000

    def on_term(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)

    b = Bench(args)
    t0 = time.time()
    status = 0
    try:
        if "s0" in only:
            log("start-up (VERSION)")
            b.startup(30 if args.quick else 100)
        if "s1" in only:
            log(f"scenario 1: {cycles} ADD/DEL cycles, ipMasq false/true, IPAM-only")
            b.latency(False, cycles)
            b.latency(True, cycles)
            b.ipam_latency(cycles)
        if "s2" in only:
            log("scenario 2: 64 parallel ADD/DEL")
            b.parallel(64, 3 if args.quick else 5)
        if "s3" in only:
            log(f"scenario 3: occupancy {levels}")
            b.occupancy(levels, probes)
        if "s4" in only:
            log(f"scenario 4: flood of {flood} ADDs from 50 callers")
            b.flood(flood, 50, 2000)
        if "profile" in only:
            log("profile: strace of bridge ADD/DEL")
            b.profile(5 if args.quick else 15)
    except BaseException as e:  # noqa: BLE001 - report, clean up, re-raise status
        b.runner.kill_all()
        log(f"aborted: {type(e).__name__}: {e}")
        status = 1
    finally:
        b.runner.kill_all()
        b.ns.cleanup()
        shutil.rmtree(b.scratch, ignore_errors=True)
        subprocess.run([sys.executable, str(Path(__file__).resolve().parents[1] / "remove-proofs.py"), str(b.data)])
        shutil.rmtree(b.data, ignore_errors=True)
    elapsed = time.time() - t0
    doc = {"machine": machine(), "elapsed_s": elapsed, "quick": args.quick, "rows": b.rows, "results": b.results}
    print(f"Holdfast vs reference CNI plugins — {doc['machine']['date']}, {doc['machine']['cpu']}, "
          f"{doc['machine']['cores']} cores, kernel {doc['machine']['kernel']}, {doc['machine']['reference']}, "
          f"run took {elapsed:.0f} s{' (--quick)' if args.quick else ''}")
    print(table(b.rows))
    if "profile" in b.results:
        print("\nprofile (strace, medians, ms):")
        for cmd, p in b.results["profile"].items() if isinstance(b.results["profile"], dict) else []:
            print(f"  {cmd}: " + ", ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}"
                                           for k, v in p.items()))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(doc, indent=1, default=str))
        log(f"wrote {args.json}")
    return status


if __name__ == "__main__":
    sys.exit(main())
