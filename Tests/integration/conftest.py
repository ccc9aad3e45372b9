"""Shared pytest fixtures for Holdfast integration tests (generic, minimal)."""
import os
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def bin_dir() -> pathlib.Path:
    """Directory of the built binaries: $HOLDFAST_BIN_DIR, default <repo>/.build/release."""
    return pathlib.Path(os.environ.get("HOLDFAST_BIN_DIR", REPO / ".build" / "release"))


@pytest.fixture(scope="session")
def binary(bin_dir):
    """binary("name") -> path of a built binary; skips visibly if it was not built."""
    def find(name: str) -> str:
        path = bin_dir / name
        if not path.exists():
            pytest.skip(f"{path} not built (set HOLDFAST_BIN_DIR or build with swift build -c release)")
        return str(path)
    return find
