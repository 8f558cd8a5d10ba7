"""Reading and writing whole statistics files: the 14 real files, excerpts of them, bad input.

Expectations about the real files come from the files themselves: a plain ``split("|")`` reading
of each file (:func:`plain_read`), or facts checked by hand in the file and quoted here.
"""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import hashlib
import ipaddress
import lzma
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from rirport.domain.delegation import Delegation
from rirport.domain.enums import Registry, ResourceType, Status
from rirport.domain.table import DelegationTable
from rirport.errors import ParseError
from rirport.formats.source import read_source, source_from_bytes
from rirport.formats.statsfile import StatsFile, read_stats
from rirport.formats.statswriter import render_records, render_stats
from tests.paths import DELEGATED, TEST_DATA

EXCERPTS = TEST_DATA / "excerpts"
REAL_FILES = sorted(DELEGATED.glob("*/delegated-*"))
REAL_IDS = [p.name for p in REAL_FILES]
REGISTRIES = [r.value for r in Registry]


def test_the_fourteen_real_files_are_there() -> None:
    assert len(REAL_FILES) == 14, f"expected 14 statistics files under {DELEGATED}"


# -- an independent reading of a file --------------------------------------------------------------


@dataclass
class Plain:
    """A file read with ``str.split``: what read_stats must agree with."""

    preamble: str
    header: list[str]
    header_line: int
    summaries: list[list[str]]
    records: list[tuple[int, list[str]]]
    """(1-based line number, fields) of every record line."""


def plain_read(data: bytes) -> Plain:
    lines = data.decode("utf-8").split("\n")
    assert lines.pop() == "", "a real file ends with a newline"
    at = next(i for i, line in enumerate(lines) if line and not line.startswith("#"))
    k = at + 1
    summaries = []
    while lines[k].endswith("|summary"):
        summaries.append(lines[k].split("|"))
        k += 1
    records = [
        (i + 1, lines[i].split("|"))
        for i in range(k, len(lines))
        if lines[i] and not lines[i].startswith("#")
    ]
    preamble = "".join(line + "\n" for line in lines[:at])
    return Plain(preamble, lines[at].split("|"), at + 1, summaries, records)


def load(path: Path) -> StatsFile:
    source = read_source(path)
    return read_stats(source.data, source.name)


@cache
def load_cached(name: str) -> StatsFile:
    (path,) = [p for p in REAL_FILES if p.name == name]
    return load(path)


@pytest.fixture(scope="module", autouse=True)
def _forget_loaded_files() -> Iterator[None]:
    yield
    load_cached.cache_clear()


def same_table(a: DelegationTable, b: DelegationTable) -> bool:
    return all(np.array_equal(getattr(a, f.name), getattr(b, f.name)) for f in fields(a))


def column(table: DelegationTable, name: str) -> list[object]:
    values: list[object] = getattr(table, name).tolist()
    return values


# -- the real files --------------------------------------------------------------------------------


FIRST_RECORDS = {
    "delegated-afrinic-20140630": "afrinic|ZA|asn|1228|1|19910301|allocated",
    "delegated-afrinic-extended-20170321": "afrinic|ZA|asn|1228|1|19910301|allocated|F36B9F4B",
    "delegated-afrinic-extended-20181013": "afrinic|ZA|asn|1228|1|19910301|allocated|F36B9F4B",
    "delegated-apnic-20140701": "apnic|JP|asn|173|1|20020801|allocated",
    "delegated-apnic-extended-20170322": "apnic|AU|ipv4|1.0.0.0|256|20110811|assigned|A91872ED",
    "delegated-apnic-extended-20181014": "apnic|AU|ipv4|1.0.0.0|256|20110811|assigned|A91872ED",
    "delegated-arin-extended-20170321": (
        "arin|US|asn|1|1|20010920|assigned|abc43e5fcdb68e284085cf6f1b34834e"
    ),
    "delegated-arin-extended-20181013": (
        "arin|US|asn|1|1|20010920|assigned|e5e3b9c13678dfc483fb1f819d70883c"
    ),
    "delegated-lacnic-20140629": "lacnic|AR|ipv4|24.232.0.0|65536|19970602|allocated",
    "delegated-lacnic-extended-20170320": "lacnic||ipv4|24.152.0.0|32768||reserved|",
    "delegated-lacnic-extended-20181012": "lacnic||ipv4|24.152.0.0|32768||reserved|",
    "delegated-ripencc-20140630": "ripencc|FR|ipv4|2.0.0.0|1048576|20100712|allocated",
    "delegated-ripencc-extended-20170320": "ripencc|FR|ipv4|2.0.0.0|1048576|20100712|allocated|"
    "3301f827-679c-475d-ad57-2c487368172b",
    "delegated-ripencc-extended-20181013": "ripencc|FR|ipv4|2.0.0.0|1048576|20100712|allocated|"
    "d91963c1-e981-4483-bba3-eb5060e0bdb2",
}
SUMMARY_ORDER = {  # SOURCES.md: LACNIC ipv4/ipv6/asn, RIPE NCC ipv4/asn/ipv6, others asn/ipv4/ipv6
    "afrinic": ["asn", "ipv4", "ipv6"],
    "apnic": ["asn", "ipv4", "ipv6"],
    "arin": ["asn", "ipv4", "ipv6"],
    "lacnic": ["ipv4", "ipv6", "asn"],
    "ripencc": ["ipv4", "asn", "ipv6"],
}


