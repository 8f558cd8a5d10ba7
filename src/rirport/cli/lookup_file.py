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
import itertools
import json
from collections.abc import Iterator
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


def batches(lines: IO[str], size: int | None = None) -> Iterator[list[str]]:
    """The queries of ``lines`` (stripped; blank lines and ``#`` comments skipped), ``size``
    at a time.

    The file is read in blocks of a few MB; a block that is plain ASCII with no blank line,
    no ``#`` and no whitespace but line breaks is split in one call (the common case of a
    machine-made file), any other block line by line.
    """
    size = size or BATCH
    batch: list[str] = []
    tail = ""
    while True:
        block = lines.read(_BLOCK)
        if not block:
            break
        block = tail + block
        cut = block.rfind("\n") + 1
        block, tail = block[:cut], block[cut:]
        batch.extend(_queries(block))
        while len(batch) >= size:
            yield batch[:size]
            batch = batch[size:]
    batch.extend(_queries(tail))
    while batch:
        yield batch[:size]
        batch = batch[size:]


_BLOCK = 4 << 20
_AWKWARD = ("#", " ", "\t", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f", "\n\n")


def _queries(block: str) -> list[str]:
    """The queries in a block of whole lines."""
    if not block:
        return []
    if block.isascii() and not block.startswith("\n") and not any(a in block for a in _AWKWARD):
        return block.rstrip("\n").split("\n")
    return [q for q in (raw.strip() for raw in block.splitlines()) if q and not q.startswith("#")]


class BatchWriter:
    """Writes the answers of one batch after another in one format; counts the queries
    that could not be read (their errors go to stderr as they are met)."""

    def __init__(self, lookup: Lookup, fmt: str, out: IO[str]) -> None:
        self.lookup = lookup
        self.fmt = fmt
        self.out = out
        self.errors = 0
        self._fragments: Any = None  # per row of the view: its CSV text, once made
        self._made: Any = None
        self._json: dict[tuple[int, bool], str] = {}
        self._items = 0

    def write(self, queries: list[str]) -> None:
        plan = single_rows(self.lookup, queries, stripped=True)
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
        fast = rows >= 0
        if slow:
            fast[list(slow)] = False
        positions = np.flatnonzero(fast)
        queries = np.array(texts, dtype=object)[positions].tolist()
        # query, ",<the row's fields>,", relation: three strings a line, joined once
        parts: list[Any] = [None] * (3 * len(queries))
        parts[0::3] = queries
        parts[1::3] = self._fragments[rows[positions]].tolist()
        parts[2::3] = np.where(exact[positions], "exact\n", "covering\n").tolist()
        text = "".join(parts)
        if slow:  # the general path's lines, put back in input order
            lines = text.splitlines()
            ordered = np.full(len(texts), None, dtype=object)
            ordered[positions] = lines
            for i, answer in slow.items():
                if answer.matches:
                    rows_of = [{"query": answer.query, **m.to_json()} for m in answer.matches]
                    ordered[i] = to_csv(rows_of, CSV_COLUMNS).split("\n", 1)[1].rstrip("\n")
            kept = [line for line in ordered.tolist() if line is not None]
            text = "\n".join(kept) + "\n" if kept else ""
        if not self._items:
            text = ",".join(CSV_COLUMNS) + "\n" + text
        self._items += len(texts)
        self.out.write(text)

    def _prepare_csv(self, rows: np.ndarray) -> None:
        """Make the CSV text of the rows this batch needs that no earlier batch did, from
        the view's columns (no :class:`Match` per row): ``,registry,...,opaque_id,``."""
        t = self.lookup.view.table
        if self._fragments is None:
            self._fragments = np.full(len(t), None, dtype=object)
            self._made = np.zeros(len(t), bool)
        wanted = np.zeros(len(t), bool)
        wanted[rows[rows >= 0]] = True
        new = np.flatnonzero(wanted & ~self._made)
        if not len(new):
            return
        self._made[new] = True
        registries = np.array([r.value for r in REGISTRIES], dtype=object)
        types = np.array([r.value for r in RESOURCE_TYPES], dtype=object)
        statuses = np.array([s.value for s in STATUSES], dtype=object)
        days, day_of = np.unique(t.date[new], return_inverse=True)
        day_texts = np.array(
            [f"{d // 10000:04d}-{d // 100 % 100:02d}-{d % 100:02d}" if d else "" for d in days],
            dtype=object,
        )
        opaque = np.where(t.has_opaque[new], t.opaque_id[new], b"")
        # ",registry,cc,type,start,value,date,status,opaque_id," joined in C, a row at a time
        columns = zip(
            itertools.repeat(""),
            registries[t.registry[new]].tolist(),
            _texts(t.cc[new]),
            types[t.type[new]].tolist(),
            _texts(t.start[new]),
            map(str, t.value[new].tolist()),
            day_texts[day_of.ravel()].tolist(),
            statuses[t.status[new]].tolist(),
            _texts(opaque),
            itertools.repeat(""),
        )
        texts = list(map(",".join, columns))
        for k in np.flatnonzero(_needs_quotes(t.cc[new], t.start[new], opaque)).tolist():
            values = t.row(int(new[k])).to_json().values()  # the columns of CSV_COLUMNS[1:-1]
            fields = ["" if v is None else str(v) for v in values]
            texts[k] = "," + _csv_line(fields) + ","
        self._fragments[new] = texts

    # -- JSON and NDJSON ---------------------------------------------------------------
    def _write_json(
        self, texts: list[str], rows: np.ndarray, exact: np.ndarray, slow: dict[int, Answer]
    ) -> None:
        """Each answer as ``json.dumps`` writes it (NDJSON: one line; JSON: an item of an
        indented list), from the JSON text of its one match made once per row."""
        ndjson = self.fmt == "ndjson"
        parts = []
        for i, (text, row, is_exact) in enumerate(
            zip(texts, rows.tolist(), exact.tolist(), strict=True)
        ):
            if i in slow:
                body = slow[i].to_json()
                if ndjson:
                    item = json.dumps(body, ensure_ascii=False)
                else:
                    item = json.dumps(body, indent=2, ensure_ascii=False).replace("\n", "\n  ")
            elif ndjson:
                matches = self._match_json(row, is_exact) if row >= 0 else ""
                item = f'{{"query": "{text}", "matches": [{matches}]}}'
            else:
                matches = f"[\n      {self._match_json(row, is_exact)}\n    ]" if row >= 0 else "[]"
                item = f'{{\n    "query": "{text}",\n    "matches": {matches}\n  }}'
            if ndjson:
                parts.append(item + "\n")
            else:
                parts.append(("[\n  " if self._items == 0 else ",\n  ") + item)
                self._items += 1
        self.out.write("".join(parts))

    def _match_json(self, row: int, is_exact: bool) -> str:
        """The JSON text of row ``row`` as a match (one line, or indented as the third level
        of the JSON list), made once."""
        key = (row, is_exact)
        made = self._json.get(key)
        if made is None:
            body = self.lookup.match_row(row, "exact" if is_exact else "covering").to_json()
            if self.fmt == "ndjson":
                made = json.dumps(body, ensure_ascii=False)
            else:
                made = json.dumps(body, indent=2, ensure_ascii=False).replace("\n", "\n      ")
            self._json[key] = made
        return made

    def _answer(
        self, i: int, text: str, rows: np.ndarray, exact: np.ndarray, slow: dict[int, Answer]
    ) -> Answer:
        if i in slow:
            return slow[i]
        row = int(rows[i])
        if row < 0:
            return Answer(text, [])
        return Answer(text, [self.lookup.match_row(row, "exact" if exact[i] else "covering")])


def _texts(column: np.ndarray) -> list[str]:
    """A byte-string column as text: joined, decoded and split again in three C calls (twice
    as fast as ``astype("U")`` on an opaque-id column), value by value if a field held a line
    break."""
    if not len(column):
        return []
    joined: list[str] = b"\n".join(column.tolist()).decode().split("\n")
    if len(joined) == len(column):
        return joined
    return [value.decode() for value in column.tolist()]


def _needs_quotes(*columns: np.ndarray) -> np.ndarray:
    """Per row: some byte-string column holds a comma, quote or line break (CSV quotes it)."""
    special = np.frombuffer(b',"\r\n', np.uint8)
    found = np.zeros(len(columns[0]), bool)
    for column in columns:
        if column.dtype.itemsize:
            chars = np.ascontiguousarray(column).view(np.uint8).reshape(len(column), -1)
            found |= np.isin(chars, special).any(axis=1)
    return found


def _csv_line(fields: list[str]) -> str:
    """One CSV line quoted as :func:`~rirport.cli.output.to_csv` quotes (a field holding a
    comma, quote or line break)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(fields)
    return buffer.getvalue()[:-1]


def lookup_file(lookup: Lookup, lines: IO[str], fmt: str, out: IO[str]) -> int:
    """Answer every query of ``lines`` into ``out`` in format ``fmt``; the number of queries
    that could not be read."""
    writer = BatchWriter(lookup, fmt, out)
    for batch in batches(lines):
        writer.write(batch)
    writer.close()
    return writer.errors
