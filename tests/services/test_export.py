"""Exports: golden statistics round trips, the NRO combined layout, and the tabular formats.

The golden tests ingest each of the 14 real files and require the regenerated file to be
byte-identical, on SQLite and PostgreSQL. Combined and tabular exports are checked against the
store's own rows, read back with the reference record parser.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rirport.domain.delegation import Delegation
from rirport.domain.enums import Registry
from rirport.domain.table import DelegationTable
from rirport.errors import InputError, NotFoundError
from rirport.formats import tabular
from rirport.formats.records import parse_record
from rirport.formats.statsfile import read_stats
from rirport.query.view import CurrentView, load_current
from rirport.services.registry.export import (
    export_combined,
    export_snapshot,
    find_snapshot,
    iter_snapshot,
    narrow_view,
    snapshot_view,
    table_rows,
    write_parquet,
    write_table,
)
from rirport.services.registry.ingest import ingest_bytes, ingest_path
from rirport.store.unit import Store
from tests.conftest import DELEGATED, SHARED, real_files

ALL_FILES = sorted(p for p in DELEGATED.glob("*/delegated-*") if p.is_file())
COMBINED_FIXTURE = SHARED / "fixtures" / "nro-delegated-stats" / "combined"

#: A small file with the quirks that matter: a preamble, RIPE NCC's summary order, 7- and
#: 8-field lines, empty and ``00000000`` dates, a count that is not a power of two, and an
#: opaque-id that CSV must quote.
SAMPLE = """# a comment before the version line
#
2|ripencc|1539467999|7|19830705|20181013|+0200
ripencc|*|ipv4|*|3|summary
ripencc|*|asn|*|2|summary
ripencc|*|ipv6|*|2|summary
ripencc|FR|ipv4|2.0.0.0|1048576|20100712|allocated|d91963c1
ripencc|EU|ipv4|2.16.0.0|768|20100910|allocated|x,"quoted"
ripencc||ipv4|2.20.0.0|256||available
ripencc|NL|asn|3333|1|19930901|assigned|abc
ripencc|ZZ|asn|7|2|00000000|reserved|
ripencc|DE|ipv6|2001:600::|32|19990826|allocated|dcca
ripencc||ipv6|2001:db8::|32||reserved
"""


def test_the_fourteen_real_files_are_there() -> None:
    assert len(ALL_FILES) == 14, ALL_FILES


# -- stats: golden round trips ---------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_stats_round_trip_is_byte_identical(store: Store, path: Path) -> None:
    result = ingest_path(store, path)
    original = path.read_bytes()
    assert export_snapshot(store, result.snapshot_id).encode() == original
    by_registry = "".join(iter_snapshot(store, registry=Registry(result.registry)))
    assert by_registry.encode() == original


def test_sample_round_trip_keeps_preamble_summary_order_and_quirks(store: Store) -> None:
    result = ingest_bytes(store, SAMPLE.encode(), "sample")
    assert export_snapshot(store, result.snapshot_id) == SAMPLE


def test_skipped_lines_are_left_out_and_counts_recounted(store: Store) -> None:
    bad = SAMPLE.replace("ripencc|NL|asn|3333|1|", "ripencc|NL|asn|x3333|1|")
    result = ingest_bytes(store, bad.encode(), "bad-sample", skip_bad_lines=True)
    assert len(result.skipped) == 1
    text = export_snapshot(store, result.snapshot_id)
    reread = read_stats(text.encode(), "export")
    assert reread.ok, reread.file_errors + reread.errors
    assert reread.header.records == 6
    assert {t.value: n for t, n in reread.summary}["asn"] == 1
    assert "3333" not in text
    assert [t.value for t, _ in reread.summary] == ["ipv4", "asn", "ipv6"]


def test_registry_export_takes_the_newest_snapshot(store: Store) -> None:
    old = ingest_bytes(store, SAMPLE.encode(), "old")
    newer = SAMPLE.replace("1539467999|7|19830705|20181013", "1539554399|7|19830705|20181014")
    new = ingest_bytes(store, newer.encode(), "new")
    assert find_snapshot(store, registry=Registry.RIPENCC).id == new.snapshot_id
    assert export_snapshot(store, registry=Registry.RIPENCC) == newer
    assert export_snapshot(store, old.snapshot_id) == SAMPLE


def test_stats_errors(store: Store) -> None:
    result = ingest_bytes(store, SAMPLE.encode(), "sample")
    with pytest.raises(NotFoundError, match="no snapshot with id 999"):
        export_snapshot(store, 999)
    with pytest.raises(NotFoundError, match="no snapshot of arin"):
        export_snapshot(store, registry=Registry.ARIN)
    with pytest.raises(InputError, match="name a registry or a snapshot"):
        export_snapshot(store)
    with pytest.raises(InputError, match="not arin's"):
        export_snapshot(store, result.snapshot_id, Registry.ARIN)


# -- combined --------------------------------------------------------------------------------
def _content_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def _layout(lines: list[str]) -> tuple[list[str], list[list[str]], list[list[str]]]:
    """(version fields, summary lines' fields, record lines' fields) of a combined file."""
    version = lines[0].split("|")
    fields = [line.split("|") for line in lines[1:]]
    summaries = [f for f in fields if f[-1] == "summary"]
    return version, summaries, fields[len(summaries) :]


def test_combined_sample_has_the_fixture_shape(store: Store) -> None:
    ingest_bytes(store, SAMPLE.encode(), "sample")
    ours = _layout(_content_lines(export_combined(load_current(store))))
    theirs = _layout(_content_lines(COMBINED_FIXTURE.read_text()))
    for (v1, s1, r1), name in ((ours, "ours"), (theirs, "fixture")):
        assert len(v1) == 7, name
        assert all(len(s) == 6 and s[1] == s[3] == "*" for s in s1), name
        assert all(len(r) == 9 for r in r1), name
    assert [s[2] for s in ours[1]] == [s[2] for s in theirs[1]] == ["asn", "ipv4", "ipv6"]
    version, summaries, records = ours
    assert version == ["2.3", "nro", "20181013", "7", "19930901", "20181013", "+0000"]
    assert [(s[0], s[4]) for s in summaries] == [("nro", "2"), ("nro", "3"), ("nro", "2")]
    assert {r[8] for r in records} == {"e-stats"}
    # 7-field lines get an empty 8th field; an empty opaque-id stays empty
    assert "ripencc||ipv4|2.20.0.0|256||available||e-stats" in _content_lines(
        export_combined(load_current(store))
    )
    assert [r[2] for r in records] == ["asn", "asn", "ipv4", "ipv4", "ipv4", "ipv6", "ipv6"]


def test_combined_without_snapshots_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError, match="no snapshots"):
        export_combined(load_current(store))


@pytest.mark.slow
def test_combined_of_standard_files_counts_every_registry(store: Store) -> None:
    for path in sorted(DELEGATED.glob("*/delegated-*-2014*")):
        ingest_path(store, path)
    view = load_current(store)
    lines = _content_lines(export_combined(view))
    version, summaries, records = _layout(lines)
    assert int(version[3]) == len(records) == sum(s.records for s in view.snapshots)
    assert {r[0] for r in records} == {"afrinic", "apnic", "lacnic", "ripencc"}
    assert all(r[7] == "" and r[8] == "e-stats" for r in records)  # standard: no opaque-id
    expected = Counter[str]()
    for snap in view.snapshots:
        expected.update({rtype: count for rtype, count in snap.summary})
    assert {s[2]: int(s[4]) for s in summaries} == dict(expected)


# -- the 2018 set, shared by the slow combined and tabular tests -----------------------------
@pytest.fixture(scope="module")
def store_2018(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    path = tmp_path_factory.mktemp("export2018") / "store.sqlite"
    store = Store(f"sqlite:///{path}")
    for file in real_files("2018"):
        ingest_path(store, file)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture(scope="module")
def view_2018(store_2018: Store) -> CurrentView:
    return load_current(store_2018)


@pytest.fixture(scope="module")
def stored_2018(store_2018: Store, view_2018: CurrentView) -> list[tuple[int, int, str, str]]:
    """(snapshot id, line, registry, record line) of every stored row, in view order."""
    rows = []
    with store_2018.transaction() as uow:
        for snap in view_2018.snapshots:
            lines, records = uow.delegations.record_columns(snap.id)
            rows += [(snap.id, n, snap.registry, r) for n, r in zip(lines, records, strict=True)]
    return rows


@pytest.mark.slow
def test_combined_2018_counts_equal_the_sum_of_the_registries(view_2018: CurrentView) -> None:
    lines = _content_lines(export_combined(view_2018))
    version, summaries, records = _layout(lines)
    assert version[:2] == ["2.3", "nro"] and version[6] == "+0000"
    assert version[2] == max(s.snapshot_date for s in view_2018.snapshots).strftime("%Y%m%d")
    assert int(version[3]) == len(records) == sum(s.records for s in view_2018.snapshots)
    expected = Counter[str]()
    for snap in view_2018.snapshots:
        expected.update({rtype: count for rtype, count in snap.summary})
    assert {s[2]: int(s[4]) for s in summaries} == dict(expected)
    assert [s[0] for s in summaries] == ["nro"] * 3


@pytest.mark.slow
def test_combined_2018_holds_exactly_the_stored_records_in_address_order(
    view_2018: CurrentView, stored_2018: list[tuple[int, int, str, str]]
) -> None:
    records = _content_lines(export_combined(view_2018))[4:]
    assert all(r.endswith("|e-stats") for r in records)
    # back to the registries' own lines: drop the tag, and the empty 8th field of 7-field lines
    back = [r[: -len("|e-stats")] for r in records]
    stored = [record for _sid, _line, _reg, record in stored_2018]
    seven = {r for r in stored if r.count("|") == 6}
    back = [r[:-1] if r[:-1] in seven and r.endswith("|") else r for r in back]
    assert Counter(back) == Counter(stored)
    keys = []
    for r in records[::97]:
        d = parse_record("|".join(r.split("|")[:8]), r.split("|")[0])
        keys.append((["asn", "ipv4", "ipv6"].index(d.type.value), d.resource.first))
    assert keys == sorted(keys)


# -- tabular ---------------------------------------------------------------------------------
def _expected(
    stored: list[tuple[int, int, str, str]], files: dict[int, str]
) -> list[dict[str, Any]]:
    """What every row should say: the reference parser's reading of the stored line."""
    rows = []
    for sid, line, registry, record in stored:
        d = parse_record(record, registry)
        rows.append({**d.to_json(), "source": {"snapshot": sid, "file": files[sid], "line": line}})
    return rows