@pytest.mark.parametrize("path", REAL_FILES, ids=REAL_IDS)
def test_real_file_reads_completely_and_writes_back_byte_for_byte(path: Path) -> None:
    data = path.read_bytes()
    plain = plain_read(data)
    stats = read_stats(data, path.name)

    assert stats.errors == []
    assert stats.file_errors == []
    assert stats.ok
    # counts: version line = summaries = record lines = rows
    records = plain.records
    assert stats.header.records == int(plain.header[3]) == len(records) == stats.record_lines
    assert len(stats.table) == len(records)
    by_type = Counter(fields[2] for _, fields in records)
    assert [(t.value, n) for t, n in stats.summary] == [(s[2], int(s[4])) for s in plain.summaries]
    assert {t.value: n for t, n in stats.summary} == dict(by_type)
    assert stats.preamble == plain.preamble
    assert stats.header.line() == "|".join(plain.header)
    assert stats.extended == ("-extended-" in path.name)
    assert stats.header.snapshot_date().strftime("%Y%m%d") == path.name[-8:]
    assert [t.value for t, _ in stats.summary] == SUMMARY_ORDER[stats.header.registry]
    assert stats.table.row(0).to_stats_line() == FIRST_RECORDS[path.name]

    # every column against the split fields
    t = stats.table
    assert column(t, "line") == [n for n, _ in records]
    assert set(column(t, "registry")) == {list(Registry).index(Registry(plain.header[1]))}
    assert column(t, "cc") == [f[1].encode() for _, f in records]
    type_names = [rtype.value for rtype in ResourceType]
    assert [type_names[c] for c in t.type.tolist()] == [f[2] for _, f in records]
    assert column(t, "start") == [f[3].encode() for _, f in records]
    assert column(t, "value") == [int(f[4]) for _, f in records]
    assert column(t, "date") == [int(f[5]) if f[5].strip("0") else 0 for _, f in records]
    assert column(t, "undated_zeros") == [f[5] == "00000000" for _, f in records]
    status_names = [status.value for status in Status]
    assert [status_names[c] for c in t.status.tolist()] == [f[6] for _, f in records]
    assert column(t, "has_opaque") == [len(f) == 8 for _, f in records]
    assert column(t, "opaque_id") == [f[7].encode() if len(f) == 8 else b"" for _, f in records]

    # numbers of every 97th row, computed with ipaddress
    for i in range(0, len(records), 97):
        _, f = records[i]
        if f[2] == "ipv6":
            net = ipaddress.IPv6Network(f"{f[3]}/{f[4]}")
            first, last = int(net.network_address), int(net.broadcast_address)
        else:
            first = int(ipaddress.IPv4Address(f[3])) if f[2] == "ipv4" else int(f[3])
            last = first + int(f[4]) - 1
        assert (t.first_int(i), t.last_int(i)) == (first, last), f

    # golden: the file written again is the file read
    order = [rtype for rtype, _ in stats.summary]
    assert render_stats(stats.header, stats.table, order, stats.preamble).encode() == data


def test_first_record_as_typed_fields() -> None:
    row = load_cached("delegated-ripencc-extended-20181013").table.row(0)
    assert row == Delegation(
        Registry.RIPENCC,
        "FR",
        ResourceType.IPV4,
        "2.0.0.0",
        1048576,
        dt.date(2010, 7, 12),
        Status.ALLOCATED,
        "d91963c1-e981-4483-bba3-eb5060e0bdb2",
    )
    assert str(row.resource) == "2.0.0.0/12"


@pytest.mark.parametrize(
    "name",
    [
        "delegated-apnic-20140701",
        "delegated-apnic-extended-20170322",
        "delegated-apnic-extended-20181014",
    ],
)
def test_apnic_comment_lines_are_kept_as_preamble(name: str) -> None:
    stats = load_cached(name)
    lines = stats.preamble.split("\n")
    assert lines.pop() == ""
    assert len(lines) == 27
    assert all(line.startswith("#") for line in lines)
    assert "CONDITIONS OF USE" in lines[2]
    assert int(stats.table.line[0]) == 27 + 1 + 3 + 1  # comments, version, 3 summaries


