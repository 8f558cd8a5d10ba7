"""What the package declares holds: its licence file, and Parquet as an optional extra."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from tests.paths import ROOT, TEST_DATA

#: Runs the CLI with ``pyarrow`` made unimportable (``sys.modules[name] = None``).
WITHOUT_PYARROW = """
import sys
for name in ("pyarrow", "pyarrow.compute", "pyarrow.parquet"):
    sys.modules[name] = None
from rirport.cli.main import main
sys.argv = ["rirport", *sys.argv[1:]]
main()
"""


def test_licence_file_is_the_declared_apache_2() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text


def test_pyarrow_is_an_extra_that_dev_installs() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not any(d.startswith("pyarrow") for d in project["dependencies"])
    assert any(d.startswith("pyarrow") for d in project["optional-dependencies"]["parquet"])
    assert any(d.startswith("pyarrow") for d in project["optional-dependencies"]["dev"])


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            WITHOUT_PYARROW,
            "--db",
            f"sqlite:///{tmp_path / 'store.sqlite'}",
            "--data-dir",
            str(tmp_path / "data"),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def test_without_pyarrow_everything_but_parquet_works(tmp_path: Path) -> None:
    excerpt = next((TEST_DATA / "excerpts").glob("lacnic-2018-excerpt.txt"))
    assert _cli(tmp_path, "ingest", str(excerpt)).returncode == 0
    csv_run = _cli(tmp_path, "export", "--format", "csv", "--output", str(tmp_path / "o.csv"))
    assert csv_run.returncode == 0, csv_run.stderr
    assert (tmp_path / "o.csv").read_text().startswith("registry,cc,type")
    out = tmp_path / "o.parquet"
    run = _cli(tmp_path, "export", "--format", "parquet", "--output", str(out))
    assert run.returncode == 2, run.stderr
    assert "pip install 'rirport[parquet]'" in run.stderr
    assert "Traceback" not in run.stderr
    assert not out.exists()
    assert not list(tmp_path.glob("o.parquet*"))
