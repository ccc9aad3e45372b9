#!/usr/bin/env python3
"""Cost of the store-currency check on ADD: median holdfast ADD latency on a
bridge with 0 and with 200 live containers, plus the same ADD timed while the
store has forgotten every port (each ADD then reads the peers' addresses).

Runs the plugin inside a private "node" namespace entered with setns, so no
`ip netns exec` is timed. Everything it creates is removed by name.
"""
import ctypes
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("HOLDFAST_BIN_DIR", os.path.join(REPO, ".build", "release"))
libc = ctypes.CDLL("libc.so.6", use_errno=True)
tag = uuid.uuid4().hex[:6]
created = []


def sh(*cmd):
    subprocess.run(cmd, check=True, capture_output=True)


def netns(name):
    sh("ip", "netns", "add", name)
    created.append(name)
    return f"/var/run/netns/{name}"


def run(verb, conf, cid, path):
    env = {"CNI_COMMAND": verb, "CNI_CONTAINERID": cid, "CNI_IFNAME": "eth0", "CNI_NETNS": path, "CNI_PATH": BIN,
           "PATH": os.environ["PATH"]}
    t = time.perf_counter()
    p = subprocess.run([os.path.join(BIN, "holdfast")], input=conf, env=env, capture_output=True)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        raise SystemExit(f"{verb} failed: {p.stdout!r} {p.stderr!r}")
    return dt


def main():
    samples = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    node = f"hfcur{tag}"
    netns(node)
    fd = os.open(f"/var/run/netns/{node}", os.O_RDONLY)
    if libc.setns(fd, 0x40000000) != 0:
        raise SystemExit("setns failed")
    data_dir = tempfile.mkdtemp(prefix="holdfast-currency-")
    conf = json.dumps({"cniVersion": "1.1.0", "name": f"cur{tag}", "type": "holdfast", "bridge": f"hfcur{tag}",
                       "isGateway": True, "ipam": {"type": "holdfast-ipam", "dataDir": data_dir,
                                                   "ranges": [[{"subnet": "10.98.0.0/22"}]]}}).encode()
    probe = netns(f"hfcurp{tag}")
    results = {}
    try:
        def measure(label):
            adds = []
            for i in range(samples):
                adds.append(run("ADD", conf, f"probe{i}", probe))
                run("DEL", conf, f"probe{i}", probe)
            results[label] = statistics.median(adds) * 1000
        run("ADD", conf, "warm", probe)
        run("DEL", conf, "warm", probe)
        measure("0 live containers")
        for i in range(200):
            run("ADD", conf, f"c{i}", netns(f"hfcur{tag}{i}"))
        measure("200 live containers")
        # Forget every port: the store is emptied, so the first ADD adopts all 200;
        # time that one ADD (the worst case of the check) a few times.
        worst = []
        for _ in range(5):
            db = os.path.join(data_dir, f"cur{tag}", "leases.db")
            for suffix in ("-wal", "-shm"):
                if os.path.exists(db + suffix):
                    os.unlink(db + suffix)
            open(db, "wb").close()
            worst.append(run("ADD", conf, "adopter", probe))
            run("DEL", conf, "adopter", probe)
        results["200 live, store emptied (adopts 200)"] = statistics.median(worst) * 1000
    finally:
        for name in reversed(created):
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
        subprocess.run(["rm", "-rf", data_dir])
    for k, v in results.items():
        print(f"{k:40s} ADD median {v:7.2f} ms")


if __name__ == "__main__":
    main()