@pytest.mark.parametrize(
    ("name", "available", "reserved"),
    [
        ("delegated-afrinic-extended-20170321", 746, 2288),
        ("delegated-afrinic-extended-20181013", 669, 2723),
    ],
)
def test_afrinic_available_and_reserved_records_use_country_zz(
    name: str, available: int, reserved: int
) -> None:
    stats = load_cached(name)
    t = stats.table
    statuses = [list(Status)[c] for c in t.status.tolist()]
    undelegated = [i for i, s in enumerate(statuses) if not s.delegated]
    assert Counter(statuses[i] for i in undelegated) == {
        Status.AVAILABLE: available,
        Status.RESERVED: reserved,
    }
    assert {t.cc[i] for i in undelegated} == {b"ZZ"}
    assert all(t.date[i] == 0 and not t.undated_zeros[i] for i in undelegated)
    assert (stats.header.start_date, stats.header.utc_offset) == ("00000000", "00000")


def test_arin_2018_has_assigned_records_dated_00000000() -> None:
    t = load_cached("delegated-arin-extended-20181013").table
    zeros = np.flatnonzero(t.undated_zeros)
    assert len(zeros) == 129
    assert {list(Status)[c] for c in t.status[zeros].tolist()} == {Status.ASSIGNED}
    assert not t.date[zeros].any()
    i = int(np.flatnonzero(t.line == 7)[0])  # line 7 of the file
    row = t.row(i)
    assert row.to_stats_line() == (
        "arin|US|asn|3|1|00000000|assigned|d98c567cda2db06e693f2b574eafe848"
    )
    assert row.date is None
    assert row.undated_as == "00000000"
    assert row.to_json()["date"] is None


def test_arin_2017_left_those_dates_empty() -> None:
    t = load_cached("delegated-arin-extended-20170321").table
    assert not t.undated_zeros.any()
    statuses = np.array([list(Status)[c] for c in t.status.tolist()])
    assert int(((t.date == 0) & (statuses == Status.ASSIGNED)).sum()) == 129


@pytest.mark.parametrize(
    ("name", "seven_field"),
    [
        ("delegated-lacnic-extended-20170320", {Status.AVAILABLE: 13415}),
        ("delegated-lacnic-extended-20181012", {Status.AVAILABLE: 17714}),
        ("delegated-ripencc-extended-20170320", {Status.AVAILABLE: 17913, Status.RESERVED: 41090}),
        ("delegated-ripencc-extended-20181013", {Status.AVAILABLE: 16942, Status.RESERVED: 50525}),
    ],
)
def test_seven_field_lines_in_extended_files(name: str, seven_field: dict[Status, int]) -> None:
    stats = load_cached(name)
    t = stats.table
    short = np.flatnonzero(~t.has_opaque)
    assert Counter(list(Status)[c] for c in t.status[short].tolist()) == seven_field
    assert stats.extended
    row = t.row(int(short[0]))
    assert row.opaque_id is None
    assert row.to_stats_line().count("|") == 6


def test_lacnic_reserved_lines_have_an_empty_eighth_field() -> None:
    row = load_cached("delegated-lacnic-extended-20181012").table.row(0)
    assert row.status is Status.RESERVED
    assert row.opaque_id == ""
    assert row.to_stats_line().endswith("|reserved|")


@pytest.mark.parametrize(
    ("name", "line", "first", "last", "multi"),
    [
        ("delegated-arin-extended-20181013", 292, 306, 371, 130),
        ("delegated-lacnic-extended-20181012", 50213, 28433, 28437, 19),
        ("delegated-apnic-extended-20181014", 103886, 2497, 2528, 388),
    ],
)
def test_asn_records_spanning_ranges(
    name: str, line: int, first: int, last: int, multi: int
) -> None:
    t = load_cached(name).table
    asn = t.type == list(ResourceType).index(ResourceType.ASN)
    assert int((asn & (t.value > 1)).sum()) == multi
    i = int(np.flatnonzero(t.line == line)[0])
    assert (t.first_int(i), t.last_int(i)) == (first, last)
    assert t.row(i).resource.size == t.row(i).value == last - first + 1


@pytest.mark.parametrize(
    ("name", "line", "start", "count", "odd"),
    [
        ("delegated-arin-extended-20181013", 27448, "23.128.1.0", 5888, 368),
        ("delegated-ripencc-extended-20181013", 45878, "31.41.240.0", 768, 800),
        ("delegated-afrinic-extended-20181013", 3653, "164.146.0.0", 393216, 51),
    ],
)
def test_ipv4_counts_that_are_not_powers_of_two(
    name: str, line: int, start: str, count: int, odd: int
) -> None:
    t = load_cached(name).table
    ipv4 = t.type == list(ResourceType).index(ResourceType.IPV4)
    values = t.value[ipv4]
    assert int(((values & (values - 1)) != 0).sum()) == odd
    i = int(np.flatnonzero(t.line == line)[0])
    row = t.row(i)
    assert (row.start, row.value) == (start, count)
    first = int(ipaddress.IPv4Address(start))
    assert (t.first_int(i), t.last_int(i)) == (first, first + count - 1)
    expected = list(
        ipaddress.summarize_address_range(
            ipaddress.IPv4Address(first), ipaddress.IPv4Address(first + count - 1)
        )
    )
    assert row.resource.to_cidrs() == expected
    assert len(expected) > 1


