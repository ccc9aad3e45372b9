#!/usr/bin/env python3
"""Kernel evidence without a bridge (issue 14), measured:

1. the namespace scan's cost: holdfast-ipam ADD median with its currency proof
   removed before every ADD (so each ADD scans every network namespace on the
   host) against the same ADD with a matching proof, at 0, 100 and 500 extra
   namespaces;
2. the IPAM-only ADD median with a matching proof, against a baseline build's
   holdfast-ipam (HOLDFAST_BASELINE_BIN_DIR, e.g. main's .build/release) when given;
3. the bridge ADD median with two networks on one bridge against one network
   (20 live containers on each network; ADDs alternate between the two).

Runs inside a private "node" namespace entered with setns (no `ip netns exec`
is timed). Every namespace it creates is named hfev<tag>*, and removed by name.

    scripts/bench-evidence.py [samples] [max-namespaces]
"""
import ctypes
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("HOLDFAST_BIN_DIR", os.path.join(REPO, ".build", "release"))
BASE = os.environ.get("HOLDFAST_BASELINE_BIN_DIR")
PROOF_DIR = "/run/holdfast/proof"
libc = ctypes.CDLL("libc.so.6", use_errno=True)
tag = uuid.uuid4().hex[:6]
created = []
cpu = {}   # binary -> CPU seconds (user+sys) of each timed ADD, for the CPU medians


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def netns(name):
    subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
    created.append(name)
    return f"/var/run/netns/{name}"


def proof_path(data_dir, network):
    h = 0xcbf29ce484222325
    for b in f"{data_dir}/{network}/leases.db".encode():
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"{PROOF_DIR}/{network}.{h:x}"


def run(binary, verb, conf, cid, path):
    env = {"CNI_COMMAND": verb, "CNI_CONTAINERID": cid, "CNI_IFNAME": "eth0", "CNI_NETNS": path, "CNI_PATH": BIN,
           "PATH": os.environ["PATH"]}
    c = child_cpu()
    t = time.perf_counter()
    p = subprocess.run([binary], input=conf, env=env, capture_output=True)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        raise SystemExit(f"{binary} {verb} failed: {p.stdout!r} {p.stderr!r}")
    if verb == "ADD":
        cpu.setdefault(binary, []).append(child_cpu() - c)
    return dt


def distinct_namespaces():
    """What the scan reads: distinct (dev, ino) over netns dirs and /proc/*/ns/net."""
    seen = set()
    paths = []
    for d in ("/run/netns", "/var/run/netns", "/run/docker/netns"):
        if os.path.isdir(d):
            paths += [os.path.join(d, n) for n in os.listdir(d)]
    paths += [f"/proc/{p}/ns/net" for p in os.listdir("/proc") if p.isdigit()]
    for p in paths:
        try:
            st = os.stat(p)
            seen.add((st.st_dev, st.st_ino))
        except OSError:
            pass
    return len(seen)


def ipam_conf(data_dir, name, subnet):
    return json.dumps({"cniVersion": "1.1.0", "name": name, "type": "macvlan",
                       "ipam": {"type": "holdfast-ipam", "dataDir": data_dir, "ranges": [[{"subnet": subnet}]],
                                "quarantineSeconds": 0}}).encode()


def cycle(binary, conf, probe, samples, before=None):
    adds = []
    for i in range(samples):
        if before:
            before()
        adds.append(run(binary, "ADD", conf, f"p{i}", probe))
        run(binary, "DEL", conf, f"p{i}", probe)
    return statistics.median(adds) * 1000


