"""``rirport lookup --file``: many queries read, answered and written in batches.

A million addresses used to be read whole, answered one :class:`~rirport.query.lookup.Match`
object each and written at the end (1.7 GiB, a minute). Here the file is read
:data:`BATCH` lines at a time; each batch goes through
:func:`~rirport.query.bulk.single_rows` (every address or AS number whose segment of the
index has one covering delegation, found with numpy) and the rest through
:func:`~rirport.query.bulk.bulk`; and the batch is written before the next is read, so memory
stays bounded by the batch and the per-row text made once (at most one per row of the view).
The output is the same, byte for byte, as rendering ``bulk()`` of the whole file with
:func:`~rirport.cli.output.emit` (a test holds each format to it); a table is printed one
per batch (Rich sizes columns over the rows it is given).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import IO, Any

import click
import numpy as np

from rirport.cli.output import print_table, to_csv
from rirport.domain.enums import REGISTRIES, RESOURCE_TYPES, STATUSES
from rirport.query.bulk import Answer, bulk, single_rows
from rirport.query.lookup import Lookup

BATCH = 65_536
"""Queries per batch: large enough that numpy's per-call cost vanishes, small enough that a
batch's text is a few MB."""

CSV_COLUMNS = [
    "query",
    "registry",
    "cc",
    "type",
    "start",
    "value",
    "date",
    "status",
    "opaque_id",
    "relation",
]
_CSV_SPECIAL = frozenset(',"\r\n')


def batches(lines: Iterable[str], size: int = BATCH) -> Iterator[list[str]]:
    """The queries of ``lines`` (stripped; blank lines and ``#`` comments skipped), ``size``
    at a time."""
    batch: list[str] = []
    for raw in lines:
        line = raw.strip()
        if line and not line.startswith("#"):
            batch.append(line)
            if len(batch) == size:
                yield batch
                batch = []
    if batch:
        yield batch


