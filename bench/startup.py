"""Start-up: whole-process times of ``rirport --version`` and ``rirport lookup 8.8.8.8`` (on
a store holding the five 2018 files, its view cache written) vs ``python -c "import click"``.

Like hyperfine: each command runs ``--runs`` times, interleaved, after one warm-up run; the
median counts (min and max printed beside it). The ``rirport`` console script of this
environment is used, as a user runs it. Targets: ``--version`` at most 1.5x and the lookup
at most 4x the ``import click`` process. CPU time (user + system) is printed beside the wall
time (on a shared machine it varies less), and two floors: importing numpy (the index) and
building the settings (pydantic), which the lookup pays before it does anything.

    python -m bench.startup [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import files_2018, machine
from rirport.query.view import load_current
from rirport.services.registry.ingest import ingest_path
from rirport.store.unit import Store


def timed(command: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system, from the reaped child's usage) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    script = str(Path(sys.executable).parent / "rirport")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'rirport.sqlite'}"
        store = Store(url)
        for path in files_2018():
            ingest_path(store, path)
        load_current(store, folder / "cache")
        store.close()
        commands = {
            'python -c "import click"': [sys.executable, "-c", "import click"],
            "rirport --version": [script, "--version"],
            "rirport lookup 8.8.8.8": [
                script,
                "--db",
                url,
                "--data-dir",
                str(folder),
                "lookup",
                "8.8.8.8",
            ],
            # what the lookup cannot do without: the index's numpy, the settings' pydantic
            'floor: python -c "import click, numpy"': [sys.executable, "-c", "import click, numpy"],
            'floor: python -c "import rirport.config"': [
                sys.executable,
                "-c",
                "import click, rirport.config as c; c.Settings.from_env({})",
            ],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        cpus: dict[str, list[float]] = {name: [] for name in commands}
        for command in commands.values():
            timed(command)  # warm the page cache
        for _ in range(args.runs):
            for name, command in commands.items():
                wall, cpu = timed(command)
                times[name].append(wall)
                cpus[name].append(cpu)
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (the machine is shared)")
    medians = {name: statistics.median(t) for name, t in times.items()}
    cpu_medians = {name: statistics.median(t) for name, t in cpus.items()}
    for name, t in times.items():
        print(
            f"{name}: median {medians[name] * 1000:.0f} ms (min {min(t) * 1000:.0f}, "
            f"max {max(t) * 1000:.0f}; {len(t)} runs); CPU median "
            f"{cpu_medians[name] * 1000:.0f} ms"
        )
    base = medians['python -c "import click"']
    cpu_base = cpu_medians['python -c "import click"']
    for name in commands:
        if name.startswith("floor"):
            print(
                f"{name} vs import click: ratio {medians[name] / base:.2f} "
                f"(CPU time ratio {cpu_medians[name] / cpu_base:.2f})"
            )
    for name, target in (("rirport --version", 1.5), ("rirport lookup 8.8.8.8", 4.0)):
        ratio = medians[name] / base
        print(
            f"{name} vs import click: ratio {ratio:.2f}; target <= {target:g}: "
            f"{'met' if ratio <= target else 'NOT met'} (CPU time ratio "
            f"{cpu_medians[name] / cpu_base:.2f})"
        )


if __name__ == "__main__":
    main()
