"""Where the test data lives (importable from tests as ``tests.paths``)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = (ROOT.parent / "shared" / "data").resolve()
DELEGATED = SHARED / "delegated"
TEST_DATA = Path(__file__).resolve().parent / "data"


def real_files(year: str = "2018") -> list[Path]:
    """The five extended statistics files of a set ("2017" or "2018")."""
    files = sorted(DELEGATED.glob(f"*/delegated-*-extended-{year}*"))
    assert len(files) == 5, f"expected five {year} files under {DELEGATED}"
    return files