class BatchWriter:
    """Writes the answers of one batch after another in one format; counts the queries
    that could not be read (their errors go to stderr as they are met)."""

    def __init__(self, lookup: Lookup, fmt: str, out: IO[str]) -> None:
        self.lookup = lookup
        self.fmt = fmt
        self.out = out
        self.errors = 0
        self._csv: dict[int, str] = {}
        self._json: dict[tuple[int, bool], dict[str, Any]] = {}
        self._items = 0

    def write(self, queries: list[str]) -> None:
        plan = single_rows(self.lookup, queries)
        slow = dict(
            zip(plan.others, bulk(self.lookup, [plan.texts[i] for i in plan.others]), strict=True)
        )
        for answer in slow.values():
            if answer.error:
                self.errors += 1
                click.echo(f"rirport: {answer.query!r}: {answer.error}", err=True)
        if self.fmt == "csv":
            self._write_csv(plan.texts, plan.rows, plan.exact, slow)
        elif self.fmt in ("json", "ndjson"):
            self._write_json(plan.texts, plan.rows, plan.exact, slow)
        else:
            answers = [
                self._answer(i, t, plan.rows, plan.exact, slow) for i, t in enumerate(plan.texts)
            ]
            rows = [{"query": a.query, **m.to_json()} for a in answers for m in a.matches]
            print_table(rows, CSV_COLUMNS)

    def close(self) -> None:
        """End the output (JSON's closing bracket; an empty file is ``[]``, as before)."""
        if self.fmt == "json":
            self.out.write("\n]\n" if self._items else "[]\n")
        elif self.fmt == "csv" and not self._items:
            self.out.write(",".join(CSV_COLUMNS) + "\n")

    # -- CSV ---------------------------------------------------------------------------
    def _write_csv(
        self, texts: list[str], rows: np.ndarray, exact: np.ndarray, slow: dict[int, Answer]
    ) -> None:
        self._prepare_csv(rows)
        fragments = self._csv
        lines = [] if self._items else [",".join(CSV_COLUMNS)]
        for i, (text, row, is_exact) in enumerate(
            zip(texts, rows.tolist(), exact.tolist(), strict=True)
        ):
            if row >= 0 and i not in slow:
                relation = "exact" if is_exact else "covering"
                lines.append(f"{text},{fragments[row]},{relation}")
            elif i in slow and slow[i].matches:
                match_rows = [{"query": text, **m.to_json()} for m in slow[i].matches]
                lines.append(to_csv(match_rows, CSV_COLUMNS).split("\n", 1)[1].rstrip("\n"))
        self._items += len(texts)
        if len(lines):
            self.out.write("\n".join(lines) + "\n")

    def _prepare_csv(self, rows: np.ndarray) -> None:
        """Make the CSV text of the rows this batch needs that no earlier batch did, from
        the view's columns (no :class:`Match` per row)."""
        wanted = np.unique(rows[rows >= 0])
        new = np.array([r for r in wanted.tolist() if r not in self._csv], np.int64)
        if not len(new):
            return
        t = self.lookup.view.table
        registries = [r.value for r in REGISTRIES]
        types = [r.value for r in RESOURCE_TYPES]
        statuses = [s.value for s in STATUSES]
        columns = zip(
            new.tolist(),
            t.registry[new].tolist(),
            t.cc[new].tolist(),
            t.type[new].tolist(),
            t.start[new].tolist(),
            t.value[new].tolist(),
            t.date[new].tolist(),
            t.status[new].tolist(),
            t.opaque_id[new].tolist(),
            t.has_opaque[new].tolist(),
            strict=True,
        )
        for row, reg, cc, rtype, start, value, date, status, opaque, has in columns:
            fields = [
                registries[reg],
                cc.decode(),
                types[rtype],
                start.decode(),
                str(value),
                f"{date // 10000:04d}-{date // 100 % 100:02d}-{date % 100:02d}" if date else "",
                statuses[status],
                opaque.decode() if has else "",
            ]
            text = ",".join(fields)
            if _CSV_SPECIAL.intersection(text.replace(",", "", 7)):
                text = _csv_line(fields)
            self._csv[row] = text

    # -- JSON and NDJSON ---------------------------------------------------------------
    def _write_json(
        self, texts: list[str], rows: np.ndarray, exact: np.ndarray, slow: dict[int, Answer]
    ) -> None:
        parts = []
        for i, text in enumerate(texts):
            body = self._answer_json(i, text, rows, exact, slow)
            if self.fmt == "ndjson":
                parts.append(json.dumps(body, ensure_ascii=False) + "\n")
            else:
                item = json.dumps(body, indent=2, ensure_ascii=False).replace("\n", "\n  ")
                parts.append(("[\n  " if self._items == 0 else ",\n  ") + item)
                self._items += 1
        self.out.write("".join(parts))

    def _answer_json(
        self, i: int, text: str, rows: np.ndarray, exact: np.ndarray, slow: dict[int, Answer]
    ) -> dict[str, Any]:
        if i in slow:
            return slow[i].to_json()
        row = int(rows[i])
        if row < 0:
            return {"query": text, "matches": []}
        key = (row, bool(exact[i]))
        match = self._json.get(key)
        if match is None:
            match = self._json[key] = self.lookup.match_row(
                row, "exact" if key[1] else "covering"
            ).to_json()
        return {"query": text, "matches": [match]}

    def _answer(
        self, i: int, text: str, rows: np.ndarray, exact: np.ndarray, slow: dict[int, Answer]
    ) -> Answer:
        if i in slow:
            return slow[i]
        row = int(rows[i])
        if row < 0:
            return Answer(text, [])
        return Answer(text, [self.lookup.match_row(row, "exact" if exact[i] else "covering")])


def _csv_line(fields: list[str]) -> str:
    """One CSV line quoted as :func:`~rirport.cli.output.to_csv` quotes (a field holding a
    comma, quote or line break)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(fields)
    return buffer.getvalue()[:-1]


def lookup_file(lookup: Lookup, lines: Iterable[str], fmt: str, out: IO[str]) -> int:
    """Answer every query of ``lines`` into ``out`` in format ``fmt``; the number of queries
    that could not be read."""
    writer = BatchWriter(lookup, fmt, out)
    for batch in batches(lines):
        writer.write(batch)
    writer.close()
    return writer.errors
