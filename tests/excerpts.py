"""Small real files cut from the shared statistics files, with header and summaries fixed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

from tests.paths import DELEGATED


def real_file(registry: str, year: str = "2018") -> Path:
    (path,) = sorted(DELEGATED.glob(f"{registry}/delegated-{registry}-extended-{year}*"))
    return path


def excerpt(
    path: Path, keep: Callable[[int, list[str]], bool] | int = 40, serial: str | None = None
) -> bytes:
    """The preamble, version line and record lines of ``path`` chosen by ``keep`` (the first
    N records, or a predicate on (index, fields)), with counts recomputed."""
    lines = path.read_text().splitlines()
    preamble = [line for line in lines if line.startswith("#")]
    body = [line for line in lines if not line.startswith("#")]
    header = body[0].split("|")
    summaries = [line.split("|") for line in body[1:] if line.split("|")[-1] == "summary"]
    records = body[1 + len(summaries) :]
    if isinstance(keep, int):
        chosen = records[:keep]
    else:
        chosen = [r for i, r in enumerate(records) if keep(i, r.split("|"))]
    counts = Counter(r.split("|")[2] for r in chosen)
    header[3] = str(len(chosen))
    if serial is not None:
        header[2] = serial
    out = [*preamble, "|".join(header)]
    out += [f"{s[0]}|*|{s[2]}|*|{counts[s[2]]}|summary" for s in summaries]
    out += chosen
    return ("\n".join(out) + "\n").encode()


def thinned(registry: str, step: int, wanted: tuple[str, ...] = (), year: str = "2018") -> bytes:
    """Every ``step``-th record of a registry's real file, and those starting at ``wanted``:
    records of every kind and country, spread over the whole file, in a file of a few hundred
    lines."""

    def keep(index: int, fields: list[str]) -> bool:
        return index % step == 0 or fields[3] in wanted

    return excerpt(real_file(registry, year), keep)
