"""The release version is written once (Sources/HoldfastVersion) and every binary reports it."""
import json
import re
import subprocess

from cnitool import REPO


def release_version():
    text = (REPO / "Sources" / "HoldfastVersion" / "HoldfastVersion.swift").read_text()
    return re.search(r'static let string = "([^"]+)"', text).group(1)


def test_changelog_agrees_with_the_code():
    first = (REPO / "packaging" / "debian" / "changelog").read_text().splitlines()[0]
    assert first.startswith(f"holdfast ({release_version()}) "), first


def test_tools_print_the_version(binary):
    for tool in ("ipamctl", "holdfast-watchdog"):
        r = subprocess.run([binary(tool), "--version"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r
        assert r.stdout.strip() == release_version(), r


def test_plugins_version_result_carries_it_within_the_spec(binary):
    for plugin in ("holdfast", "holdfast-ipam"):
        r = subprocess.run([binary(plugin)], input='{"cniVersion":"1.0.0"}', env={"CNI_COMMAND": "VERSION"},
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r
        answer = json.loads(r.stdout)
        assert answer["holdfast"] == release_version()
        # The keys the spec requires are unchanged.
        assert answer["cniVersion"] == "1.0.0"
        assert "1.1.0" in answer["supportedVersions"]
        assert set(answer) == {"cniVersion", "supportedVersions", "holdfast"}
        assert r.stderr == ""
