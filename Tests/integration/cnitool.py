"""Helpers for integration tests: exec CNI plugins the way a runtime does.

Every name a test creates (network, netns, data dir) is unique to that test and
is removed by name in a finally/fixture teardown.
"""
import json
import os
import subprocess
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN_DIR = Path(os.environ.get("HOLDFAST_BIN_DIR", REPO / ".build" / "release"))
REF_DIR = Path("/usr/lib/cni")


def binary(name):
    path = BIN_DIR / name
    assert path.exists(), f"{path} is missing: run scripts/build.sh first"
    return str(path)


def unique(prefix="hf"):
    """A short unique name usable for a netns, network or link (<= 15 bytes)."""
    return f"{prefix}{uuid.uuid4().hex[:8]}"


class PluginResult:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        try:
            self.json = json.loads(proc.stdout) if proc.stdout.strip() else None
        except json.JSONDecodeError:
            self.json = None

    @property
    def ok(self):
        return self.rc == 0

    def __repr__(self):
        return f"PluginResult(rc={self.rc}, stdout={self.stdout!r}, stderr={self.stderr[-2000:]!r})"


def run_plugin(plugin, command, config, container_id="c1", ifname="eth0", netns="/var/run/netns/none",
               args=None, cni_path=None, env_extra=None, env_override=None, stdin=None, timeout=60, node=None):
    """Execute a plugin binary with CNI_* env and the config on stdin."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "CNI_COMMAND": command}
    if command not in ("VERSION", "STATUS", "GC"):
        env["CNI_CONTAINERID"] = container_id
        env["CNI_IFNAME"] = ifname
        if netns is not None:
            env["CNI_NETNS"] = netns
    env["CNI_PATH"] = cni_path or f"{BIN_DIR}:{REF_DIR}"
    if args:
        env["CNI_ARGS"] = args
    if env_extra:
        env.update(env_extra)
    if env_override is not None:
        env = env_override
    data = stdin if stdin is not None else json.dumps(config).encode()
    # `node` runs the plugin inside a namespace standing in for the host, so a
    # test's bridge, nftables table and sysctls vanish with that namespace.
    argv = (["ip", "netns", "exec", node, plugin] if node else [plugin])
    if node:
        env["PATH"] = os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
    proc = subprocess.run(argv, input=data, capture_output=True, env=env, timeout=timeout)
    return PluginResult(proc)


def ipamctl(*args, data_dir, check=True, timeout=30):
    proc = subprocess.run([binary("ipamctl"), *args, "--data-dir", str(data_dir)], capture_output=True,
                          text=True, timeout=timeout)
    if check:
        assert proc.returncode == 0, f"ipamctl {args} failed: {proc.stderr}"
    return proc


def leases(data_dir, network=None):
    args = ["leases", "--json"] + (["--network", network] if network else [])
    proc = ipamctl(*args, data_dir=data_dir)
    return json.loads(proc.stdout)


def sh(*cmd, check=True, timeout=30):
    proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd} failed ({proc.returncode}): {proc.stderr}")
    return proc


class Netns:
    """A named network namespace under /var/run/netns, deleted by name."""

    def __init__(self, name=None):
        self.name = name or unique("hfns")
        sh("ip", "netns", "add", self.name)
        sh("ip", "-n", self.name, "link", "set", "lo", "up")
        self.path = f"/var/run/netns/{self.name}"

    def exec(self, *cmd, check=True, timeout=30):
        return sh("ip", "netns", "exec", self.name, *cmd, check=check, timeout=timeout)

    def delete(self):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


PROOF_DIR = "/run/holdfast/proof"


def proof_path(data_dir, network):
    """The currency proof file of a network's store, as the plugins name it
    (`ProofFile`: the network and an FNV-1a hash of the store's path)."""
    h = 0xcbf29ce484222325
    for b in f"{data_dir}/{network}/leases.db".encode():
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"{PROOF_DIR}/{network}.{h:x}"


def remove_proofs(root):
    """Removes, by name, the proof files of every store under `root` (any depth)."""
    for parent, _, files in os.walk(str(root)):
        if "leases.db" in files or "lock" in files:
            data_dir, network = os.path.split(parent.rstrip("/"))
            p = proof_path(data_dir, network)
            if os.path.exists(p):
                os.unlink(p)


def delete_link(name):
    subprocess.run(["ip", "link", "del", name], capture_output=True)


def link_exists(name, netns=None):
    cmd = (["ip", "-n", netns] if netns else ["ip"]) + ["link", "show", name]
    return subprocess.run(cmd, capture_output=True).returncode == 0
