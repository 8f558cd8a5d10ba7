"""Tabular exports of delegations: CSV, JSON, NDJSON and Parquet.

All four formats are written from one :class:`ExportRows`, the columns computed once from a
:class:`~rirport.domain.table.DelegationTable`. Half a million rows as Python objects (or
through :mod:`ipaddress` and the :mod:`csv` module) take tens of seconds; here the work per row
is a string for ``end``, one for ``prefixes`` (a single CIDR for almost every record, detected
in numpy), and one line of CSV or JSON from a template, while Parquet columns go from numpy to
Arrow without Python objects where the column allows.

Columns (CSV header, Parquet column names)::

    registry,cc,type,start,value,date,status,opaque_id,end,prefixes,file,line

``date`` is ISO (``2018-10-13``), empty / null when undated; ``end`` is the last address or AS
number; ``prefixes`` the CIDR prefixes covering an IP range (IPv4 counts that are not a power
of two need several), none for AS numbers. JSON and NDJSON use the keys of ``rirport lookup``
matches (``registry`` … ``opaque_id``), then ``end`` and
``source: {snapshot, file, line}``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import numpy.typing as npt

from rirport.domain.enums import REGISTRIES, RESOURCE_TYPES, STATUSES, ResourceType
from rirport.domain.resources import ResourceRange
from rirport.domain.table import TYPE_CODE, DelegationTable, keys_be
from rirport.errors import ConfigError

COLUMNS = (
    "registry",
    "cc",
    "type",
    "start",
    "value",
    "date",
    "status",
    "opaque_id",
    "end",
    "prefixes",
    "file",
    "line",
)
_IPV4, _IPV6, _ASN = (
    TYPE_CODE[t] for t in (ResourceType.IPV4, ResourceType.IPV6, ResourceType.ASN)
)
_CHUNK = 20_000
_HEX_COLON = np.frombuffer(b"0123456789abcdef:", dtype=np.uint8)
_CSV_SPECIAL = re.compile(r'[,"\r\n]')


@dataclass(frozen=True)
class ExportRows:
    """The export columns of every row, shared by the writers.

    Enum-valued columns stay codes (indexes into ``REGISTRIES`` and friends) so Arrow can take
    them as dictionary indexes without touching a string.
    """

    table: DelegationTable
    end: list[str]
    prefixes: list[str | None]
    """CIDR prefixes of IP rows, space-separated; None for AS numbers."""
    snapshot: npt.NDArray[np.int32]
    file_names: list[str]
    """The distinct file names; ``file_code`` indexes into it."""
    file_code: npt.NDArray[np.int32]

    def __len__(self) -> int:
        return len(self.table)

    def iso_dates(self) -> list[str | None]:
        """ISO dates per row, formatted once per distinct date (there are a few thousand)."""
        if len(self.table) == 0:
            return []
        order = np.argsort(self.table.date, kind="stable")  # np.unique hashes, slowly
        ordered = self.table.date[order]
        first = np.concatenate(([True], ordered[1:] != ordered[:-1]))
        inverse = np.empty(len(order), dtype=np.int64)
        inverse[order] = np.cumsum(first) - 1
        texts = [_iso(int(d)) for d in ordered[first].tolist()]
        return [texts[i] for i in inverse.tolist()]

    def opaque_ids(self) -> list[str | None]:
        """Opaque-ids: None where the line had no 8th field, ``""`` where it was empty."""
        ids: list[str | None] = list(_decoded(self.table.opaque_id))
        for i in np.flatnonzero(~self.table.has_opaque).tolist():
            ids[i] = None
        return ids


def export_rows(
    table: DelegationTable, snapshot_ids: npt.NDArray[np.int32], file_names: Mapping[int, str]
) -> ExportRows:
    """Compute the derived columns of ``table``; ``snapshot_ids`` gives each row's snapshot and
    ``file_names`` each snapshot's file."""
    ids = sorted(file_names)
    position = {sid: k for k, sid in enumerate(ids)}
    lookup = np.zeros(max(ids, default=0) + 1, dtype=np.int32)
    for sid in ids:
        lookup[sid] = position[sid]
    codes = lookup[snapshot_ids] if len(snapshot_ids) else np.zeros(0, np.int32)
    return ExportRows(
        table,
        end_texts(table),
        prefix_texts(table),
        snapshot_ids.astype(np.int32),
        [file_names[s] for s in ids],
        codes.astype(np.int32),
    )


