"""podman end to end: scripts/e2e-podman.sh must exit 0.

The script does the real work (private podman, a busybox image imported from a
tarball, containers on a Holdfast CNI network inside a node namespace, checks,
cleanup by name); this wrapper lets scripts/test.sh run it with the rest of the
integration suite and shows the script's whole output when it fails.
"""
import os
import subprocess

from cnitool import BIN_DIR, REPO

SCRIPT = REPO / "scripts" / "e2e-podman.sh"


def test_podman_runs_containers_on_a_holdfast_network():
    for name in ("holdfast", "holdfast-ipam", "ipamctl"):
        assert (BIN_DIR / name).exists(), f"{BIN_DIR / name} is missing: run scripts/build.sh first"
    env = dict(os.environ, HOLDFAST_BIN_DIR=str(BIN_DIR))
    proc = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, env=env, timeout=600)
    output = f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
    assert proc.returncode == 0, f"{SCRIPT.name} exited {proc.returncode}\n{output}"
    assert "podman e2e passed" in proc.stderr, output
    assert " FAIL " not in proc.stdout, output
    assert proc.stdout.count("  ok   ") >= 40, f"fewer checks ran than expected\n{output}"