def main():
    samples = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    live_per_network = 20
    node = f"hfev{tag}"
    netns(node)
    fd = os.open(f"/var/run/netns/{node}", os.O_RDONLY)
    if libc.setns(fd, 0x40000000) != 0:
        raise SystemExit("setns failed")
    data_dir = tempfile.mkdtemp(prefix="holdfast-evidence-")
    ipam = os.path.join(BIN, "holdfast-ipam")
    probe = netns(f"hfev{tag}p")
    proofs = []
    lines = []
    try:
        # 1. Scan cost by namespace count.
        net = f"ev{tag}"
        conf = ipam_conf(data_dir, net, "10.232.0.0/22")
        proof = proof_path(data_dir, net)
        proofs.append(proof)

        def forget():
            if os.path.exists(proof):
                os.unlink(proof)
        run(ipam, "ADD", conf, "warm", probe)
        run(ipam, "DEL", conf, "warm", probe)
        extra = 0
        for target in [n for n in (0, 100, 500) if n <= top]:
            while extra < target:
                netns(f"hfev{tag}n{extra}")
                extra += 1
            total = distinct_namespaces()
            proven = cycle(ipam, conf, probe, samples)
            scanned = cycle(ipam, conf, probe, samples, before=forget)
            lines.append(f"scan, {target:3d} extra namespaces ({total:4d} on the host): ADD median "
                         f"{scanned:7.2f} ms scanning vs {proven:6.2f} ms proven; scan cost {scanned - proven:6.2f} ms")
        for name in [n for n in created if n.startswith(f"hfev{tag}n")]:
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
            created.remove(name)

        # 2. IPAM-only ADD with a matching proof, against the baseline build.
        rounds = {"this build": [], "baseline": []}
        for r in range(3):
            rounds["this build"].append(cycle(ipam, conf, probe, samples))
            if BASE:
                base_net = f"evb{tag}"
                rounds["baseline"].append(cycle(os.path.join(BASE, "holdfast-ipam"),
                                                ipam_conf(data_dir, base_net, "10.232.8.0/22"), probe, samples))
        mine = statistics.median(rounds["this build"])
        cpu.clear()
        for i in range(samples):
            for b, c in ((ipam, conf),) + (((os.path.join(BASE, "holdfast-ipam"),
                                              ipam_conf(data_dir, f"evb{tag}", "10.232.8.0/22")),) if BASE else ()):
                run(b, "ADD", c, f"cpu{i}", probe)
                run(b, "DEL", c, f"cpu{i}", probe)
        cpu_line = "; CPU per ADD median " + ", ".join(
            f"{'this build' if b == ipam else 'baseline'} {statistics.median(v) * 1000:5.2f} ms" for b, v in cpu.items())
        if BASE:
            base = statistics.median(rounds["baseline"])
            lines.append(f"IPAM-only ADD, matching proof: median {mine:6.2f} ms vs baseline {base:6.2f} ms "
                         f"({mine / base:4.2f}x) [{BASE}]" + cpu_line)
        else:
            lines.append(f"IPAM-only ADD, matching proof: median {mine:6.2f} ms (no HOLDFAST_BASELINE_BIN_DIR given)" + cpu_line)

        # 3. Bridge ADD, one network on a bridge vs two sharing it (ADDs alternate).
        def bridge_conf(name, bridge, subnet):
            return json.dumps({"cniVersion": "1.1.0", "name": name, "type": "holdfast", "bridge": bridge,
                               "isGateway": True, "ipam": {"type": "holdfast-ipam", "dataDir": data_dir,
                                                           "ranges": [[{"subnet": subnet}]]}}).encode()

        def bridge_bench(binary, label):
            one = bridge_conf(f"b1{label}{tag}", f"hfe1{label}{tag}", "10.233.0.0/22")
            a = bridge_conf(f"b2a{label}{tag}", f"hfe2{label}{tag}", "10.233.4.0/22")
            b = bridge_conf(f"b2b{label}{tag}", f"hfe2{label}{tag}", "10.233.8.0/22")
            for n in (f"b1{label}{tag}", f"b2a{label}{tag}", f"b2b{label}{tag}"):
                proofs.append(proof_path(data_dir, n))
            for k, c in enumerate((one, a, b)):
                run(binary, "ADD", c, "warm", probe)
                run(binary, "DEL", c, "warm", probe)
                # Live containers, so a full check (ports and peers) has something to read.
                for j in range(live_per_network):
                    run(binary, "ADD", c, f"live{j}", netns(f"hfev{tag}{label}{k}l{j}"))
            single, shared = [], []
            for i in range(samples):
                single.append(run(binary, "ADD", one, f"s{i}", probe))
                run(binary, "DEL", one, f"s{i}", probe)
                conf2 = a if i % 2 == 0 else b
                shared.append(run(binary, "ADD", conf2, f"t{i}", probe))
                run(binary, "DEL", conf2, f"t{i}", probe)
            return statistics.median(single) * 1000, statistics.median(shared) * 1000

        s1, s2 = bridge_bench(os.path.join(BIN, "holdfast"), "m")
        lines.append(f"bridge ADD median: one network {s1:6.2f} ms, two networks on one bridge {s2:6.2f} ms "
                     f"({s2 / s1:4.2f}x, target <= 1.25x)")
        if BASE:
            b1, b2 = bridge_bench(os.path.join(BASE, "holdfast"), "b")
            lines.append(f"baseline bridge ADD median: one network {b1:6.2f} ms, two on one bridge {b2:6.2f} ms "
                         f"({b2 / b1:4.2f}x)")
    finally:
        for name in reversed(created):
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
        for p in proofs:
            if os.path.exists(p):
                os.unlink(p)
        subprocess.run(["rm", "-rf", data_dir])
    print(f"bench-evidence ({samples} samples per median)")
    for line in lines:
        print("  " + line)


if __name__ == "__main__":
    main()