def test_country_codes_eu_and_ap() -> None:
    ripe = load_cached("delegated-ripencc-extended-20181013").table
    assert int((ripe.cc == b"EU").sum()) == 1145
    apnic = load_cached("delegated-apnic-extended-20170322").table
    assert int((apnic.cc == b"AP").sum()) == 5


@pytest.mark.parametrize("suffix", ["gz", "xz", "bz2"])
def test_compressed_input(tmp_path: Path, suffix: str) -> None:
    original = next(p for p in REAL_FILES if p.name == "delegated-lacnic-extended-20181012")
    data = original.read_bytes()
    packed = {
        "gz": lambda b: gzip.compress(b, compresslevel=1),
        "xz": lambda b: lzma.compress(b, preset=0),
        "bz2": lambda b: bz2.compress(b, compresslevel=1),
    }[suffix](data)
    path = tmp_path / f"{original.name}.{suffix}"
    path.write_bytes(packed)
    source = read_source(path)
    assert source.compression == {"gz": "gzip", "xz": "xz", "bz2": "bzip2"}[suffix]
    assert source.data == data
    assert source.file_sha256 == hashlib.sha256(packed).hexdigest()
    assert source.content_sha256 == hashlib.sha256(data).hexdigest()
    assert source.content_sha256 == read_source(original).content_sha256
    stats = read_stats(source.data, source.name)
    assert stats.ok
    assert len(stats.table) == 57841
    assert same_table(stats.table, read_stats(data, "plain").table)


# -- excerpts --------------------------------------------------------------------------------------

EXCERPT_SOURCES = {
    "afrinic": "afrinic/delegated-afrinic-extended-20181013",
    "apnic": "apnic/delegated-apnic-extended-20181014",
    "arin": "arin/delegated-arin-extended-20181013",
    "lacnic": "lacnic/delegated-lacnic-extended-20181012",
    "ripencc": "ripencc/delegated-ripencc-extended-20181013",
}


def excerpt_path(registry: str) -> Path:
    return EXCERPTS / f"{registry}-2018-excerpt.txt"


def excerpt_lines(registry: str) -> list[str]:
    return excerpt_path(registry).read_text(encoding="utf-8").split("\n")[:-1]


@pytest.mark.parametrize("registry", REGISTRIES)
def test_excerpts_are_real(registry: str) -> None:
    """Each excerpt is what its README says: real lines, only the counts changed."""
    data = excerpt_path(registry).read_bytes()
    assert len(data) < 4096
    mine = plain_read(data)
    theirs = plain_read((DELEGATED / EXCERPT_SOURCES[registry]).read_bytes())
    assert mine.preamble == theirs.preamble
    assert mine.header[:3] + mine.header[4:] == theirs.header[:3] + theirs.header[4:]
    assert [s[:4] + s[5:] for s in mine.summaries] == [s[:4] + s[5:] for s in theirs.summaries]
    source_lines = {"|".join(f): n for n, f in theirs.records}
    numbers = [source_lines["|".join(f)] for _, f in mine.records]  # KeyError: not a real line
    assert numbers == sorted(numbers)
    assert 20 <= len(numbers) <= 50
    readme = (EXCERPTS / "README.md").read_text()
    assert (
        f"| {excerpt_path(registry).name} | delegated/{EXCERPT_SOURCES[registry]} | "
        f"{','.join(map(str, numbers))} |" in readme
    )
    stats = read_stats(data, "excerpt")
    assert stats.ok
    assert len(stats.table) == len(numbers)


def read_text(text: str, name: str = "bad.txt") -> StatsFile:
    return read_stats(text.encode("utf-8"), name)


def record_at(
    lines: list[str], status: str | None = None, rtype: str | None = None, nth: int = 0
) -> int:
    """Index in ``lines`` of the ``nth`` record line of the given type and status."""
    hits = [
        i
        for i, line in enumerate(lines)
        if line.count("|") >= 6
        and not line.endswith("|summary")
        and "|*|" not in line
        and (rtype is None or line.split("|")[2] == rtype)
        and (status is None or line.split("|")[6] == status)
    ]
    return hits[nth]


def set_field(lines: list[str], i: int, k: int, value: str) -> str:
    fields = lines[i].split("|")
    fields[k] = value
    lines[i] = "|".join(fields)
    return lines[i]