def _derived(d: Delegation) -> tuple[str, str | None]:
    """``end`` and space-separated ``prefixes`` from the domain's own range arithmetic."""
    rng = d.resource
    prefixes = " ".join(str(n) for n in rng.to_cidrs()) if rng.is_ip else None
    return rng.end_text(), prefixes


def _checked_rows(stored: list[tuple[int, int, str, str]]) -> list[int]:
    """Rows whose end/prefixes are checked against the domain's range arithmetic (it costs
    ~50 µs a row, so not all half million): every 25th row and every IPv4 row that needs more
    than one prefix. The numpy address text is checked against :mod:`ipaddress` below."""
    picked = set(range(0, len(stored), 25))
    for i, (_sid, _line, _reg, record) in enumerate(stored):
        fields = record.split("|")
        if fields[2] == "ipv4" and int(fields[4]) & (int(fields[4]) - 1):
            picked.add(i)
    return sorted(picked)


def _mismatch(got: list[Any], want: list[Any]) -> str | None:
    """None when equal, else where they first differ (pytest's own diff of two lists of half
    a million items would take minutes)."""
    if got == want:
        return None
    if len(got) != len(want):
        return f"{len(got)} rows, expected {len(want)}"
    i = next(k for k, (a, b) in enumerate(zip(got, want, strict=True)) if a != b)
    return f"row {i}: {got[i]!r} != {want[i]!r}"


