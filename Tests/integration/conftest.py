"""Shared pytest fixtures for the integration tests (they need root)."""
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import cnitool  # noqa: E402


def pytest_collection_modifyitems(config, items):
    if os.geteuid() != 0:
        skip = pytest.mark.skip(reason="integration tests need root (namespaces, links, cgroups)")
        for item in items:
            item.add_marker(skip)


@pytest.fixture
def data_dir():
    """A private IPAM dataDir, removed afterwards."""
    d = tempfile.mkdtemp(prefix="holdfast-test-")
    yield Path(d)
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