FIELDS_MESSAGE = "expected 7 or 8 (registry|cc|type|start|value|date|status[|opaque-id])"
LINE_CASES = [
    # (registry, type of the record to spoil, field, new value, expected reason)
    ("ripencc", "ipv4", 3, "2.0.0.256", "bad IPv4 address '2.0.0.256'"),
    ("arin", "ipv4", 3, "03.0.0.0", "bad IPv4 address '03.0.0.0'"),
    ("afrinic", "ipv4", 3, "41.0.0", "bad IPv4 address '41.0.0'"),
    ("apnic", "ipv6", 3, "2001:200::g", "bad IPv6 address '2001:200::g'"),
    ("lacnic", "ipv6", 3, "2001:1200:::", "bad IPv6 address '2001:1200:::'"),
    ("afrinic", "ipv4", 4, "0", "IPv4 count is 0"),
    ("lacnic", "asn", 4, "0", "ASN count is 0"),
    ("apnic", "ipv4", 4, "0256", "IPv4 count '0256' is not a decimal number"),
    (
        "ripencc",
        "ipv4",
        3,
        "255.255.255.0",
        "IPv4 range 255.255.255.0+1048576 runs past 255.255.255.255",
    ),
    ("arin", "asn", 3, "4294967296", "AS number 4294967296 is above 4294967295"),
    ("ripencc", "ipv6", 4, "0", "IPv6 prefix length 0 is out of range (1-128)"),
    ("arin", "ipv6", 4, "129", "IPv6 prefix length 129 is out of range (1-128)"),
    (
        "apnic",
        "ipv6",
        3,
        "2001:200:1::",
        "IPv6 start 2001:200:1:: is not aligned to a /35 boundary",
    ),
    (
        "afrinic",
        "ipv6",
        3,
        "2001:4200::1",
        "IPv6 start 2001:4200::1 is not aligned to a /32 boundary",
    ),
    (
        "ripencc",
        "asn",
        6,
        "allocatd",
        "unknown status 'allocatd' (expected allocated, assigned, available or reserved)",
    ),
    (
        "lacnic",
        "ipv4",
        6,
        "Allocated",
        "unknown status 'Allocated' (expected allocated, assigned, available or reserved)",
    ),
    ("ripencc", "ipv4", 5, "20181332", "date: '20181332' is not a calendar date"),
    ("arin", "asn", 5, "20190229", "date: '20190229' is not a calendar date"),
    ("apnic", "asn", 5, "2002081", "date: '2002081' is not a YYYYMMDD date"),
    ("ripencc", "ipv4", 0, "arin", "record names registry 'arin', the file is 'ripencc'"),
    ("afrinic", "asn", 0, "ripe", "unknown registry 'ripe'"),
    ("arin", "asn", 1, "us", "country code 'us' is not two capital letters"),
    ("apnic", "ipv4", 7, "A" * 129, "opaque-id is longer than 128 characters"),
]


@pytest.mark.parametrize(("registry", "rtype", "field", "value", "reason"), LINE_CASES)
def test_bad_record_line(registry: str, rtype: str, field: int, value: str, reason: str) -> None:
    lines = excerpt_lines(registry)
    records = len(read_text("\n".join(lines) + "\n").table)
    i = record_at(lines, rtype=rtype)
    set_field(lines, i, field, value)
    stats = read_text("\n".join(lines) + "\n", f"{registry}-bad.txt")
    assert [str(e) for e in stats.errors] == [f"{registry}-bad.txt:{i + 1}: {reason}"]
    assert (stats.errors[0].line, stats.errors[0].reason) == (i + 1, reason)
    assert stats.file_errors == []
    assert len(stats.table) == records - 1
    assert i + 1 not in stats.table.line.tolist()


@pytest.mark.parametrize(
    ("registry", "spoil", "reason"),
    [
        (
            "ripencc",
            lambda line: line.replace("|ipv4|", "|ipv5|"),
            "unknown type 'ipv5' (expected asn, ipv4 or ipv6)",
        ),
        ("arin", lambda line: line + "|extra", f"record has 9 fields, {FIELDS_MESSAGE}"),
        ("lacnic", lambda line: line.rsplit("|", 2)[0], f"record has 6 fields, {FIELDS_MESSAGE}"),
    ],
)
def test_bad_line_whose_type_cannot_be_counted(
    registry: str, spoil: Callable[[str], str], reason: str
) -> None:
    """A line without a readable type is a line error only: it accounts for the shortfall of
    its type's summary, so --skip-bad-lines can skip it. One more such shortfall is not."""
    lines = excerpt_lines(registry)
    i = record_at(lines, rtype="ipv4")
    lines[i] = spoil(lines[i])
    stats = read_text("\n".join(lines) + "\n")
    assert [(e.line, e.reason) for e in stats.errors] == [(i + 1, reason)]
    assert stats.file_errors == []
    summary_at = next(n for n, line in enumerate(lines) if line.startswith(f"{registry}|*|ipv4|"))
    announced = int(lines[summary_at].split("|")[4])
    set_field(lines, summary_at, 4, str(announced + 1))
    header_at = next(n for n, line in enumerate(lines) if line.startswith(("2|", "2.3|")))
    set_field(lines, header_at, 3, str(int(lines[header_at].split("|")[3]) + 1))
    worse = read_text("\n".join(lines) + "\n")
    assert [(e.line, e.reason) for e in worse.file_errors] == [
        (
            header_at + 1,
            f"version line announces {int(lines[header_at].split('|')[3])} records, "
            f"the file has {int(lines[header_at].split('|')[3]) - 1}",
        ),
        (
            summary_at + 1,
            f"summary line announces {announced + 1} ipv4 records, the file has {announced - 1}",
        ),
    ]


