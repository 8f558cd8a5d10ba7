"""Reading the RIR statistics exchange format, standard and extended, at numpy speed.

A file is ``#`` comments, a version line, summary lines, then record lines
``registry|cc|type|start|value|date|status[|opaque-id]``. This module finds the lines and
fields with vectorised byte searches, reads every field of every record in bulk
(:mod:`rirport.formats.vectorized`), and sends only the rows with any doubt to the reference
reader (:mod:`rirport.formats.records`), which accepts them or says exactly what is wrong.

Line errors are collected (the caller decides whether to skip bad lines); file errors — the
version line, summaries, counts that disagree with the records, a truncated last line — are
always fatal, because a partial registry stored as if complete would mislead every lookup.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath

import numpy as np
import numpy.typing as npt

from rirport.domain.enums import RESOURCE_TYPES, STATUSES, Registry, ResourceType
from rirport.domain.table import REGISTRY_CODE, DelegationTable
from rirport.errors import ParseError
from rirport.formats import vectorized as vec
from rirport.formats.records import (
    MAX_OPAQUE_ID,
    Header,
    RecordError,
    is_summary,
    parse_header,
    parse_record,
    parse_summary,
)
from rirport.formats.source import check_text

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
Bools = npt.NDArray[np.bool_]
_TYPE_TOKENS = [t.value.encode() for t in RESOURCE_TYPES]
_STATUS_TOKENS = [s.value.encode() for s in STATUSES]
_ASN, _IPV4, _IPV6 = (
    RESOURCE_TYPES.index(t) for t in (ResourceType.ASN, ResourceType.IPV4, ResourceType.IPV6)
)
_PAD = 160


@dataclass
class StatsFile:
    """What a statistics file says, with what was wrong in it."""

    source: str
    header: Header
    summary: list[tuple[ResourceType, int]]
    """Summary lines in file order (orders differ between RIRs)."""
    preamble: str
    """Everything before the version line (APNIC's 27 comment lines), kept for round trips."""
    table: DelegationTable
    record_lines: int
    extended: bool
    errors: list[ParseError] = field(default_factory=list)
    """Bad record lines (their rows are not in ``table``)."""
    file_errors: list[ParseError] = field(default_factory=list)
    """Problems with the file as a whole: never skippable."""
    header_line: int = 0
    """The line number of the version line."""
    spans: LineSpans | None = None
    """The content as parsed and where its lines are (what a caller locating the records'
    lines in it would find again, a scan of the whole file)."""

    @property
    def ok(self) -> bool:
        return not self.errors and not self.file_errors


@dataclass(frozen=True)
class LineSpans:
    """A file's content as parsed (CRLF read as LF) and each line's start and end in it
    (line ``n``, 1-based, is ``data[starts[n - 1]:ends[n - 1]]``)."""

    data: bytes
    starts: I64
    ends: I64


@dataclass
class _Lines:
    starts: I64
    ends: I64


def read_stats(data: bytes, source: str, *, checked: bool = False) -> StatsFile:
    """Parse a whole statistics file (``checked``: its content already passed
    :func:`~rirport.formats.source.check_text`, as every read
    :class:`~rirport.formats.source.SourceFile` has; not checked twice).

    Raises:
        ParseError: the content is not UTF-8 text (see :func:`~rirport.formats.source.check_text`),
            or has no usable version line (nothing else can be read without it).
    """
    if not checked:
        check_text(data, source)
    data = data.replace(b"\r\n", b"\n") if b"\r" in data else data
    lines = _split_lines(data)
    buf = np.frombuffer(data + b"\0" * _PAD, dtype=np.uint8)
    lengths = lines.ends - lines.starts
    first = buf[lines.starts]
    content = np.flatnonzero((lengths > 0) & (first != ord("#")))
    if len(content) == 0:
        raise ParseError(source, None, "no version line (only comments or blank lines)")
    header_at = int(content[0])
    header = _read_header(data, lines, header_at, source)
    summary, summary_lines, file_errors, body_from = _read_summaries(
        data, lines, content, header, source
    )
    records = content[body_from:]
    table, types, errors = _read_records(buf, data, lines, records, header.registry, source)
    if not data.endswith(b"\n"):
        file_errors.append(
            ParseError(source, len(lines.starts), "last line has no newline: the file is truncated")
        )
    file_errors += _check_counts(
        header, summary, summary_lines, types, len(records), source, header_at + 1
    )
    return StatsFile(
        source=source,
        header=header,
        summary=summary,
        preamble=data[: lines.starts[header_at]].decode(),
        table=table,
        record_lines=len(records),
        extended=bool(table.has_opaque.any()) or "extended" in source,
        errors=errors,
        file_errors=file_errors,
        header_line=header_at + 1,
        spans=LineSpans(data, lines.starts, lines.ends),
    )


#: How the RIRs name their files: ``delegated-<rir>[-extended]-<YYYYMMDD|latest>[.gz|.xz|.bz2]``.
_FILE_NAME = re.compile(
    r"delegated-(?P<registry>[a-z]+)-(?:extended-)?(?P<date>\d{8}|latest)"
    r"(?:\.(?:gz|xz|bz2))?"
)


def name_mismatches(stats: StatsFile, path: str) -> list[ParseError]:
    """Where the version line disagrees with the file's name or folder, at the version line.

    A file named like the RIRs name theirs says its registry and date; a folder named after a
    registry says whose files it holds. A file saying otherwise inside is most likely misfiled
    or renamed by hand, and storing it under the header's word would put it in another
    registry's history without anyone noticing. Names of other shapes say nothing.
    """
    header, where = stats.header, stats.header_line
    found: list[ParseError] = []
    name = PurePosixPath(path.replace("\\", "/")).name
    match = _FILE_NAME.fullmatch(name)
    if match and match["registry"] != header.registry:
        found.append(
            ParseError(
                stats.source,
                where,
                f"version line registry is "
                f"{header.registry!r}, but the file name says "
                f"{match['registry']!r}",
            )
        )
    if match and match["date"] != "latest":
        named = dt.datetime.strptime(match["date"], "%Y%m%d").date()
        field_name, date = _date_field(header)
        if date is not None and date != named:
            found.append(
                ParseError(
                    stats.source,
                    where,
                    f"version line {field_name} says {date}, but the file name says {named}",
                )
            )
    folder = _folder_registry(path)
    if folder is not None and folder != header.registry:
        found.append(
            ParseError(
                stats.source,
                where,
                f"version line registry is "
                f"{header.registry!r}, but the file is in the folder of "
                f"{folder!r}",
            )
        )
    return found


def _date_field(header: Header) -> tuple[str, dt.date | None]:
    """Which version-line field gives the snapshot date (serial, else end date), and it."""
    try:
        date = header.snapshot_date()
    except RecordError:
        return "serial", None
    serial = header.serial
    return ("serial" if len(serial) == 8 and serial == f"{date:%Y%m%d}" else "enddate"), date


def _folder_registry(path: str) -> str | None:
    """The registry a file's folder is named after (``ripencc/``, ``ripe-ncc/``), if any."""
    parent = PurePosixPath(path.replace("\\", "/")).parent.name
    try:
        return Registry.parse(parent).value if parent else None
    except ValueError:
        return None


def _split_lines(data: bytes) -> _Lines:
    buf = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(buf == ord("\n")).astype(np.int64)
    if not data.endswith(b"\n"):
        ends = np.append(ends, len(data))
    starts = np.concatenate(([0], ends[:-1] + 1)).astype(np.int64)
    return _Lines(starts, ends)


def _line_text(data: bytes, lines: _Lines, i: int) -> str:
    return data[lines.starts[i] : lines.ends[i]].decode()


def _read_header(data: bytes, lines: _Lines, at: int, source: str) -> Header:
    text = _line_text(data, lines, at)
    try:
        return parse_header(text.split("|"))
    except RecordError as exc:
        shown = text if len(text) <= 80 else text[:77] + "..."
        raise ParseError(
            source, at + 1, f"not a statistics version line ({exc}): {shown!r}"
        ) from None


def _read_summaries(
    data: bytes, lines: _Lines, content: I64, header: Header, source: str
) -> tuple[list[tuple[ResourceType, int]], list[int], list[ParseError], int]:
    """The summary lines after the version line, their line numbers, their errors, and the
    index in ``content`` of the first record line."""
    summary: list[tuple[ResourceType, int]] = []
    numbers: list[int] = []
    errors: list[ParseError] = []
    k = 1
    while k < len(content):
        fields = _line_text(data, lines, int(content[k])).split("|")
        if not is_summary(fields):
            break
        try:
            rtype, count = parse_summary(fields, header.registry)
        except RecordError as exc:
            errors.append(ParseError(source, int(content[k]) + 1, str(exc)))
        else:
            if any(t is rtype for t, _ in summary):
                errors.append(
                    ParseError(
                        source, int(content[k]) + 1, f"second summary line for {rtype.value}"
                    )
                )
            summary.append((rtype, count))
            numbers.append(int(content[k]) + 1)
        k += 1
    return summary, numbers, errors, k


def _check_counts(
    header: Header,
    summary: list[tuple[ResourceType, int]],
    summary_lines: list[int],
    types: Counter[int],
    record_lines: int,
    source: str,
    header_line: int,
) -> list[ParseError]:
    """Counts of the version and summary lines against the records; each error names the line
    that announced the count (the version line when a summary line is missing)."""
    errors = []
    if header.records != record_lines:
        errors.append(
            ParseError(
                source,
                header_line,
                f"version line announces {header.records} records, the file has {record_lines}",
            )
        )
    declared = dict(summary)
    declared_at = {rtype: n for (rtype, _), n in zip(summary, summary_lines, strict=True)}
    # lines whose type field is unreadable are already line errors; they may account for a
    # summary's shortfall (so --skip-bad-lines can skip them) but never for a surplus
    untyped = types.get(255, 0)
    shortfall = sum(
        max(declared.get(t, 0) - types.get(c, 0), 0) for c, t in enumerate(RESOURCE_TYPES)
    )
    explained = 0 < shortfall <= untyped
    for code, rtype in enumerate(RESOURCE_TYPES):
        found = types.get(code, 0)
        if explained and rtype in declared and declared[rtype] > found:
            continue
        if rtype in declared and declared[rtype] != found:
            errors.append(
                ParseError(
                    source,
                    declared_at[rtype],
                    f"summary line announces {declared[rtype]} {rtype.value} "
                    f"records, the file has {found}",
                )
            )
        elif rtype not in declared and found:
            errors.append(
                ParseError(
                    source,
                    header_line,
                    f"no summary line for {rtype.value}, the file has {found} such records",
                )
            )
    return errors


@dataclass
class _Fields:
    """Start offset and length of each of the 8 fields of each record line."""

    starts: I32
    lengths: I32
    count_ok: Bools
    has_opaque: Bools

    def at(self, k: int) -> tuple[I32, I32]:
        return self.starts[k], self.lengths[k]


def _locate_fields(buf: npt.NDArray[np.uint8], rs: I64, re: I64) -> _Fields:
    """Find the fields of every record line from the positions of all ``|`` in the file."""
    pipes = np.flatnonzero(buf == ord("|")).astype(np.int32)
    rs32, re32 = rs.astype(np.int32), re.astype(np.int32)
    left = np.searchsorted(pipes, rs32).astype(np.int32)
    count = np.searchsorted(pipes, re32).astype(np.int32) - left
    count_ok = (count == 6) | (count == 7)
    has_opaque = count == 7
    offsets = np.arange(7, dtype=np.int32)[:, None]
    index = np.minimum(left[None, :] + offsets, max(len(pipes) - 1, 0))
    pos = pipes[index] if len(pipes) else np.zeros((7, len(rs)), dtype=np.int32)
    starts = np.empty((8, len(rs)), dtype=np.int32)
    ends = np.empty((8, len(rs)), dtype=np.int32)
    starts[0] = rs32
    starts[1:7] = pos[:6] + 1
    starts[7] = np.where(has_opaque, pos[6] + 1, re32)
    ends[:6] = pos[:6]
    ends[6] = np.where(has_opaque, pos[6], re32)
    ends[7] = re32
    lengths = ends - starts
    if not count_ok.all():
        lengths[:, ~count_ok] = 0
        starts[:, ~count_ok] = rs32[~count_ok]
    return _Fields(starts, lengths, count_ok, has_opaque)


def _read_records(
    buf: npt.NDArray[np.uint8],
    data: bytes,
    lines: _Lines,
    records: I64,
    registry: str,
    source: str,
) -> tuple[DelegationTable, Counter[int], list[ParseError]]:
    rs, re = lines.starts[records], lines.ends[records]
    f = _locate_fields(buf, rs, re)
    ok = f.count_ok.copy()

    def chars(k: int, width: int, zero: bool = True) -> npt.NDArray[np.uint8]:
        start, length = f.at(k)
        ok[:] &= length <= width
        return vec.gather(buf, start, length, width, zero)

    reg = vec.match_tokens(chars(0, 8, zero=False), f.lengths[0], [registry.encode()])
    ok &= reg == 0
    cc_chars = chars(1, 2)
    ok &= vec.parse_cc(cc_chars, f.lengths[1])
    rtype = vec.match_tokens(chars(2, 8, zero=False), f.lengths[2], _TYPE_TOKENS)
    status = vec.match_tokens(chars(6, 16, zero=False), f.lengths[6], _STATUS_TOKENS)
    ok &= status != 255
    date, zeros, date_ok = vec.parse_dates(chars(5, 8, zero=False), f.lengths[5])
    ok &= date_ok
    first_hi, first_lo, last_hi, last_lo, value, number_ok = _read_numbers(buf, f, rtype)
    ok &= number_ok
    start_width = int(f.lengths[3].max(initial=1))
    start = vec.as_bytes(vec.gather(buf, *f.at(3), min(max(start_width, 1), 39)))
    ok &= f.lengths[3] <= 39
    opaque_len = np.where(f.has_opaque, f.lengths[7], 0)
    ok &= opaque_len <= MAX_OPAQUE_ID
    opaque_width = int(np.minimum(opaque_len, MAX_OPAQUE_ID).max(initial=1))
    opaque = vec.as_bytes(
        vec.gather(buf, f.starts[7], np.minimum(opaque_len, MAX_OPAQUE_ID), max(opaque_width, 1))
    )
    types = Counter({code: int(n) for code, n in enumerate(np.bincount(rtype, minlength=256)) if n})
    good = DelegationTable(
        registry=np.full(int(ok.sum()), _registry_code(registry), dtype=np.uint8),
        cc=vec.as_bytes(cc_chars[ok]),
        type=rtype[ok],
        start=start[ok],
        value=value[ok].astype(np.int64),
        date=date[ok],
        undated_zeros=zeros[ok],
        status=status[ok],
        opaque_id=opaque[ok],
        has_opaque=f.has_opaque[ok],
        first_hi=first_hi[ok],
        first_lo=first_lo[ok],
        last_hi=last_hi[ok],
        last_lo=last_lo[ok],
        line=(records[ok] + 1).astype(np.int32),
    )
    recovered, errors = _reference_pass(data, lines, records[~ok], registry, source)
    if len(recovered) == 0:
        return good, types, errors
    merged = DelegationTable.concat([good, recovered])
    return merged.take(np.argsort(merged.line, kind="stable")), types, errors


def _read_numbers(
    buf: npt.NDArray[np.uint8], f: _Fields, rtype: npt.NDArray[np.uint8]
) -> tuple[vec.U64, vec.U64, vec.U64, vec.U64, vec.U64, Bools]:
    """Start and value of every record, by type; rows of unknown type are not ok."""
    n = len(rtype)
    first_hi, first_lo = np.zeros(n, np.uint64), np.zeros(n, np.uint64)
    last_hi, last_lo = np.zeros(n, np.uint64), np.zeros(n, np.uint64)
    value = np.zeros(n, np.uint64)
    ok = np.zeros(n, dtype=bool)
    s_start, s_len = f.at(3)
    v_start, v_len = f.at(4)
    for code in (_ASN, _IPV4, _IPV6):
        rows = np.flatnonzero(rtype == code)
        if len(rows) == 0:
            continue
        width = 10 if code != _IPV6 else 3
        val, val_ok = vec.parse_uint(
            vec.gather(buf, v_start[rows], v_len[rows], width, False), v_len[rows], width
        )
        value[rows] = val
        if code == _IPV6:
            chars = vec.gather(buf, s_start[rows], s_len[rows], 39, False)
            hi, lo, start_ok = vec.parse_ipv6(chars, s_len[rows])
            mask_hi, mask_lo = vec.ipv6_host_masks(val.astype(np.int64))
            aligned = ((hi & mask_hi) == 0) & ((lo & mask_lo) == 0)
            row_ok = start_ok & val_ok & (val >= 1) & (val <= 128) & aligned
            first_hi[rows], first_lo[rows] = hi, lo
            last_hi[rows], last_lo[rows] = hi | mask_hi, lo | mask_lo
        else:
            chars = vec.gather(buf, s_start[rows], s_len[rows], 15 if code == _IPV4 else 10, False)
            if code == _IPV4:
                lo, start_ok = vec.parse_ipv4(chars, s_len[rows])
            else:
                lo, start_ok = vec.parse_uint(chars, s_len[rows], 10)
            row_ok = start_ok & val_ok & (val >= 1) & (lo < vec.TOP32) & (lo + val <= vec.TOP32)
            first_lo[rows] = lo
            last_lo[rows] = lo + val - np.uint64(1)
        ok[rows] = row_ok
    return first_hi, first_lo, last_hi, last_lo, value, ok


def _reference_pass(
    data: bytes, lines: _Lines, doubtful: I64, registry: str, source: str
) -> tuple[DelegationTable, list[ParseError]]:
    """Read the rows the vectorised pass was unsure of with the reference reader."""
    accepted, numbers, errors = [], [], []
    for i in doubtful.tolist():
        try:
            accepted.append(parse_record(_line_text(data, lines, i), registry))
            numbers.append(i + 1)
        except RecordError as exc:
            errors.append(ParseError(source, i + 1, str(exc)))
    return DelegationTable.from_delegations(accepted, numbers), errors


def _registry_code(registry: str) -> int:
    return REGISTRY_CODE[Registry(registry)]


def read_record_lines(
    records: list[str], registry: str, source: str, line_numbers: list[int] | None = None
) -> tuple[DelegationTable, list[ParseError]]:
    """Parse record lines without a file around them (rows read back from the store).

    ``line_numbers`` (default 1..n) become the table's ``line`` column and the numbers in
    error messages.
    """
    data = ("\n".join(records) + "\n").encode() if records else b""
    lines = _split_lines(data) if data else _Lines(np.zeros(0, np.int64), np.zeros(0, np.int64))
    buf = np.frombuffer(data + b"\0" * _PAD, dtype=np.uint8)
    table, _types, errors = _read_records(
        buf, data, lines, np.arange(len(records)), registry, source
    )
    if line_numbers is not None:
        numbers = np.asarray(line_numbers, dtype=np.int32)
        table = replace(table, line=numbers[table.line - 1])
        errors = [
            ParseError(e.source, line_numbers[e.line - 1] if e.line else None, e.reason)
            for e in errors
        ]
    return table, errors