# -- derived columns -----------------------------------------------------------------------
def end_texts(table: DelegationTable) -> list[str]:
    """The last number of every row as text: dotted IPv4, compressed IPv6, decimal ASN."""
    out = np.empty(len(table), dtype=object)
    for code, rows in _rows_by_type(table):
        if code == _IPV4:
            out[rows] = ipv4_texts(table.last_lo[rows])
        elif code == _IPV6:
            out[rows] = ipv6_texts(table.last_hi[rows], table.last_lo[rows])
        else:
            out[rows] = table.last_lo[rows].astype(str).astype(object)
    texts: list[str] = out.tolist()
    return texts


def prefix_texts(table: DelegationTable) -> list[str | None]:
    """CIDR prefixes of each IP row, space-separated; None for ASN rows.

    An IPv4 record whose count is a power of two starting on its own boundary (nearly all of
    them) is one prefix, found in numpy; the rest are split by
    :meth:`~rirport.domain.resources.ResourceRange.to_cidrs`. An IPv6 record is one prefix by
    definition (start and prefix length).
    """
    out = np.full(len(table), None, dtype=object)
    for code, rows in _rows_by_type(table):
        if code == _IPV4:
            first, count = table.first_lo[rows], table.value[rows].astype(np.uint64)
            single = ((count & (count - np.uint64(1))) == 0) & (first % np.maximum(count, 1) == 0)
            lengths = 32 - np.log2(np.maximum(count, 1)).astype(np.int64)
            out[rows] = _with_lengths(ipv4_texts(first), lengths)
            for i in rows[~single].tolist():
                out[i] = " ".join(_cidrs(table, i))
        elif code == _IPV6:
            starts = ipv6_texts(table.first_hi[rows], table.first_lo[rows])
            out[rows] = _with_lengths(starts, table.value[rows])
    texts: list[str | None] = out.tolist()
    return texts


def _with_lengths(starts: list[str], lengths: npt.NDArray[np.int64]) -> list[str]:
    return [f"{start}/{plen}" for start, plen in zip(starts, lengths.tolist(), strict=True)]


def ipv4_texts(numbers: npt.NDArray[np.uint64]) -> list[str]:
    """Dotted-quad text of 32-bit numbers, built in numpy (no per-row calls).

    Each row is laid out as four slots of ``ddd.``; a mask keeps the digits that are not
    leading zeros and the dots between octets, and one decode and one split make the strings.
    """
    n = len(numbers)
    octets = numbers.astype(">u4").view(np.uint8).reshape(n, 4).astype(np.int64)
    chars = np.zeros((n, 4, 4), dtype=np.uint8)
    keep = np.zeros((n, 4, 4), dtype=bool)
    for k, div in enumerate((100, 10, 1)):
        chars[:, :, k] = ord("0") + octets // div % 10
        keep[:, :, k] = (octets >= div) | (div == 1)
    chars[:, :, 3] = ord(".")
    keep[:, :3, 3] = True
    return _split_rows(chars.reshape(n, 16), keep.reshape(n, 16))


def ipv6_texts(hi: npt.NDArray[np.uint64], lo: npt.NDArray[np.uint64]) -> list[str]:
    """RFC 5952 text of 128-bit numbers exactly as :mod:`ipaddress` writes them, in numpy.

    Each row is eight slots of ``hhhh:``. The first longest run of two or more zero groups is
    dropped but for its colons: the run's last colon always (with the colon before the run, or
    the last slot's colon, otherwise unused, that makes ``::``), and its first too when the run
    opens the address.
    """
    n = len(hi)
    octets = keys_be(hi, lo).view(np.uint8).reshape(n, 8, 2)
    nibbles = np.empty((n, 8, 5), dtype=np.uint8)
    nibbles[:, :, 0], nibbles[:, :, 1] = octets[:, :, 0] >> 4, octets[:, :, 0] & 15
    nibbles[:, :, 2], nibbles[:, :, 3] = octets[:, :, 1] >> 4, octets[:, :, 1] & 15
    nibbles[:, :, 4] = 16
    keep = nibbles != 0  # from the first non-zero digit on (no leading zeros); colon kept
    for k in (1, 2):
        keep[:, :, k] |= keep[:, :, k - 1]
    keep[:, :, 3] = True  # the last digit always: a zero group is written "0"
    start, length = _longest_zero_run(np.asarray(octets.any(axis=2), dtype=bool))
    slot = np.arange(8)
    in_run = (slot >= start[:, None]) & (slot < (start + length)[:, None])
    keep &= ~in_run[:, :, None]
    keep[:, 7, 4] = False
    rows = np.flatnonzero(length > 0)
    keep[rows, (start + length - 1)[rows], 4] = True
    opens = rows[start[rows] == 0]
    keep[opens, 0, 4] = True
    return _split_rows(_HEX_COLON[nibbles].reshape(n, 40), keep.reshape(n, 40))


