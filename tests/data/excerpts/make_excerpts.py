"""Rebuild the excerpts in this folder from the real files (run from the repository root).

Each excerpt keeps the source file's comment lines and version line (record count changed to
the excerpt's), its summary lines in their order (counts changed to the excerpt's), and a
selection of its record lines, unchanged and in file order: the first records of each type,
then the first few lines showing each quirk the format notes list. See README.md.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
DELEGATED = HERE.parents[3] / "shared" / "data" / "delegated"
SOURCES = {
    "afrinic-2018-excerpt.txt": "afrinic/delegated-afrinic-extended-20181013",
    "apnic-2018-excerpt.txt": "apnic/delegated-apnic-extended-20181014",
    "arin-2018-excerpt.txt": "arin/delegated-arin-extended-20181013",
    "lacnic-2018-excerpt.txt": "lacnic/delegated-lacnic-extended-20181012",
    "ripencc-2018-excerpt.txt": "ripencc/delegated-ripencc-extended-20181013",
}
Pick = Callable[[list[str]], bool]
PICKS: list[tuple[int, Pick]] = [
    (4, lambda f: f[2] == "asn"),
    (4, lambda f: f[2] == "ipv4"),
    (4, lambda f: f[2] == "ipv6"),
    (3, lambda f: f[2] == "asn" and f[4] != "1"),
    (3, lambda f: f[2] == "ipv4" and int(f[4]) & (int(f[4]) - 1) != 0),
    (3, lambda f: f[6] == "available"),
    (3, lambda f: f[6] == "reserved"),
    (3, lambda f: f[5] == "00000000"),
    (3, lambda f: len(f) == 7),
    (2, lambda f: f[1] in ("EU", "AP", "ZZ")),
    (2, lambda f: f[2] == "ipv6" and f[4] != "32"),
]


def excerpt(source: Path) -> tuple[str, list[int]]:
    lines = source.read_text(encoding="utf-8").split("\n")[:-1]
    content = [i for i, line in enumerate(lines) if line and not line.startswith("#")]
    header_at = content[0]
    summaries = [i for i in content[1:] if lines[i].endswith("|summary")]
    records = [i for i in content if i > max(summaries)]
    chosen: set[int] = set()
    for count, pick in PICKS:
        chosen.update([i for i in records if pick(lines[i].split("|"))][:count])
    picked = sorted(chosen)
    header = lines[header_at].split("|")
    header[3] = str(len(picked))
    out = [*lines[:header_at], "|".join(header)]
    for i in summaries:
        fields = lines[i].split("|")
        fields[4] = str(sum(1 for j in picked if lines[j].split("|")[2] == fields[2]))
        out.append("|".join(fields))
    out += [lines[i] for i in picked]
    return "\n".join(out) + "\n", [i + 1 for i in picked]


def main() -> None:
    for name, rel in SOURCES.items():
        text, numbers = excerpt(DELEGATED / rel)
        (HERE / name).write_text(text, encoding="utf-8")
        sys.stdout.write(f"{name}: {rel} lines {','.join(map(str, numbers))}\n")


if __name__ == "__main__":
    main()
