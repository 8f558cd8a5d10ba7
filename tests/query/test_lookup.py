"""Lookups: the in-memory index must give exactly the store's SQL answers, on both engines."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rirport.domain.enums import ResourceType
from rirport.domain.query import Query
from rirport.domain.resources import ResourceRange
from rirport.domain.table import TYPE_CODE
from rirport.errors import QueryError
from rirport.query.lookup import Lookup, sql_find
from rirport.query.view import load_current
from rirport.services.registry.ingest import ingest_path
from rirport.store.unit import Store
from tests.conftest import _postgres_database
from tests.paths import real_files

pytestmark = pytest.mark.slow


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def loaded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Store, Lookup]]:
    """The five real 2018 files in a store, and a Lookup over its current view."""
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{tmp_path_factory.mktemp('lk')}/s.sqlite"])
    else:
        urls = _postgres_database()
    url = next(urls)
    store = Store(url)
    for path in real_files("2018"):
        ingest_path(store, path)
    yield store, Lookup(load_current(store))
    store.close()
    for _ in urls:  # finish the generator: drops the PostgreSQL database
        pass


def _row_numbers(lookup: Lookup, rtype: ResourceType) -> np.ndarray:
    return np.flatnonzero(lookup.view.table.type == TYPE_CODE[rtype])


@st.composite
def queries(draw: st.DrawFn, lookup: Lookup) -> Query:
    """Queries near real delegation edges (where off-by-one bugs live) and at random."""
    table = lookup.view.table
    rtype = draw(st.sampled_from(list(ResourceType)))
    rows = _row_numbers(lookup, rtype)
    row = int(rows[draw(st.integers(0, len(rows) - 1))])
    top = (1 << (128 if rtype is ResourceType.IPV6 else 32)) - 1
    edge = draw(st.sampled_from([table.first_int(row), table.last_int(row)]))
    point = min(max(edge + draw(st.integers(-2, 2)), 0), top)
    kind = draw(st.sampled_from(["point", "prefix", "range", "holder", "random"]))
    if kind == "holder" and table.has_opaque[row]:
        return Query("h", holder=table.opaque_id[row].decode())
    if kind == "random":
        point = draw(st.integers(0, top))
    if kind == "prefix" and rtype is not ResourceType.ASN:
        bits = 128 if rtype is ResourceType.IPV6 else 32
        length = draw(st.integers(bits - 24 if bits == 32 else 16, bits))
        size = 1 << (bits - length)
        return Query(
            "p", ResourceRange(rtype, point - point % size, point - point % size + size - 1)
        )
    if kind == "range":
        span = draw(st.integers(0, 1 << 20))
        return Query("r", ResourceRange(rtype, point, min(point + span, top)))
    return Query("a", ResourceRange(rtype, point, point))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_index_answers_equal_sql_answers(loaded: tuple[Store, Lookup], data: st.DataObject) -> None:
    store, lookup = loaded
    query = data.draw(queries(lookup))
    assert lookup.find(query) == sql_find(store, query)


def _file_records(registry: str) -> list[list[str]]:
    (path,) = [p for p in real_files("2018") if f"/{registry}/" in str(p)]
    return [
        line.split("|")
        for line in path.read_text().splitlines()
        if not line.startswith("#")
        and line.count("|") >= 6
        and line.split("|")[1] != "*"
        and not line.split("|")[0][0].isdigit()
    ]


def test_an_address_finds_the_record_that_contains_it(loaded: tuple[Store, Lookup]) -> None:
    _, lookup = loaded
    address = int(ipaddress.IPv4Address("193.0.6.139"))
    expected = [
        r
        for r in _file_records("ripencc")
        if r[2] == "ipv4"
        and int(ipaddress.IPv4Address(r[3]))
        <= address
        < int(ipaddress.IPv4Address(r[3])) + int(r[4])
    ]
    matches = lookup.find("193.0.6.139")
    assert [(m.delegation.start, m.delegation.value) for m in matches] == [
        (r[3], int(r[4])) for r in expected
    ]
    assert matches[0].relation == "covering"
    assert matches[0].file_name == "delegated-ripencc-extended-20181013"


def test_a_holder_lookup_returns_every_resource_of_the_opaque_id(
    loaded: tuple[Store, Lookup],
) -> None:
    _, lookup = loaded
    records = _file_records("apnic")
    holder = records[0][7]
    expected = sorted((r[2], r[3]) for r in records if len(r) == 8 and r[7] == holder)
    found = lookup.find(f"apnic:{holder}")
    assert sorted((m.delegation.type.value, m.delegation.start) for m in found) == expected
    assert all(m.relation == "holder" for m in found)


def test_a_prefix_query_returns_exact_covering_and_covered(loaded: tuple[Store, Lookup]) -> None:
    _, lookup = loaded
    relations = {m.relation for m in lookup.find("41.0.0.0/8")}
    assert "covered" in relations
    first = lookup.find("1.1.1.0/24")
    assert first[0].relation == "exact" and first[0].delegation.registry.value == "apnic"


def test_bulk_answers_keep_input_order_and_report_bad_queries(loaded: tuple[Store, Lookup]) -> None:
    _, lookup = loaded
    texts = ["8.8.8.8", "AS3333", "not a/prefix", "2001:4860::/32", "1.1.1.1", "8.8.8.8"]
    answers = lookup.bulk(texts)
    assert [a.query for a in answers] == texts
    assert answers[2].error and not answers[2].matches
    for answer in answers:
        if not answer.error:
            assert answer.matches == lookup.find(answer.query)


def test_bulk_ipv4_from_integers_matches_single_lookups(loaded: tuple[Store, Lookup]) -> None:
    _, lookup = loaded
    rng = np.random.default_rng(7)
    numbers = rng.integers(0, 2**32, 2000, dtype=np.uint64)
    best = lookup.index.best_ipv4(numbers)
    for number, row in zip(numbers.tolist(), best.tolist(), strict=True):
        matches = lookup.find(str(ipaddress.IPv4Address(number)))
        if row < 0:
            assert matches == []
        else:
            assert lookup.view.table.row(row) == matches[0].delegation


def test_malformed_queries_are_errors_not_holder_ids(loaded: tuple[Store, Lookup]) -> None:
    _, lookup = loaded
    for text in ["10.0.0.1/24", "AS99999999999", "1.2.3.4-1.2.3.1", "2001:db8::/129"]:
        with pytest.raises(QueryError):
            lookup.find(text)


def test_lookup_of_space_no_registry_holds_is_empty(loaded: tuple[Store, Lookup]) -> None:
    _, lookup = loaded
    assert lookup.find("10.1.2.3") == []