def test_version_line_count_disagreeing() -> None:
    lines = excerpt_lines("apnic")
    at = 27  # after the 27 comment lines
    old = int(lines[at].split("|")[3])
    set_field(lines, at, 3, str(old + 1))
    stats = read_text("\n".join(lines) + "\n", "apnic.txt")
    assert stats.errors == []
    assert [str(e) for e in stats.file_errors] == [
        f"apnic.txt:28: version line announces {old + 1} records, the file has {old}"
    ]


@pytest.mark.parametrize("registry", REGISTRIES)
def test_summary_count_disagreeing_names_the_summary_line(registry: str) -> None:
    lines = excerpt_lines(registry)
    at = next(i for i, line in enumerate(lines) if line.startswith(f"{registry}|*|ipv6|"))
    old = int(lines[at].split("|")[4])
    set_field(lines, at, 4, str(old + 2))
    stats = read_text("\n".join(lines) + "\n", "s.txt")
    assert stats.errors == []
    assert [str(e) for e in stats.file_errors] == [
        f"s.txt:{at + 1}: summary line announces {old + 2} ipv6 records, the file has {old}"
    ]


def test_missing_summary_line() -> None:
    lines = excerpt_lines("arin")
    at = next(i for i, line in enumerate(lines) if line.startswith("arin|*|asn|"))
    count = int(lines.pop(at).split("|")[4])
    others = sum(int(line.split("|")[4]) for line in lines if line.endswith("|summary"))
    stats = read_text("\n".join(lines) + "\n", "m.txt")
    assert stats.errors == []
    assert [str(e) for e in stats.file_errors] == [
        f"m.txt:1: no summary line for asn, the file has {count} such records"
    ]
    assert len(stats.table) == count + others


def test_second_summary_line_for_a_type() -> None:
    lines = excerpt_lines("lacnic")
    lines.insert(2, lines[1])
    stats = read_text("\n".join(lines) + "\n", "d.txt")
    assert [str(e) for e in stats.file_errors] == ["d.txt:3: second summary line for ipv4"]


def test_bad_summary_line() -> None:
    lines = excerpt_lines("afrinic")
    set_field(lines, 3, 4, "many")
    stats = read_text("\n".join(lines) + "\n", "b.txt")
    assert [str(e) for e in stats.file_errors] == [
        "b.txt:4: summary count 'many' is not a number",
        "b.txt:1: no summary line for ipv6, the file has 4 such records",
    ]


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        (0, "3", "unsupported format version '3' (expected 2 or 2.x)"),
        (0, "20", "unsupported format version '20' (expected 2 or 2.x)"),
        (0, "2.", "unsupported format version '2.' (expected 2 or 2.x)"),
        (1, "iana", "registry 'iana': combined and IANA files are not one RIR's statistics file"),
        (1, "ripe", "unknown registry 'ripe'"),
        (3, "many", "record count 'many' is not a number"),
        (5, "20181332", "end date: '20181332' is not a calendar date"),
    ],
)
def test_bad_version_line(field: int, value: str, reason: str) -> None:
    lines = excerpt_lines("ripencc")
    shown = set_field(lines, 0, field, value)
    with pytest.raises(ParseError) as err:
        read_text("\n".join(lines) + "\n", "v.txt")
    assert err.value.line == 1
    assert str(err.value) == f"v.txt:1: not a statistics version line ({reason}): {shown!r}"


def test_version_line_with_wrong_field_count() -> None:
    lines = excerpt_lines("arin")
    lines[0] = lines[0].rsplit("|", 1)[0]
    with pytest.raises(ParseError) as err:
        read_text("\n".join(lines) + "\n", "v.txt")
    assert err.value.line == 1
    assert err.value.reason.startswith(
        "not a statistics version line (version line has 6 fields, expected 7"
    )


@pytest.mark.parametrize(
    ("line", "date"),
    [
        # the real version lines of the 2018 files: epoch serials (ARIN ms, RIPE NCC s) use
        # the end date
        ("2.3|arin|1539406814230|142799|19700101|20181013|-0400", dt.date(2018, 10, 13)),
        ("2|ripencc|1539467999|189189|19830705|20181013|+0200", dt.date(2018, 10, 13)),
        ("2|afrinic|20181013|9373|00000000|20181013|00000", dt.date(2018, 10, 13)),
        ("2.3|apnic|20181014|113050||20181012|+1000", dt.date(2018, 10, 14)),
        # a serial of zeros, or one that is not a calendar date, is no date either
        ("2|afrinic|00000000|9373|00000000|20181013|00000", dt.date(2018, 10, 13)),
        ("2|afrinic|20181399|9373|00000000|20181013|00000", dt.date(2018, 10, 13)),
    ],
)
def test_snapshot_date_of_a_version_line(line: str, date: dt.date) -> None:
    stats = read_text(line + "\n")
    assert stats.header.snapshot_date() == date
    assert stats.header.line() == line


def test_version_line_without_any_date() -> None:
    with pytest.raises(ParseError) as err:
        read_text("2|afrinic|00000000|0|00000000|00000000|00000\n", "z.txt")
    assert str(err.value) == (
        "z.txt:1: not a statistics version line (neither serial '00000000' nor end date "
        "'00000000' is a YYYYMMDD date): '2|afrinic|00000000|0|00000000|00000000|00000'"
    )


