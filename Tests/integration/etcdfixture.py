"""Throwaway etcd clusters for the cluster-mode tests.

Each cluster lives in a network namespace the test made, listens only on
addresses inside it (127.0.0.1 there), keeps its data in a temp dir, and is
killed by PID at the end. The plugins under test run in the same namespace.
"""
import json
import os
import pathlib
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
import base64

from cnitool import Netns, unique, sh


class EtcdMember:
    def __init__(self, cluster, index):
        self.cluster = cluster
        self.index = index
        self.name = f"m{index}"
        self.client_port = cluster.base_port + 2 * index
        self.peer_port = cluster.base_port + 2 * index + 1
        self.data_dir = cluster.root / self.name
        self.proc = None

    @property
    def scheme(self):
        return "https" if self.cluster.tls else "http"

    @property
    def endpoint(self):
        return f"{self.scheme}://{self.cluster.host}:{self.client_port}"

    def start(self, initial_state="new"):
        c = self.cluster
        args = ["ip", "netns", "exec", c.ns.name, "etcd", "--name", self.name, "--data-dir", str(self.data_dir),
                "--listen-client-urls", self.endpoint, "--advertise-client-urls", self.endpoint,
                "--listen-peer-urls", f"http://127.0.0.1:{self.peer_port}",
                "--initial-advertise-peer-urls", f"http://127.0.0.1:{self.peer_port}",
                "--initial-cluster", c.initial_cluster, "--initial-cluster-state", initial_state,
                "--initial-cluster-token", c.token,
                "--heartbeat-interval", "50", "--election-timeout", "500"]
        if c.tls:
            args += ["--cert-file", str(c.certs / "server.pem"), "--key-file", str(c.certs / "server-key.pem"),
                     "--client-cert-auth", "--trusted-ca-file", str(c.certs / "ca.pem")]
        log = open(c.root / f"{self.name}.log", "ab")
        # `ip netns exec` execs etcd, so this PID is etcd's.
        self.proc = subprocess.Popen(args, stdout=log, stderr=log)
        log.close()

    def kill(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def stop_signal(self, sig):
        os.kill(self.proc.pid, sig)


class EtcdCluster:
    """n members in namespace `ns` (created here unless given)."""

    def __init__(self, members=1, tls=False, ns=None, host="127.0.0.1"):
        self.host = host
        self.root = pathlib.Path(tempfile.mkdtemp(prefix="hf-etcd-"))
        self.own_ns = ns is None
        self.ns = ns or Netns(unique("hfetcd"))
        self.base_port = 23790 + (os.getpid() % 500) * 8
        self.token = unique("tok")
        self.tls = tls
        self.certs = self.root / "certs"
        if tls:
            make_certs(self.certs)
        self.members = [EtcdMember(self, i) for i in range(members)]
        self.initial_cluster = ",".join(f"{m.name}=http://127.0.0.1:{m.peer_port}" for m in self.members)
        for m in self.members:
            m.start()
        self.wait_healthy()

    @property
    def endpoints(self):
        return [m.endpoint for m in self.members]

    def etcdctl(self, *args, check=True, endpoints=None):
        cmd = ["ip", "netns", "exec", self.ns.name, "etcdctl", "--endpoints", ",".join(endpoints or self.endpoints),
               "--dial-timeout", "2s", "--command-timeout", "5s"]
        if self.tls:
            cmd += ["--cacert", str(self.certs / "ca.pem"), "--cert", str(self.certs / "client.pem"),
                    "--key", str(self.certs / "client-key.pem")]
        env = dict(os.environ, ETCDCTL_API="3")
        proc = subprocess.run(cmd + list(args), capture_output=True, text=True, env=env, timeout=30)
        if check and proc.returncode != 0:
            raise AssertionError(f"etcdctl {args} failed: {proc.stderr}")
        return proc

    def wait_healthy(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            live = [m.endpoint for m in self.members if m.proc is not None]
            if self.etcdctl("endpoint", "health", check=False, endpoints=live).returncode == 0:
                return
            time.sleep(0.2)
        logs = "\n".join((self.root / f"{m.name}.log").read_text(errors="replace")[-1500:] for m in self.members)
        raise AssertionError(f"etcd did not become healthy:\n{logs}")

    def get_prefix(self, prefix):
        """{key: (value, create_revision)} under prefix."""
        out = json.loads(self.etcdctl("get", "--prefix", prefix, "-w", "json").stdout)
        result = {}
        for kv in out.get("kvs", []):
            result[base64.b64decode(kv["key"]).decode()] = (base64.b64decode(kv.get("value", "")).decode(),
                                                            int(kv["create_revision"]))
        return result

    def leader(self):
        out = json.loads(self.etcdctl("endpoint", "status", "-w", "json",
                                      endpoints=[m.endpoint for m in self.members if m.proc]).stdout)
        for st in out:
            if st["Status"]["header"]["member_id"] == st["Status"]["leader"]:
                return next(m for m in self.members if m.endpoint == st["Endpoint"])
        return None

    def close(self):
        for m in self.members:
            m.kill()
        if self.own_ns:
            self.ns.delete()
        shutil.rmtree(self.root, ignore_errors=True)


def make_certs(d: pathlib.Path):
    """A CA, a server cert for 127.0.0.1 and a client cert, with openssl. The server cert also
    allows clientAuth: etcd 3.4's JSON gateway dials its own gRPC port with it, and with
    --client-cert-auth that dial fails (HTTP 503 "connection closed") otherwise."""
    d.mkdir(parents=True)

    def ossl(*args):
        sh("openssl", *args, timeout=60)
    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=hf-test-ca",
         "-keyout", str(d / "ca-key.pem"), "-out", str(d / "ca.pem"))
    for name, ext in (("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth"),
                      ("client", "extendedKeyUsage=clientAuth")):
        (d / f"{name}.ext").write_text(ext + "\n")
        ossl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN=hf-{name}",
             "-keyout", str(d / f"{name}-key.pem"), "-out", str(d / f"{name}.csr"))
        ossl("x509", "-req", "-in", str(d / f"{name}.csr"), "-CA", str(d / "ca.pem"), "-CAkey", str(d / "ca-key.pem"),
             "-CAcreateserial", "-days", "2", "-extfile", str(d / f"{name}.ext"), "-out", str(d / f"{name}.pem"))
