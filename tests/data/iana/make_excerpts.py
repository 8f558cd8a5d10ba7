"""Rebuild the IANA excerpts in this folder from the real files (run from the repository root).

CSV excerpts are the first rows of the real file, byte for byte (CRLF line ends and quoted
fields with line breaks kept). XML excerpts are the real file's lines up to the end of its
first records, then the footnotes those records cite, then the closing tags. See README.md.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

HERE = Path(__file__).resolve().parent
IANA = HERE.parents[3] / "shared" / "data" / "iana"


def csv_head(name: str, rows: int) -> bytes:
    """The bytes of the header and the first ``rows`` rows of a real CSV file."""
    data = (IANA / name).read_bytes()
    reader = csv.reader(io.StringIO(data.decode(), newline=""))
    for _ in range(rows + 1):
        next(reader)
    lines = data.split(b"\n")
    return b"\n".join(lines[: reader.line_num]) + b"\n"


def xml_head(name: str, records: int, footnotes: int) -> bytes:
    """The real file's lines through its ``records``-th ``</record>``, its first
    ``footnotes`` footnotes, and the closing tags."""
    lines = (IANA / name).read_text().splitlines(keepends=True)
    ends = [i for i, line in enumerate(lines) if line.strip() == "</record>"]
    out = lines[: ends[records - 1] + 1]
    notes = [i for i, line in enumerate(lines) if line.lstrip().startswith("<footnote")]
    if footnotes:
        stop = notes[footnotes] if footnotes < len(notes) else len(lines) - 2
        out += lines[notes[0] : stop]
    out += ["  <people/>\n", "</registry>\n"]
    return "".join(out).encode()


EXCERPTS = {
    "ipv4-address-space-head.csv": lambda: csv_head("ipv4-address-space.csv", 12),
    "ipv6-unicast-address-assignments-head.csv": lambda: csv_head(
        "ipv6-unicast-address-assignments.csv", 6
    ),
    "ipv4-address-space-head.xml": lambda: xml_head("ipv4-address-space.xml", 5, 3),
    "ipv6-unicast-address-assignments-head.xml": lambda: xml_head(
        "ipv6-unicast-address-assignments.xml", 3, 0
    ),
}

if __name__ == "__main__":
    for file_name, make in EXCERPTS.items():
        (HERE / file_name).write_bytes(make())
        print(file_name)
