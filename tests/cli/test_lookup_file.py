"""``rirport lookup --file`` streams in batches and writes what rendering ``bulk()`` of the
whole file wrote, byte for byte, in every format.

The store holds ARIN's 2017 file beside the other four 2018 files, so some addresses fall in
a segment of the index covered by two registries (the general path) while most take the
vectorised one; batches and read blocks are made tiny so queries cross their boundaries.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner

from rirport.cli import lookup_file
from rirport.cli.lookup import COLUMNS
from rirport.cli.main import cli
from rirport.cli.output import print_table, to_csv
from rirport.domain.enums import ResourceType
from rirport.domain.table import TYPE_CODE
from rirport.query.bulk import bulk, single_rows
from rirport.query.lookup import Lookup
from rirport.query.view import load_current
from rirport.services.registry.ingest import ingest_path
from rirport.store.unit import Store
from tests.paths import real_files

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Lookup]]:
    folder = tmp_path_factory.mktemp("lookup-file")
    url = f"sqlite:///{folder / 's.sqlite'}"
    store = Store(url)
    files = [f for f in real_files("2018") if "arin" not in f.name]
    files += [f for f in real_files("2017") if "arin" in f.name]
    for path in files:
        ingest_path(store, path)
    lookup = Lookup(load_current(store))
    store.close()
    yield url, lookup


def _queries(lookup: Lookup) -> list[str]:
    """Every kind of line: simple and overlapped addresses of both families, AS numbers,
    prefixes, ranges, holders, bad queries; comments, blanks and stray spaces."""
    table, rng = lookup.view.table, np.random.default_rng(12)
    texts: list[str] = []
    v4 = np.flatnonzero(table.type == TYPE_CODE[ResourceType.IPV4])
    for row in rng.choice(v4, 120).tolist():
        offset = int(rng.integers(0, int(table.value[row])))
        texts.append(str(ipaddress.IPv4Address(table.first_int(row) + offset)))
    texts += [str(ipaddress.IPv4Address(int(n))) for n in rng.integers(0, 2**32, 40)]
    index = lookup.index.by_type[ResourceType.IPV4]
    counts = np.diff(index.ptr)
    shared = np.flatnonzero(counts > 1)
    assert len(shared) > 10, "the 2017 ARIN file should overlap the 2018 files"
    texts += [str(ipaddress.IPv4Address(int(index.bounds[s]))) for s in shared[:30].tolist()]
    v6 = np.flatnonzero(table.type == TYPE_CODE[ResourceType.IPV6])
    for row in rng.choice(v6, 40).tolist():
        texts.append(str(ipaddress.IPv6Address(table.first_int(row) + 12345)))
    asn = np.flatnonzero(table.type == TYPE_CODE[ResourceType.ASN])
    for k, row in enumerate(rng.choice(asn, 40).tolist()):
        texts.append(f"AS{table.first_int(row)}" if k % 2 else str(table.first_int(row)))
    holder = table.opaque_id[int(asn[0])].decode()
    texts += ["193.0.0.0/21", "AS3333-AS3340", f"holder:{holder}", "ripencc:AS3333"]
    texts += ["10.0.0.1/24", "not-a-query", "AS99999999999", "1.2.3.04", "::ffff:1.2.3.4"]
    rng.shuffle(texts)
    lines = [f"  {t} " if k % 9 == 0 else t for k, t in enumerate(texts)]
    return ["# a comment", "", *lines[:50], "", "# another", *lines[50:]]


def _expected(lookup: Lookup, queries: list[str], fmt: str) -> str:
    """What the command wrote before it streamed: ``bulk()`` of the whole file, rendered."""
    kept = [q.strip() for q in queries if q.strip() and not q.strip().startswith("#")]
    answers = bulk(lookup, kept)
    if fmt == "json":
        return json.dumps([a.to_json() for a in answers], indent=2, ensure_ascii=False) + "\n"
    if fmt == "ndjson":
        return "".join(json.dumps(a.to_json(), ensure_ascii=False) + "\n" for a in answers)
    rows = [{"query": a.query, **m.to_json()} for a in answers for m in a.matches]
    if fmt == "csv":
        return to_csv(rows, ["query", *COLUMNS])

    @click.command()
    def table() -> None:
        print_table(rows, ["query", *COLUMNS])

    return CliRunner().invoke(table).stdout


@pytest.mark.parametrize("fmt", ["csv", "ndjson", "json", "table"])
def test_streamed_output_is_the_whole_files(
    loaded: tuple[str, Lookup], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    url, lookup = loaded
    queries = _queries(lookup)
    path = tmp_path / "queries.txt"
    path.write_text("\n".join(queries) + "\n")
    if fmt != "table":  # a table is printed per batch: one batch compares with the whole
        monkeypatch.setattr(lookup_file, "BATCH", 17)
    monkeypatch.setattr(lookup_file, "_BLOCK", 100)
    result = CliRunner().invoke(
        cli,
        ["--db", url, "--data-dir", str(tmp_path), "lookup", "--file", str(path), "--format", fmt],
    )
    assert result.stdout == _expected(lookup, queries, fmt)
    assert result.exit_code == 1  # some queries could not be read, and stderr names each
    for bad in ("10.0.0.1/24", "not-a-query", "AS99999999999", "1.2.3.04"):
        assert f"{bad!r}" in result.stderr


def test_a_file_without_queries(loaded: tuple[str, Lookup], tmp_path: Path) -> None:
    url, lookup = loaded
    path = tmp_path / "empty.txt"
    path.write_text("# nothing here\n\n")
    for fmt in ("csv", "json", "ndjson"):
        result = CliRunner().invoke(
            cli,
            ["--db", url, "--data-dir", str(tmp_path), "lookup", "-f", str(path), "--format", fmt],
        )
        assert result.exit_code == 0
        assert result.stdout == _expected(lookup, [], fmt)


def test_single_rows_answers_as_bulk_does(loaded: tuple[str, Lookup]) -> None:
    """The vectorised plan's one row (and its exactness) is bulk()'s one match."""
    _, lookup = loaded
    texts = [q.strip() for q in _queries(lookup) if q.strip() and not q.startswith("#")]
    plan = single_rows(lookup, texts)
    answers = bulk(lookup, texts)
    simple = set(range(len(texts))) - set(plan.others)
    assert len(simple) > 200
    for i in simple:
        row = int(plan.rows[i])
        matches = answers[i].matches
        if row < 0:
            assert matches == []
        else:
            assert [m.to_json() for m in matches] == [
                lookup.match_row(row, "exact" if plan.exact[i] else "covering").to_json()
            ]
    kinds = {lookup.view.table.type[int(plan.rows[i])] for i in simple if plan.rows[i] >= 0}
    assert kinds == set(TYPE_CODE.values())  # IPv4, IPv6 and AS numbers all took the fast path
