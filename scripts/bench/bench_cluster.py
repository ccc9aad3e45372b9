#!/usr/bin/env python3
"""Cluster mode against node-local, on the same machine in the same run.

Three figures (the ones issue 15 asks for):
- cluster-mode ADD with a free owned block, against node-local ADD (target
  within 10%), for the bridge plugin (in-process IPAM) and IPAM-only;
- the claim latency: an ADD that must claim a block first (blockPrefix /30, so
  each ADD claims), minus the ADD from an owned block;
- node-local ADD itself, to compare with scenario 1 of bench.py.

A one-member etcd runs in a namespace made for this run, on 127.0.0.1 there,
with its data on the real disk (/var/tmp), and is killed by PID at the end.
The driver enters that namespace with setns(2), so the plugins reach etcd and
their bridges vanish with it. Runs alternate cluster/local, as bench.py does.

With --baseline DIR (a directory holding another build's `holdfast`, e.g. the
main branch's release build), node-local bridge ADD is also timed with that
build, alternating, to show whether the node-local path changed.

Usage: bench_cluster.py [--quick] [--json FILE] [--cycles N] [--baseline DIR]
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench as B  # noqa: E402


def start_etcd(node, data):
    ep = "http://127.0.0.1:24379"
    log = open(data / "etcd.log", "ab")
    proc = subprocess.Popen(["ip", "netns", "exec", node, "etcd", "--name", "b", "--data-dir", str(data / "etcd"),
                             "--listen-client-urls", ep, "--advertise-client-urls", ep,
                             "--listen-peer-urls", "http://127.0.0.1:24380",
                             "--initial-advertise-peer-urls", "http://127.0.0.1:24380",
                             "--initial-cluster", "b=http://127.0.0.1:24380"], stdout=log, stderr=log)
    log.close()
    for _ in range(100):
        r = subprocess.run(["ip", "netns", "exec", node, "etcdctl", "--endpoints", ep, "endpoint", "health"],
                           capture_output=True, env=dict(os.environ, ETCDCTL_API="3"))
        if r.returncode == 0:
            return proc, ep
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("etcd did not start: " + (data / "etcd.log").read_text(errors="replace")[-800:])


def conf(kind, name, bridge, data_dir, ep=None, pool=None, block=None, ipam_only=False):
    ipam = {"type": "holdfast-ipam", "dataDir": str(data_dir)}
    if kind == "local":
        ipam["ranges"] = [[{"subnet": pool}]]
    else:
        ipam["cluster"] = {"etcd": {"endpoints": [ep], "prefix": "/hfbench", "timeoutMs": 2000},
                           "pools": [{"cidr": pool, "blockPrefix": block}], "nodeName": "bench-node"}
    return {"cniVersion": B.VERSION, "name": name, "type": "holdfast-ipam" if ipam_only else "holdfast",
            "bridge": bridge, "isGateway": True, "ipMasq": False, "ipam": ipam}


def cycles_of(runner, confs, plugin, ctr, label, cycles, warm=3):
    """ADD/DEL cycles alternating between configs; returns {kind: [ADD runs]}."""
    runs = {k: [] for k in confs}
    for i in range(warm + cycles):
        order = list(confs) if i % 2 == 0 else list(reversed(list(confs)))
        for cmd in ("ADD", "DEL"):
            for k in order:
                r = runner.one((plugin, cmd, confs[k], f"{label}-{k}-{i}", f"/var/run/netns/{ctr[k]}", "eth0"))
                if not r.ok:
                    raise RuntimeError(f"{label} {k} {cmd} failed: {r.stdout!r} {r.stderr[-400:]!r}")
                if i >= warm and cmd == "ADD":
                    runs[k].append(r)
    return runs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", default=None)
    ap.add_argument("--cycles", type=int, default=None)
    ap.add_argument("--baseline", default=None, help="directory with another build's holdfast binary")
    args = ap.parse_args()
    cycles = args.cycles or (30 if args.quick else 100)
    ns = B.Namespaces()
    scratch = Path(tempfile.mkdtemp(prefix=f"{B.TAG}-cscratch-", dir="/dev/shm"))
    data = Path(tempfile.mkdtemp(prefix=f"{B.TAG}-cdata-", dir="/var/tmp"))
    runner = B.Runner(scratch)
    etcd = None
    out = {}
    status = 0
    signal.signal(signal.SIGTERM, lambda s, f: (_ for _ in ()).throw(SystemExit(128 + s)))
    try:
        node = ns.make("cnode")
        etcd, ep = start_etcd(node, data)
        ns.enter(node)
        subprocess.run(["sysctl", "-qw", "net.ipv4.ip_forward=1"], capture_output=True)
        # 1. Bridge ADD: cluster (free owned /24 block) vs node-local.
        ctr = {"cluster": ns.make("cc"), "local": ns.make("cl")}
        bconfs = {"cluster": conf("cluster", f"{B.TAG}-cb", f"{B.TAG[:7]}cb", data / "cb", ep, "10.240.0.0/16", 24),
                  "local": conf("local", f"{B.TAG}-lb", f"{B.TAG[:7]}lb", data / "lb", pool="10.241.0.0/16")}
        B.log(f"cluster bench: {cycles} bridge ADD/DEL cycles, cluster vs node-local")
        r = cycles_of(runner, bconfs, B.BIN / "holdfast", ctr, "br", cycles)
        out["bridge_add_ms"] = {k: B.med_ms(v) for k, v in r.items()}
        # 2. IPAM-only ADD.
        iconfs = {"cluster": conf("cluster", f"{B.TAG}-ci", "unused", data / "ci", ep, "10.242.0.0/16", 24, True),
                  "local": conf("local", f"{B.TAG}-li", "unused", data / "li", pool="10.243.0.0/16", ipam_only=True)}
        B.log(f"cluster bench: {cycles} IPAM-only ADD/DEL cycles")
        r = cycles_of(runner, iconfs, B.BIN / "holdfast-ipam", {"cluster": "none", "local": "none"}, "ipam", cycles)
        out["ipam_add_ms"] = {k: B.med_ms(v) for k, v in r.items()}
        # 3. Claim latency: /30 blocks hold one address, so every IPAM-only ADD claims a block.
        claim_conf = conf("cluster", f"{B.TAG}-cc", "unused", data / "cc", ep, "10.244.0.0/16", 30, True)
        owned_conf = iconfs["cluster"]
        claim_runs, owned_runs = [], []
        B.log(f"cluster bench: {cycles} ADDs that claim a block")
        for i in range(cycles):
            for cfg, bucket in ((claim_conf, claim_runs), (owned_conf, owned_runs)):
                run = runner.one((B.BIN / "holdfast-ipam", "ADD", cfg, f"claim-{i}", "/var/run/netns/none", "eth0"))
                if not run.ok:
                    raise RuntimeError(f"claim ADD failed: {run.stdout!r}")
                bucket.append(run)
        out["claim_add_ms"] = B.med_ms(claim_runs)
        out["owned_add_ms"] = B.med_ms(owned_runs)
        out["claim_latency_ms"] = out["claim_add_ms"] - out["owned_add_ms"]
        out["claim_add_p90_ms"] = B.pct_ms(claim_runs, 90)
        if args.baseline:
            # 4. Node-local bridge ADD: this build against the baseline build, alternating.
            ctr2 = {"this": ns.make("lt"), "base": ns.make("lb")}
            lconfs = {"this": conf("local", f"{B.TAG}-lt", f"{B.TAG[:7]}lt", data / "lt", pool="10.245.0.0/16"),
                      "base": conf("local", f"{B.TAG}-lbase", f"{B.TAG[:7]}lz", data / "lbase", pool="10.246.0.0/16")}
            B.log(f"cluster bench: {cycles} node-local bridge ADD/DEL cycles, this build vs {args.baseline}")
            runs = {k: [] for k in lconfs}
            for i in range(3 + cycles):
                order = ("this", "base") if i % 2 == 0 else ("base", "this")
                for cmd in ("ADD", "DEL"):
                    for k in order:
                        plugin = B.BIN / "holdfast" if k == "this" else Path(args.baseline) / "holdfast"
                        r = runner.one((plugin, cmd, lconfs[k], f"base-{k}-{i}", f"/var/run/netns/{ctr2[k]}", "eth0"))
                        if not r.ok:
                            raise RuntimeError(f"baseline {k} {cmd} failed: {r.stdout!r}")
                        if i >= 3 and cmd == "ADD":
                            runs[k].append(r)
            out["node_local_add_ms"] = {k: B.med_ms(v) for k, v in runs.items()}
    except BaseException as e:  # noqa: BLE001
        B.log(f"cluster bench aborted: {type(e).__name__}: {e}")
        status = 1
    finally:
        runner.kill_all()
        if etcd and etcd.poll() is None:
            os.kill(etcd.pid, signal.SIGKILL)
            etcd.wait()
        ns.cleanup()
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(data, ignore_errors=True)
    if "bridge_add_ms" in out:
        b, i = out["bridge_add_ms"], out["ipam_add_ms"]
        print("\ncluster mode (etcd 1 member, same node; medians, ms):")
        print(f"  bridge ADD, free owned block: cluster {b['cluster']:.2f}  node-local {b['local']:.2f}  "
              f"ratio {b['cluster'] / b['local']:.3f} (target <= 1.10)")
        print(f"  IPAM-only ADD, free owned block: cluster {i['cluster']:.2f}  node-local {i['local']:.2f}  "
              f"ratio {i['cluster'] / i['local']:.3f}")
    if "claim_latency_ms" in out:
        print(f"  ADD that claims a block: {out['claim_add_ms']:.2f} (p90 {out['claim_add_p90_ms']:.2f}); "
              f"claim latency {out['claim_latency_ms']:.2f} over an owned-block ADD ({out['owned_add_ms']:.2f})")
    if "node_local_add_ms" in out:
        n = out["node_local_add_ms"]
        print(f"  node-local bridge ADD: this build {n['this']:.2f}  baseline {n['base']:.2f}  ratio {n['this'] / n['base']:.3f}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=1))
    return status


if __name__ == "__main__":
    sys.exit(main())