def _longest_zero_run(
    nonzero: npt.NDArray[np.bool_],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Start and length of each row's first longest run of zero groups (length 0 when no run
    is two or more long: a single zero group is written, not compressed)."""
    n = len(nonzero)
    best_start, best_len = np.zeros(n, np.int64), np.zeros(n, np.int64)
    run = np.zeros(n, np.int64)
    for k in range(8):
        run = np.where(nonzero[:, k], 0, run + 1)
        longer = run > best_len
        best_len = np.where(longer, run, best_len)
        best_start = np.where(longer, k - run + 1, best_start)
    short = best_len < 2
    best_len[short] = 0
    best_start[short] = 0
    return best_start, best_len


def _split_rows(
    chars: npt.NDArray[np.uint8], keep: npt.NDArray[np.bool_], encoding: str = "ascii"
) -> list[str]:
    """The kept characters of each row as one string: a newline column ends every row, then
    one decode and one split (half a million strings in a few tens of milliseconds)."""
    n, width = chars.shape
    framed = np.empty((n, width + 1), dtype=np.uint8)
    framed[:, :width] = chars
    framed[:, width] = ord("\n")
    mask = np.ones((n, width + 1), dtype=bool)
    mask[:, :width] = keep
    return framed[mask].tobytes().decode(encoding).split("\n")[:n]


def _cidrs(table: DelegationTable, i: int) -> list[str]:
    rng = ResourceRange(RESOURCE_TYPES[table.type[i]], table.first_int(i), table.last_int(i))
    return [str(net) for net in rng.to_cidrs()]


def _rows_by_type(table: DelegationTable) -> Iterator[tuple[int, npt.NDArray[np.intp]]]:
    for code in (_ASN, _IPV4, _IPV6):
        rows = np.flatnonzero(table.type == code)
        if len(rows):
            yield code, rows


def _iso(date: int) -> str | None:
    return dt.date(date // 10000, date // 100 % 100, date % 100).isoformat() if date else None


# -- CSV -----------------------------------------------------------------------------------
def write_csv(rows: ExportRows, out: TextIO) -> None:
    """CSV with a header row; prefixes space-separated, absent values empty.

    Lines come from a template rather than :mod:`csv` (three times faster): every column but
    ``opaque_id`` and ``file`` is validated text that never needs quoting, and those two are
    quoted exactly as :mod:`csv`'s ``QUOTE_MINIMAL`` would. ``out`` should be opened with
    ``newline=""``: lines end in ``\\n`` as written.
    """
    out.write(",".join(COLUMNS) + "\n")
    t = rows.table
    files = [csv_field(f) for f in rows.file_names]
    opaque_ids: list[str | None] = rows.opaque_ids()
    for i in np.flatnonzero(_needs_quoting(t.opaque_id)).tolist():
        opaque_ids[i] = csv_field(opaque_ids[i] or "")
    columns = zip(
        _names(t.registry, REGISTRIES),
        _decoded(t.cc),
        _names(t.type, RESOURCE_TYPES),
        _decoded(t.start),
        t.value.tolist(),
        rows.iso_dates(),
        _names(t.status, STATUSES),
        opaque_ids,
        rows.end,
        rows.prefixes,
        rows.file_code.tolist(),
        t.line.tolist(),
        strict=True,
    )
    batch: list[str] = []
    for reg, cc, rtype, start, value, date, status, opaque, end, prefixes, fcode, line in columns:
        batch.append(
            f"{reg},{cc},{rtype},{start},{value},{date or ''},{status},"
            f"{opaque or ''},{end},{prefixes or ''},"
            f"{files[fcode]},{line}\n"
        )
        if len(batch) == _CHUNK:
            out.write("".join(batch))
            batch.clear()
    out.write("".join(batch))


def _needs_quoting(column: npt.NDArray[np.bytes_]) -> npt.NDArray[np.bool_]:
    """Rows of a byte column holding a comma, quote or line break (found in numpy)."""
    chars = _char_matrix(column)
    special = np.isin(chars, np.frombuffer(b',"\r\n', np.uint8))
    return np.asarray(special.any(axis=1), dtype=bool)


def csv_field(text: str) -> str:
    """One CSV field as ``csv.writer`` writes it with ``QUOTE_MINIMAL``: quoted, with quotes
    doubled, when it holds a comma, quote or line break."""
    if _CSV_SPECIAL.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


# -- JSON ----------------------------------------------------------------------------------
def json_objects(rows: ExportRows) -> Iterator[str]:
    """One JSON object per row, as text, with the keys of a lookup match plus end and source.

    Written from a template: the enum fields, country codes and starts are validated ASCII
    without quotes or backslashes, so only opaque-ids and file names need escaping (file names
    once per file).
    """
    t = rows.table
    quoted_files = [_json_string(f) for f in rows.file_names]
    columns = zip(
        _names(t.registry, REGISTRIES),
        _decoded(t.cc),
        _names(t.type, RESOURCE_TYPES),
        _decoded(t.start),
        t.value.tolist(),
        rows.iso_dates(),
        _names(t.status, STATUSES),
        rows.opaque_ids(),
        rows.end,
        rows.snapshot.tolist(),
        rows.file_code.tolist(),
        t.line.tolist(),
        strict=True,
    )
    for reg, cc, rtype, start, value, date, status, opaque, end, sid, fcode, line in columns:
        date_json = f'"{date}"' if date else "null"
        opaque_json = "null" if opaque is None else _json_string(opaque)
        yield (
            f'{{"registry": "{reg}", "cc": "{cc}", "type": "{rtype}", "start": "{start}", '
            f'"value": {value}, "date": {date_json}, "status": "{status}", '
            f'"opaque_id": {opaque_json}, "end": "{end}", "source": {{"snapshot": {sid}, '
            f'"file": {quoted_files[fcode]}, "line": {line}}}}}'
        )


def _json_string(text: str) -> str:
    """A JSON string literal, as ``json.dumps(text, ensure_ascii=False)`` writes it (this is
    the C function ``json.dumps`` calls, without its per-call set-up: 0.3 µs, not 2)."""
    return encode_basestring(text)


def write_json(rows: ExportRows, out: TextIO) -> None:
    """A JSON array, one object per line (readable, and diffable line by line)."""
    out.write("[")
    separator = "\n"
    for k, obj in enumerate(json_objects(rows)):
        out.write(separator + obj)
        if k == 0:
            separator = ",\n"
    out.write("\n]\n" if len(rows) else "]\n")


def write_ndjson(rows: ExportRows, out: TextIO) -> None:
    """One JSON object per line, no enclosing array (for streaming readers and ``jq -c``)."""
    batch: list[str] = []
    for obj in json_objects(rows):
        batch.append(obj)
        if len(batch) == _CHUNK:
            out.write("\n".join(batch) + "\n")
            batch.clear()
    if batch:
        out.write("\n".join(batch) + "\n")


# -- Parquet -------------------------------------------------------------------------------
PARQUET_EXTRA = "pip install 'rirport[parquet]'"


def arrow() -> tuple[Any, Any, Any]:
    """``pyarrow`` and its ``compute`` and ``parquet`` modules, imported on first use: pyarrow
    is an optional extra (about half of an installed environment), needed only for Parquet.

    Raises:
        ConfigError: pyarrow is not installed (says how to install it).
    """
    try:
        import pyarrow
        import pyarrow.compute
        import pyarrow.parquet
    except ImportError:
        raise ConfigError(
            f"Parquet export needs the optional package pyarrow: {PARQUET_EXTRA}"
        ) from None
    return pyarrow, pyarrow.compute, pyarrow.parquet


def arrow_schema() -> Any:
    """Typed columns: enum columns dictionary-encoded, ``value`` int64, ``date`` date32,
    ``prefixes`` a list of strings (null for AS numbers), ``line`` int32."""
    pa, _pc, _pq = arrow()
    vocab = pa.dictionary(pa.int8(), pa.string())
    return pa.schema(
        [
            ("registry", vocab),
            ("cc", pa.string()),
            ("type", vocab),
            ("start", pa.string()),
            ("value", pa.int64()),
            ("date", pa.date32()),
            ("status", vocab),
            ("opaque_id", pa.string()),
            ("end", pa.string()),
            ("prefixes", pa.list_(pa.string())),
            ("file", pa.dictionary(pa.int32(), pa.string())),
            ("line", pa.int32()),
        ]
    )


def to_arrow(rows: ExportRows) -> Any:
    """The rows as a ``pyarrow.Table`` with :func:`arrow_schema`."""
    pa, pc, _pq = arrow()
    t = rows.table
    schema = arrow_schema()
    columns = [
        _dictionary(t.registry, REGISTRIES, np.int8),
        pa.array(_decoded(t.cc), pa.string()),
        _dictionary(t.type, RESOURCE_TYPES, np.int8),
        pa.array(_decoded(t.start), pa.string()),
        pa.array(t.value, pa.int64()),
        _date32(t.date),
        _dictionary(t.status, STATUSES, np.int8),
        pa.array(rows.opaque_ids(), pa.string()),
        pa.array(rows.end, pa.string()),
        pc.split_pattern(pa.array(rows.prefixes, pa.string()), " "),
        pa.DictionaryArray.from_arrays(
            pa.array(rows.file_code, pa.int32()), pa.array(rows.file_names, pa.string())
        ),
        pa.array(t.line.astype(np.int32), pa.int32()),
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def write_parquet(rows: ExportRows, path: str | Path) -> None:
    """A Parquet file (zstd-compressed) of :func:`to_arrow`.

    Raises:
        ConfigError: pyarrow is not installed.
    """
    _pa, _pc, pq = arrow()
    pq.write_table(to_arrow(rows), str(path), compression="zstd")


def _dictionary(
    codes: npt.NDArray[np.uint8], vocab: Sequence[Any], index_type: type[np.int8]
) -> Any:
    pa, _pc, _pq = arrow()
    return pa.DictionaryArray.from_arrays(
        pa.array(codes.astype(index_type)), pa.array([v.value for v in vocab], pa.string())
    )


def _date32(dates: npt.NDArray[np.int32]) -> Any:
    """YYYYMMDD integers (0 = undated) as Arrow date32, computed in numpy."""
    years, months, days = dates // 10000, dates // 100 % 100, dates % 100
    dated = dates > 0
    stamps = (
        (np.where(dated, years, 1970) - 1970).astype("datetime64[Y]")
        + (np.where(dated, months, 1) - 1).astype("timedelta64[M]")
    ).astype("datetime64[D]")
    stamps = stamps + (np.where(dated, days, 1) - 1).astype("timedelta64[D]")
    pa, _pc, _pq = arrow()
    return pa.array(stamps.astype(np.int64).astype(np.int32), pa.date32(), mask=~dated)


def _names(codes: npt.NDArray[np.uint8], vocab: Sequence[Any]) -> list[str]:
    values = [v.value for v in vocab]
    return [values[c] for c in codes.tolist()]


def _decoded(column: npt.NDArray[np.bytes_]) -> list[str]:
    """A fixed-width byte column as strings, in one decode (numpy pads with NULs, which the
    validated fields never contain)."""
    chars = _char_matrix(column)
    return _split_rows(chars, chars != 0, encoding="utf-8")


def _char_matrix(column: npt.NDArray[np.bytes_]) -> npt.NDArray[np.uint8]:
    width = max(column.dtype.itemsize, 1)
    return np.ascontiguousarray(column, dtype=f"S{width}").view(np.uint8).reshape(-1, width)
