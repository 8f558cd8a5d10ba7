"""The standard-library point lookup (:mod:`rirport.query.mapped`) answers as the numpy index
does, from the same caches only, and steps aside for everything else."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from rirport.cli.main import cli
from rirport.domain.enums import Registry
from rirport.domain.table import DelegationTable
from rirport.index.ranges import RangeIndex
from rirport.query.cache_layout import INDEX_ARRAYS, TABLE_COLUMNS
from rirport.query.lookup import Lookup
from rirport.query.mapped import open_current, point_matches, point_query
from rirport.query.view import cached_current, load_current
from rirport.services.registry.ingest import ingest_bytes
from rirport.store.unit import Store
from tests.excerpts import excerpt, real_file, thinned
from tests.http.conftest import MOVED, WANTED, move

REGISTRIES = ("afrinic", "apnic", "arin", "lacnic", "ripencc")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """Five real 2018 files thinned out (every 401st record, and those the transfer needs),
    one completed transfer (rows made by a transfer carry its serial), the cache written."""
    folder = tmp_path_factory.mktemp("mapped")
    opened = Store(f"sqlite:///{folder / 'rirport.sqlite'}")
    for registry in REGISTRIES:
        ingest_bytes(opened, thinned(registry, 401, WANTED[registry]), f"{registry}-2018-sample")
    move(opened, MOVED, Registry.ARIN)
    load_current(opened, folder / "cache")
    yield opened
    opened.close()


def _cache(store: Store) -> Path:
    return Path(store.url[len("sqlite:///") :]).parent / "cache"


def _text(rtype: str, number: int) -> str | None:
    """A query for one number, or None when it is outside its space."""
    if rtype == "asn":
        return f"AS{number}" if 0 <= number < 2**32 else None
    if rtype == "ipv4":
        return str(ipaddress.IPv4Address(number)) if 0 <= number < 2**32 else None
    return str(ipaddress.IPv6Address(number)) if 0 <= number < 2**128 else None


def _queries(table: DelegationTable) -> list[str]:
    """The first and last number of every row, the numbers just outside it and one inside,
    and the ends of every space."""
    queries = ["0.0.0.0", "255.255.255.255", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"]
    queries += ["AS0", "AS4294967295", "3333", "as3333", " 8.8.8.8 ", "2001:db8::1"]
    for i in range(len(table)):
        rtype = table.row(i).type.value
        first, last = table.first_int(i), table.last_int(i)
        for number in (first, last, first - 1, last + 1, (first + last) // 2):
            text = _text(rtype, number)
            if text is not None:
                queries.append(text)
    return queries


def test_it_answers_every_point_query_as_the_index_does(store: Store) -> None:
    view = load_current(store)  # read from the store, not the cache
    assert view.added_serials is not None  # the transfer's rows are there
    lookup = Lookup(view)
    mapped = open_current(store.url, _cache(store))
    assert mapped is not None
    queries = _queries(view.table)
    assert len(queries) > 5000
    misses = 0
    for n, query in enumerate(queries):
        expected = lookup.find(query)
        resource = point_query(query)
        assert resource is not None, query
        found = mapped.point(resource)
        if n % 100 == 0:  # the whole way too: the query read, the cache found and mapped
            assert point_matches(store.url, _cache(store), query) == found
        assert found is not None, query
        assert found == expected, query
        assert [m.to_json() for m in found] == [m.to_json() for m in expected], query
        misses += not expected
    assert 0 < misses < len(queries) / 2  # both hits and misses were asked
    moved = point_matches(store.url, _cache(store), "193.0.16.1")
    assert moved is not None and moved[0].transfer_serial > 0


@pytest.mark.parametrize(
    "query", ["193.0.0.0/21", "193.0.0.0-193.0.0.9", "AS1-AS5", "2001:db8::/32", "holder:x", "x"]
)
def test_anything_but_one_number_is_left_to_the_index(store: Store, query: str) -> None:
    assert point_matches(store.url, _cache(store), query) is None


def test_the_cache_layout_names_every_array_the_view_writes() -> None:
    assert tuple(f.name for f in dataclasses.fields(DelegationTable)) == TABLE_COLUMNS
    assert tuple(f.name for f in dataclasses.fields(RangeIndex)) == INDEX_ARRAYS


def _keep(*starts: str) -> object:
    def keep(index: int, fields: list[str]) -> bool:
        return index < 200 or fields[3] in starts

    return keep


@pytest.fixture
def own_store(tmp_path: Path) -> Iterator[Store]:
    """A store of the RIPE NCC sample alone, its cache written, for tests that spoil it."""
    opened = Store(f"sqlite:///{tmp_path / 'rirport.sqlite'}")
    keep = _keep("193.0.0.0", "2001:5::")
    ingest_bytes(opened, excerpt(real_file("ripencc"), keep), "ripencc-2018-excerpt")  # type: ignore[arg-type]
    load_current(opened, tmp_path / "cache")
    yield opened
    opened.close()


def _cli_lookup(store: Store, query: str) -> list[dict[str, object]]:
    folder = str(Path(store.url[len("sqlite:///") :]).parent)
    done = CliRunner().invoke(
        cli, ["--db", store.url, "--data-dir", folder, "lookup", query, "--format", "json"]
    )
    assert done.exit_code == 0, done.output
    answer: list[dict[str, object]] = json.loads(done.output)
    return answer


def test_a_stale_cache_is_not_read(own_store: Store, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert point_matches(own_store.url, cache, "8.8.8.8") == []
    raw = excerpt(real_file("arin"), _keep("8.0.0.0"))  # type: ignore[arg-type]
    ingest_bytes(own_store, raw, "arin-2018-excerpt")
    assert point_matches(own_store.url, cache, "8.8.8.8") is None  # the head moved
    truth = [m.to_json() for m in Lookup(load_current(own_store)).find("8.8.8.8")]
    assert truth and _cli_lookup(own_store, "8.8.8.8") == truth  # the index answered, cached
    found = point_matches(own_store.url, cache, "8.8.8.8")
    assert found is not None and [m.to_json() for m in found] == truth


@pytest.mark.parametrize(
    "damage", ["truncate", "meta", "missing", "shape", "header", "foreign", "unused-array"]
)
def test_a_damaged_cache_is_not_read_and_the_lookup_still_answers(
    own_store: Store, tmp_path: Path, damage: str
) -> None:
    query = "193.0.0.1"
    expected = [m.to_json() for m in Lookup(load_current(own_store)).find(query)]
    assert expected
    (folder,) = (tmp_path / "cache").iterdir()
    column = folder / "first_lo.npy"
    meta = json.loads((folder / "meta.json").read_text())
    if damage == "truncate":
        column.write_bytes(column.read_bytes()[:-8])
    elif damage == "meta":
        (folder / "meta.json").write_text("{not json")
    elif damage == "missing":
        (folder / "ipv4.bounds.npy").unlink()
    elif damage == "shape":
        meta["arrays"]["line"][1] += 1
    elif damage == "header":  # another dtype than meta.json says
        column.write_bytes(column.read_bytes().replace(b"'<u8'", b"'<i8'", 1))
    elif damage == "foreign":  # another store's cache that sat at this URL
        meta["head"]["journal_hash"] = "0" * 64
    else:  # an array this query does not read: numpy's reader refuses the cache too
        (folder / "asn.best.npy").write_bytes(b"")
    if damage in ("shape", "foreign"):
        (folder / "meta.json").write_text(json.dumps(meta))
    assert open_current(own_store.url, tmp_path / "cache") is None
    assert point_matches(own_store.url, tmp_path / "cache", query) is None
    assert _cli_lookup(own_store, query) == expected  # the numpy path, which rebuilt it
    assert cached_current(own_store.url, tmp_path / "cache") is not None
    assert point_matches(own_store.url, tmp_path / "cache", query) is not None
