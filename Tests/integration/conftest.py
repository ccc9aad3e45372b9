"""Shared pytest fixtures for the integration tests (they need root)."""
import os
import pathlib
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import cnitool  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(config, items):
    if os.geteuid() != 0:
        skip = pytest.mark.skip(reason="integration tests need root (namespaces, links, cgroups)")
        for item in items:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def bin_dir() -> pathlib.Path:
    """Directory of the built binaries: $HOLDFAST_BIN_DIR, default <repo>/.build/release."""
    return cnitool.BIN_DIR


@pytest.fixture(scope="session")
def binary(bin_dir):
    """binary("name") -> path of a built binary; a missing one fails the test (never a silent skip)."""
    def find(name: str) -> str:
        return cnitool.binary(name)
    return find


@pytest.fixture
def data_dir():
    """A private IPAM dataDir, removed afterwards."""
    d = tempfile.mkdtemp(prefix="holdfast-test-")
    yield pathlib.Path(d)
    cnitool.remove_proofs(d)
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def netns_factory():
    """Creates named namespaces on demand and deletes all of them by name."""
    created = []

    def make():
        ns = cnitool.Netns()
        created.append(ns)
        return ns

    yield make
    for ns in created:
        ns.delete()


@pytest.fixture
def node():
    """A namespace standing in for the host: the plugin runs there, so its bridge,
    nftables tables and sysctls disappear with it."""
    ns = cnitool.Netns(cnitool.unique("hfnode"))
    yield ns
    ns.delete()


@pytest.fixture
def containers():
    """containers(n) -> n new container namespaces (one, not a list, for n=1), deleted by name afterwards."""
    made = []

    def make(n=1):
        out = [cnitool.Netns(cnitool.unique("hfc")) for _ in range(n)]
        made.extend(out)
        return out if n > 1 else out[0]
    yield make
    for ns in made:
        ns.delete()