def test_truncated_file() -> None:
    data = excerpt_path("ripencc").read_bytes()
    cut = data.index(b"|20110208|") + 5  # in the middle of line 11, a date
    assert data[:cut].count(b"\n") == 10
    stats = read_stats(data[:cut], "t.txt")
    assert [str(e) for e in stats.file_errors] == [
        "t.txt:11: last line has no newline: the file is truncated",
        "t.txt:1: version line announces 23 records, the file has 7",
        "t.txt:3: summary line announces 4 asn records, the file has 0",
        "t.txt:2: summary line announces 14 ipv4 records, the file has 6",
        "t.txt:4: summary line announces 5 ipv6 records, the file has 0",
    ]
    assert [(e.line, e.reason) for e in stats.errors] == [
        (11, f"record has 6 fields, {FIELDS_MESSAGE}")
    ]
    assert len(stats.table) == 6


def test_file_without_final_newline_is_truncated_even_if_counts_agree() -> None:
    data = excerpt_path("lacnic").read_bytes()
    stats = read_stats(data[:-1], "n.txt")
    assert stats.errors == []
    assert [str(e) for e in stats.file_errors] == [
        "n.txt:24: last line has no newline: the file is truncated"
    ]
    assert len(stats.table) == 20  # the rows are all there: the caller must refuse the file


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [
        (b"", None, "file is empty"),
        (b"\n \n\t\n", None, "file is empty"),
        (
            b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n"
            b"<body>Not Found</body></html>\n",
            None,
            "this is an HTML/XML page (an error page from the server?), not a statistics file",
        ),
        (
            b"\n<html>\n<body>503</body></html>\n",
            None,
            "this is an HTML/XML page (an error page from the server?), not a statistics file",
        ),
        (bytes(range(256)), 1, "binary data (NUL byte), not a statistics file"),
    ],
)
def test_content_that_is_not_a_statistics_file(
    content: bytes, line: int | None, reason: str
) -> None:
    with pytest.raises(ParseError) as err:
        source_from_bytes(content, "x.txt")
    assert (err.value.line, err.value.reason) == (line, reason)
    with pytest.raises(ParseError) as err:  # the reader refuses it as well
        read_stats(content, "x.txt")
    assert (err.value.line, err.value.reason) == (line, reason)


def test_nul_byte_in_a_real_line() -> None:
    lines = excerpt_path("arin").read_bytes().split(b"\n")
    lines[8] = lines[8].replace(b"|US|", b"|U\0|")
    data = b"\n".join(lines)
    with pytest.raises(ParseError) as err:
        source_from_bytes(data, "x.txt")
    assert str(err.value) == "x.txt:9: binary data (NUL byte), not a statistics file"


@pytest.mark.parametrize("registry", ["ripencc", "arin"])
def test_non_utf8_text(registry: str) -> None:
    lines = excerpt_path(registry).read_bytes().split(b"\n")
    i = record_at([ln.decode() for ln in lines], status="allocated", nth=2)
    lines[i] = lines[i] + "é".encode("latin-1")  # a Latin-1 byte in the opaque-id
    data = b"\n".join(lines)
    for reader in (source_from_bytes, read_stats):
        with pytest.raises(ParseError) as err:
            reader(data, "x.txt")
        assert str(err.value) == f"x.txt:{i + 1}: not UTF-8 text (byte 0xe9)"


def test_only_comments() -> None:
    comments = "".join(line + "\n" for line in excerpt_lines("apnic")[:27])
    source = source_from_bytes(comments.encode(), "c.txt")
    with pytest.raises(ParseError) as err:
        read_stats(source.data, "c.txt")
    assert str(err.value) == "c.txt: no version line (only comments or blank lines)"
    assert err.value.line is None


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage"])
def test_corrupt_gzip(tmp_path: Path, damage: str) -> None:
    packed = gzip.compress(excerpt_path("afrinic").read_bytes())
    if damage == "truncate":
        packed = packed[: len(packed) // 2]
    elif damage == "flip":
        middle = len(packed) // 2
        packed = packed[:middle] + bytes([packed[middle] ^ 0xFF]) + packed[middle + 1 :]
    else:
        packed = packed[:10] + b"this is not deflate data" * 4
    path = tmp_path / "delegated-afrinic-extended-latest.gz"
    path.write_bytes(packed)
    with pytest.raises(ParseError) as err:
        read_source(path)
    assert err.value.source == str(path)
    assert err.value.line is None
    assert re.fullmatch(r"corrupt gzip data \(.+\)", err.value.reason), err.value.reason


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ParseError) as err:
        read_source(tmp_path / "nope.txt", name="nope.txt")
    assert str(err.value) == "nope.txt: cannot read file: No such file or directory"


# -- skipping bad lines, as the reader sees it -----------------------------------------------------