@pytest.fixture(scope="module")
def expected_2018(
    view_2018: CurrentView, stored_2018: list[tuple[int, int, str, str]]
) -> list[dict[str, Any]]:
    return _expected(stored_2018, {s.id: s.file_name for s in view_2018.snapshots})


@pytest.mark.slow
def test_csv_2018_reads_back_as_the_stored_rows(
    view_2018: CurrentView,
    stored_2018: list[tuple[int, int, str, str]],
    expected_2018: list[dict[str, Any]],
) -> None:
    out = io.StringIO(newline="")
    write_table(view_2018, "csv", out)
    out.seek(0)
    reader = csv.reader(out)
    assert next(reader) == list(tabular.COLUMNS)
    rows = list(reader)
    plain = [0, 1, 2, 3, 4, 5, 6, 7, 10, 11]  # every column but end and prefixes
    got = [[row[k] for k in plain] for row in rows]
    want = [
        [
            w["registry"],
            w["cc"],
            w["type"],
            w["start"],
            str(w["value"]),
            w["date"] or "",
            w["status"],
            w["opaque_id"] or "",
            w["source"]["file"],
            str(w["source"]["line"]),
        ]
        for w in expected_2018
    ]
    assert (problem := _mismatch(got, want)) is None, problem
    picked = _checked_rows(stored_2018)
    derived = [_derived(parse_record(stored_2018[i][3], stored_2018[i][2])) for i in picked]
    got_derived = [(rows[i][8], rows[i][9]) for i in picked]
    assert (problem := _mismatch(got_derived, [(e, p or "") for e, p in derived])) is None, problem


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_json_2018_reads_back_as_the_stored_rows(
    fmt: str,
    view_2018: CurrentView,
    stored_2018: list[tuple[int, int, str, str]],
    expected_2018: list[dict[str, Any]],
) -> None:
    out = io.StringIO()
    write_table(view_2018, fmt, out)
    text = out.getvalue()
    rows = json.loads(text) if fmt == "json" else [json.loads(x) for x in text.splitlines()]
    assert list(rows[0]) == [
        "registry",
        "cc",
        "type",
        "start",
        "value",
        "date",
        "status",
        "opaque_id",
        "end",
        "source",
    ]
    ends = [row.pop("end") for row in rows]
    assert (problem := _mismatch(rows, expected_2018)) is None, problem
    picked = _checked_rows(stored_2018)
    want_ends = [_derived(parse_record(stored_2018[i][3], stored_2018[i][2]))[0] for i in picked]
    assert (problem := _mismatch([ends[i] for i in picked], want_ends)) is None, problem


