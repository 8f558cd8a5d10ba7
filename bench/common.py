"""Shared helpers of the benchmark scripts: timing, the real files, the machine."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

from tests.paths import find_shared_data

ROOT = Path(__file__).resolve().parent.parent
DELEGATED = find_shared_data(ROOT) / "delegated"


def files_2018() -> list[Path]:
    files = sorted(DELEGATED.glob("*/delegated-*-extended-2018*"))
    assert len(files) == 5, f"the five 2018 files are missing under {DELEGATED}"
    return files


def best_time(fn: Callable[[], object], repeat: int = 5) -> float:
    """The fastest of ``repeat`` runs, in seconds (the least disturbed by other work)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} cpus, "
        f"Python {platform.python_version()}"
    )


def report(name: str, ours: float, theirs: float, target: str, ok: bool) -> None:
    print(
        f"{name}: ratio {ours / theirs:.2f} (ours {ours:.3f}s, baseline {theirs:.3f}s); "
        f"target {target}: {'met' if ok else 'NOT met'}"
    )