def test_bad_lines_are_listed_and_good_rows_kept() -> None:
    lines = excerpt_lines("ripencc")
    good_before = read_text("\n".join(lines) + "\n").table
    bad = [
        record_at(lines, rtype="ipv4", nth=1),
        record_at(lines, rtype="asn", nth=2),
        record_at(lines, rtype="ipv6", nth=4),
    ]
    set_field(lines, bad[0], 3, "2.16.0.0.0")
    set_field(lines, bad[1], 5, "19930931")
    set_field(lines, bad[2], 4, "300")
    text = "\n".join(lines)  # and no newline at the end: truncated
    stats = read_text(text, "skip.txt")

    assert [(e.line, e.reason) for e in stats.errors] == [
        (bad[0] + 1, "bad IPv4 address '2.16.0.0.0'"),
        (bad[1] + 1, "date: '19930931' is not a calendar date"),
        (bad[2] + 1, "IPv6 prefix length 300 is out of range (1-128)"),
    ]
    assert [str(e) for e in stats.file_errors] == [
        f"skip.txt:{len(lines)}: last line has no newline: the file is truncated"
    ]
    assert not stats.ok
    assert stats.record_lines == 23
    keep = [i for i in range(len(good_before)) if good_before.line[i] - 1 not in bad]
    assert len(stats.table) == 20
    assert stats.table.rows() == [good_before.row(i) for i in keep]
    assert stats.table.line.tolist() == [int(good_before.line[i]) for i in keep]


def test_line_numbers_count_blank_lines_comments_and_crlf() -> None:
    lines = excerpt_lines("afrinic")
    plain = read_text("\n".join(lines) + "\n")
    lines.insert(6, "")  # becomes line 7
    lines.insert(9, "# a comment between records")  # becomes line 10
    crlf = "\r\n".join(lines) + "\r\n"
    stats = read_text(crlf)
    assert stats.ok
    assert stats.table.rows() == plain.table.rows()
    once = [n + (n >= 7) for n in plain.table.line.tolist()]
    assert stats.table.line.tolist() == [n + (n >= 10) for n in once]
    i = record_at(lines, rtype="ipv4")
    set_field(lines, i, 3, "41.0.0.0.0")
    bad = read_text("\r\n".join(lines) + "\r\n", "crlf.txt")
    assert [str(e) for e in bad.errors] == [f"crlf.txt:{i + 1}: bad IPv4 address '41.0.0.0.0'"]


# -- the writer ------------------------------------------------------------------------------------


@pytest.mark.parametrize("registry", REGISTRIES)
def test_excerpt_round_trip(registry: str) -> None:
    data = excerpt_path(registry).read_bytes()
    stats = read_stats(data, "e")
    order = [t for t, _ in stats.summary]
    assert render_stats(stats.header, stats.table, order, stats.preamble).encode() == data
    rendered = render_records(stats.table)
    assert [line.rstrip("\n") for line in rendered] == [
        d.to_stats_line() for d in stats.table.rows()
    ]
    assert "".join(rendered).encode() == data[data.index(rendered[0].encode()) :]


def test_writer_recomputes_counts_and_summaries() -> None:
    stats = read_stats(excerpt_path("ripencc").read_bytes(), "e")
    t = stats.table
    ipv4 = t.take(t.type_mask(ResourceType.IPV4))
    text = render_stats(stats.header, ipv4, [ResourceType.IPV4])
    lines = text.split("\n")
    assert lines[0] == "2|ripencc|1539467999|14|19830705|20181013|+0200"
    assert lines[1:2] == ["ripencc|*|ipv4|*|14|summary"]
    assert len(lines) == 1 + 1 + 14 + 1
    # a type with records but missing from the order still gets its summary line
    text = render_stats(stats.header, t, [ResourceType.IPV6])
    assert text.split("\n")[1:4] == [
        "ripencc|*|ipv6|*|5|summary",
        "ripencc|*|asn|*|4|summary",
        "ripencc|*|ipv4|*|14|summary",
    ]
    again = read_stats(text.encode(), "again")
    assert again.ok
    assert again.table.rows() == t.rows()


def test_writer_on_rows_built_from_values() -> None:
    rows = [
        Delegation(
            Registry.ARIN,
            "",
            ResourceType.ASN,
            "3",
            1,
            None,
            Status.ASSIGNED,
            "x",
            undated_as="00000000",
        ),
        Delegation(
            Registry.ARIN,
            "US",
            ResourceType.IPV6,
            "2001:400::",
            32,
            dt.date(1999, 8, 3),
            Status.ALLOCATED,
            "",
        ),
        Delegation(Registry.ARIN, "", ResourceType.IPV4, "23.128.1.0", 5888, None, Status.RESERVED),
    ]
    table = DelegationTable.from_delegations(rows)
    assert render_records(table) == [
        "arin||asn|3|1|00000000|assigned|x\n",
        "arin|US|ipv6|2001:400::|32|19990803|allocated|\n",
        "arin||ipv4|23.128.1.0|5888||reserved\n",
    ]
    assert table.rows() == rows