@pytest.mark.slow
def test_parquet_2018_has_typed_columns_and_the_stored_rows(
    tmp_path: Path,
    view_2018: CurrentView,
    stored_2018: list[tuple[int, int, str, str]],
    expected_2018: list[dict[str, Any]],
) -> None:
    path = tmp_path / "all.parquet"
    write_parquet(view_2018, path)
    table = pq.read_table(path)
    schema = table.schema
    assert schema.field("date").type == pa.date32()
    assert schema.field("value").type == pa.int64()
    assert schema.field("line").type == pa.int32()
    assert schema.field("prefixes").type == pa.list_(pa.string())
    assert pa.types.is_dictionary(schema.field("registry").type)
    assert table.column_names == list(tabular.COLUMNS)
    assert table.num_rows == len(expected_2018)
    for name in ("registry", "cc", "type", "start", "value", "status", "opaque_id"):
        column = table.column(name).to_pylist()
        assert (problem := _mismatch(column, [w[name] for w in expected_2018])) is None, (
            name,
            problem,
        )
    dates = [d.isoformat() if d else None for d in table.column("date").to_pylist()]
    assert (problem := _mismatch(dates, [w["date"] for w in expected_2018])) is None, problem
    files = list(
        zip(table.column("file").to_pylist(), table.column("line").to_pylist(), strict=True)
    )
    want_files = [(w["source"]["file"], w["source"]["line"]) for w in expected_2018]
    assert (problem := _mismatch(files, want_files)) is None, problem
    picked = _checked_rows(stored_2018)
    ends, prefixes = table.column("end").to_pylist(), table.column("prefixes").to_pylist()
    derived = [_derived(parse_record(stored_2018[i][3], stored_2018[i][2])) for i in picked]
    got_derived = [(ends[i], prefixes[i]) for i in picked]
    want_derived = [(e, p.split() if p else None) for e, p in derived]
    assert (problem := _mismatch(got_derived, want_derived)) is None, problem


@pytest.mark.slow
def test_narrowing_to_a_registry_keeps_only_its_rows(view_2018: CurrentView) -> None:
    lacnic = narrow_view(view_2018, Registry.LACNIC)
    assert [s.registry for s in lacnic.snapshots] == ["lacnic"]
    assert len(lacnic.table) == lacnic.snapshots[0].records
    assert set(lacnic.snapshot_ids.tolist()) == {lacnic.snapshots[0].id}


