"""The vendored browser libraries are the locked npm packages' files (the manifest's hashes),
and every page's assets are served from this server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "src" / "rirport" / "web" / "static" / "vendor"


def test_vendored_files_match_the_manifest_and_the_lock() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "vendor-assets"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "OK" in done.stdout


def test_manifest_names_package_version_and_licence() -> None:
    entries = json.loads((VENDOR / "MANIFEST.json").read_text())
    assert {e["package"] for e in entries} == {
        "d3",
        "@observablehq/plot",
        "topojson-client",
        "world-atlas",
    }
    assert all(e["version"] and e["license"] and len(e["sha256"]) == 64 for e in entries)
    lock = json.loads((ROOT / "assets" / "package-lock.json").read_text())
    for e in entries:
        assert lock["packages"][f"node_modules/{e['package']}"]["version"] == e["version"]
