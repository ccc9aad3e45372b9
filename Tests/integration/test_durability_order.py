"""The lease is on the disk before the answer: strace shows the store's fsync
before the result is written to stdout, and a steady-state ADD or DEL makes
exactly one fsync-class call (issue 13)."""
import json
import os
import re
import shutil
import subprocess

import pytest

from cnitool import BIN_DIR, REF_DIR, binary, leases, unique

pytestmark = pytest.mark.skipif(shutil.which("strace") is None, reason="strace not installed (scripts/setup.sh installs it)")

SYNC = re.compile(r"^\d+\s+(fsync|fdatasync)\((\d+)<([^>]*)>\)\s+=\s+0")
# A sync on another thread may be split by strace into "<unfinished ...>" and
# "<... fdatasync resumed>"; it counts when it completes.
SYNC_START = re.compile(r"^(\d+)\s+(fsync|fdatasync)\((\d+)<([^>]*)> <unfinished \.\.\.>")
SYNC_DONE = re.compile(r"^(\d+)\s+<\.\.\. (fsync|fdatasync) resumed>\)\s+=\s+0")
TRUNCATE = re.compile(r"^\d+\s+ftruncate\(\d+<([^>]*-wal)>, 0\)")
WAL_HEADER = re.compile(r"^\d+\s+pwrite64\(\d+<([^>]*-wal)>, .*, 32, 0\)")
RESULT = re.compile(r"^\d+\s+write\(1<[^>]*>, \"\{")


def conf_for(data_dir):
    return {"cniVersion": "1.0.0", "name": unique("dur"), "type": "bridge",
            "ipam": {"type": "holdfast-ipam", "dataDir": str(data_dir), "ranges": [[{"subnet": "10.78.0.0/24"}]]}}


def traced(tmp_path, command, conf, container_id, plugin="holdfast-ipam", netns="/var/run/netns/none", node=None):
    """Runs a plugin under strace (in `node`'s namespace if given); returns (stdout, the trace's lines)."""
    log = tmp_path / f"trace-{command}-{container_id}"
    env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "CNI_COMMAND": command,
           "CNI_CONTAINERID": container_id, "CNI_IFNAME": "eth0", "CNI_NETNS": netns, "CNI_PATH": f"{BIN_DIR}:{REF_DIR}"}
    argv = ["strace", "-f", "-y", "-qq", "-e", "trace=fsync,fdatasync,write,pwrite64,ftruncate", "-o", str(log),
            binary(plugin)]
    if node:
        argv = ["ip", "netns", "exec", node.name, *argv]
    proc = subprocess.run(argv, input=json.dumps(conf).encode(), capture_output=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    return proc.stdout, log.read_text().splitlines()


def summarise(lines):
    """fsync-class calls (path) before and after the result, and whether the run
    did WAL housekeeping: checkpointed it (synced the main file), truncated it,
    or restarted it (wrote its 32-byte header)."""
    before, after, result_seen, housekeeping = [], [], False, False
    started = {}
    for line in lines:
        if RESULT.match(line):
            result_seen = True
        elif (m := SYNC.match(line)):
            (after if result_seen else before).append(m.group(3))
            housekeeping |= m.group(3).endswith("/leases.db")
        elif (m := SYNC_START.match(line)):
            started[m.group(1)] = m.group(4)
        elif (m := SYNC_DONE.match(line)):
            path = started.pop(m.group(1))
            (after if result_seen else before).append(path)
            housekeeping |= path.endswith("/leases.db")
        elif TRUNCATE.match(line) or WAL_HEADER.match(line):
            housekeeping = True
    return before, after, result_seen, housekeeping


def test_lease_is_fsynced_before_the_result_and_steady_state_pays_one_fsync(data_dir, tmp_path):
    conf = conf_for(data_dir)
    wal = str(data_dir / conf["name"] / "leases.db-wal")
    steady = {"ADD": 0, "DEL": 0}
    for i in range(24):
        for command in ("ADD", "DEL"):
            out, lines = traced(tmp_path, command, conf, f"d{i}")
            before, after, result_seen, housekeeping = summarise(lines)
            # Nothing is synced after the answer: all durability work precedes it.
            assert after == [], (command, i, after)
            if command == "ADD":
                assert result_seen and json.loads(out)["ips"], (i, out)
                # The commit's fsync of the WAL precedes the result.
                assert wal in before, (i, before)
            if i < 2:
                continue  # the first runs create the store and its WAL
            if not housekeeping:
                steady[command] += 1
                assert before == [wal], (command, i, before)
            else:
                # A commit that bounds the WAL checkpoints it (WAL and main file),
                # and the next commit syncs the restarted WAL's header: never
                # more than three fsyncs in one run.
                assert len(before) <= 3, (command, i, before)
    # Most runs are steady state (one checkpoint per dozen or so runs).
    assert steady["ADD"] >= 15 and steady["DEL"] >= 15, steady
    assert leases(data_dir, conf["name"]) == []


def test_bridge_add_syncs_the_lease_before_its_result(data_dir, tmp_path, node, containers):
    """The bridge plugin's in-process lease is on the disk before its result
    (syncs on another thread are followed too, should one ever move there)."""
    conf = {"cniVersion": "1.0.0", "name": unique("durbr"), "type": "holdfast", "bridge": unique("hfbr"),
            "isGateway": True,
            "ipam": {"type": "holdfast-ipam", "dataDir": str(data_dir), "ranges": [[{"subnet": "10.79.0.0/24"}]]}}
    wal = str(data_dir / conf["name"] / "leases.db-wal")
    ctrs = containers(8)
    steady = 0
    for i, c in enumerate(ctrs):
        out, lines = traced(tmp_path, "ADD", conf, c.name, plugin="holdfast", netns=c.path, node=node)
        before, after, result_seen, housekeeping = summarise(lines)
        assert result_seen and json.loads(out)["ips"], out
        assert after == [], (i, after)
        assert wal in before, (i, before)
        if i >= 2 and not housekeeping:
            steady += 1
            assert before == [wal], (i, before)
    assert steady >= 4, steady
    assert len(leases(data_dir, conf["name"])) == len(ctrs)