# -- tabular on the sample, both engines -----------------------------------------------------
def test_sample_tables_on_each_engine(store: Store, tmp_path: Path) -> None:
    result = ingest_bytes(store, SAMPLE.encode(), "sample")
    view = snapshot_view(store, result.snapshot_id)
    out = io.StringIO(newline="")
    write_table(view, "csv", out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert rows[1]["opaque_id"] == 'x,"quoted"'
    assert rows[1]["prefixes"] == "2.16.0.0/23 2.16.2.0/24"
    assert rows[1]["end"] == "2.16.2.255"
    assert rows[4]["end"] == "8" and rows[4]["prefixes"] == "" and rows[4]["date"] == ""
    assert rows[5]["prefixes"] == "2001:600::/32"
    assert rows[5]["end"] == "2001:600:ffff:ffff:ffff:ffff:ffff:ffff"
    buffer = io.StringIO()
    write_table(view, "json", buffer)
    objects = json.loads(buffer.getvalue())
    assert objects[2]["opaque_id"] is None and objects[4]["opaque_id"] == ""
    assert objects[2]["date"] is None and objects[0]["date"] == "2010-07-12"
    assert objects[0]["source"] == {"snapshot": result.snapshot_id, "file": "sample", "line": 7}
    write_parquet(view, tmp_path / "s.parquet")
    back = pq.read_table(tmp_path / "s.parquet").to_pylist()
    assert back[2]["date"] is None and back[2]["opaque_id"] is None
    assert back[4]["prefixes"] is None


def test_csv_matches_the_csv_module_byte_for_byte(store: Store) -> None:
    result = ingest_bytes(store, SAMPLE.encode(), "sample, with a comma")
    out = io.StringIO(newline="")
    write_table(snapshot_view(store, result.snapshot_id), "csv", out)
    reference = io.StringIO(newline="")
    writer = csv.writer(reference, lineterminator="\n")
    for row in csv.reader(io.StringIO(out.getvalue(), newline="")):
        writer.writerow(row)
    assert out.getvalue() == reference.getvalue()
    assert '"sample, with a comma"' in out.getvalue()


def test_empty_table_writes_valid_empty_outputs() -> None:
    rows = tabular.export_rows(_empty_view().table, np.zeros(0, np.int32), {})
    for writer, check in (
        (tabular.write_json, lambda t: json.loads(t) == []),
        (tabular.write_ndjson, lambda t: t == ""),
        (tabular.write_csv, lambda t: t == ",".join(tabular.COLUMNS) + "\n"),
    ):
        out = io.StringIO()
        writer(rows, out)
        assert check(out.getvalue()), writer
    assert tabular.to_arrow(rows).num_rows == 0


def _empty_view() -> CurrentView:
    return CurrentView([], DelegationTable.empty(), np.zeros(0, np.int32), 0)


def test_table_rows_of_an_empty_store_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError):
        table_rows(load_current(store))


# -- the vectorised address text, against ipaddress -----------------------------------------
def _random_ipv6(rng: random.Random, n: int) -> list[int]:
    """Numbers with many zero groups (to exercise ``::``), and the edges."""
    values = [
        0,
        1,
        (1 << 128) - 1,
        0xFFFF00000000,
        1 << 64,
        1 << 127,
        1 << 112,
        0x20010DB8000000000000000000000001,
        0x20010DB8000100000000000000000000,
    ]
    for _ in range(n):
        groups = [rng.getrandbits(16) if rng.random() < 0.45 else 0 for _ in range(8)]
        groups = [g if rng.random() < 0.7 else g & 0xF for g in groups]
        values.append(sum(g << (16 * k) for k, g in enumerate(groups)))
    return values


def test_ipv6_texts_match_ipaddress() -> None:
    values = _random_ipv6(random.Random(7), 20_000)
    hi = np.array([v >> 64 for v in values], dtype=np.uint64)
    lo = np.array([v & ((1 << 64) - 1) for v in values], dtype=np.uint64)
    assert tabular.ipv6_texts(hi, lo) == [str(ipaddress.IPv6Address(v)) for v in values]


def test_ipv4_texts_match_ipaddress() -> None:
    rng = random.Random(8)
    values = [0, 1, 9, 10, 99, 100, 255, 256, (1 << 32) - 1] + [
        rng.getrandbits(32) for _ in range(20_000)
    ]
    got = tabular.ipv4_texts(np.array(values, dtype=np.uint64))
    assert got == [str(ipaddress.IPv4Address(v)) for v in values]
