"""Where the test data lives (importable from tests as ``tests.paths``)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def find_shared_data(root: Path) -> Path:
    """The shared real data: $RIRPORT_SHARED_DATA, else ``../shared/data`` beside the checkout,
    else the workplace's ``/work/shared/data`` (for clones made elsewhere, as CI's may be)."""
    candidates = (
        [Path(os.environ["RIRPORT_SHARED_DATA"])] if os.environ.get("RIRPORT_SHARED_DATA") else []
    )
    candidates += [root.parent / "shared" / "data", Path("/work/shared/data")]
    for candidate in candidates:
        if (candidate / "delegated").is_dir():
            return candidate.resolve()
    return candidates[0].resolve()


SHARED = find_shared_data(ROOT)
DELEGATED = SHARED / "delegated"
TEST_DATA = Path(__file__).resolve().parent / "data"


def real_files(year: str = "2018") -> list[Path]:
    """The five extended statistics files of a set ("2017" or "2018")."""
    files = sorted(DELEGATED.glob(f"*/delegated-*-extended-{year}*"))
    assert len(files) == 5, f"expected five {year} files under {DELEGATED}"
    return files
