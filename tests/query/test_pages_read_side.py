"""The read-side modules the pages stand on: search reading, countries, stored events,
registry figures, transfer flows, and the future as-of refusal."""

from __future__ import annotations

import datetime as dt

import pytest

from rirport.domain.enums import Registry, ResourceType
from rirport.domain.resources import ResourceRange
from rirport.errors import InputError
from rirport.query import countries
from rirport.query.events import filter_events, net_flows, stored_events
from rirport.query.lookup import Lookup
from rirport.query.parse import parse_past_as_of
from rirport.query.registries import registry_stats, snapshot_counts, top_holders
from rirport.query.transfers import all_transfers, monthly_flows
from rirport.query.understand import NotUnderstood, Understood, suggest, understand
from rirport.query.view import load_current
from rirport.store.unit import Store
from tests.http.conftest import fill


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> Store:
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('pages') / 's.sqlite'}")
    fill(store)
    return store


@pytest.fixture(scope="module")
def lookup(filled) -> Lookup:
    return Lookup(load_current(filled))


@pytest.mark.parametrize(
    ("text", "kind", "key"),
    [
        ("193.0.6.139", "resource", "193.0.6.139"),
        ("193.0.0.0/20", "resource", "193.0.0.0/20"),
        ("AS3333", "asn", "3333"),
        ("3333", "asn", "3333"),
        ("za", "country", "ZA"),
        ("South Africa", "country", "ZA"),
        ("RIPE NCC", "registry", "ripencc"),
        (
            "ripencc:2971c08b-2b8e-49f9-a938-fe3a9f8348be",
            "holder",
            "ripencc:2971c08b-2b8e-49f9-a938-fe3a9f8348be",
        ),
    ],
)
def test_understand_names_one_thing(lookup, text: str, kind: str, key: str) -> None:
    found = understand(text, lookup)
    assert isinstance(found, Understood)
    assert (found.kind, found.key) == (kind, key)


@pytest.mark.parametrize("text", ["", "Narnia", "10.0.0.1/8", "AS99999999999", "holder:nobody"])
def test_what_is_not_understood_says_why_and_offers_something(lookup, text: str) -> None:
    found = understand(text, lookup)
    assert isinstance(found, NotUnderstood)
    assert found.problem and "AS number" in found.accepted
    assert found.suggestions


def test_suggestions_start_with_what_the_text_is(lookup) -> None:
    assert suggest("ripe", lookup)[0].key == "ripencc"
    assert [s.key for s in suggest("south af", lookup)] == ["ZA"]
    assert suggest("193.0.6.139", lookup)[0].kind == "resource"
    assert suggest("", lookup) == []


def test_countries_names_codes_and_space(filled) -> None:
    assert countries.country_name("ZA") == "South Africa"
    assert countries.country_name("EU").startswith("European Union")
    assert countries.numeric("ZA") == "710" and countries.numeric("EU") is None
    assert countries.find_country("south africa") == "ZA"
    assert countries.find_country("Wakanda") is None
    rows = countries.space_by_country(load_current(filled).table)
    za = [r for r in rows if r.cc == "ZA" and r.type is ResourceType.IPV4]
    assert [(r.registry, r.amount) for r in za] == [("afrinic", 512)]  # 196.216.2.0/23


def test_v6_amounts_are_48s() -> None:
    from rirport.domain.table import DelegationTable
    from rirport.formats.records import parse_record

    table = DelegationTable.from_delegations(
        [
            parse_record("ripencc|NL|ipv6|2001:db8::|32|20000101|allocated|x", "ripencc"),
            parse_record("ripencc|NL|ipv6|2001:db9::|56|20000101|assigned|x", "ripencc"),
        ]
    )
    assert countries.amounts(table).tolist() == [2**16, 0]


def test_registry_figures(filled) -> None:
    table = load_current(filled).table
    stats = registry_stats(table, Registry.ARIN)
    assert {s.registry for s in stats} == {"arin"}
    counts = snapshot_counts(filled, Registry.RIPENCC)
    assert [c.date.year for c in counts][:3] == [2017] * 3 and counts[-1].date.year == 2018
    top = top_holders(table, Registry.RIPENCC, ResourceType.IPV4, 3)
    assert top and top[0].amount >= top[-1].amount


def test_events_filters_and_flows(filled) -> None:
    events = stored_events(filled)
    assert events and all(e.seen is not None for e in events)
    ripe = filter_events(events, registry="ripencc")
    assert ripe and all("ripencc" in (e.registry, e.from_registry, e.to_registry) for e in ripe)
    inside = filter_events(events, resource=ResourceRange.from_network("101.56.0.0/13"))
    assert [e.kind for e in inside] == ["new"]
    assert net_flows(events) == []  # no move between the excerpts' files


def test_transfers_and_monthly_flows(filled) -> None:
    rows = all_transfers(filled)
    assert [r.state for r in rows] == ["completed"]
    assert monthly_flows(rows) == [("2026-11", "ripencc", "arin", 1)]


def test_a_future_as_of_is_refused() -> None:
    today = dt.date(2026, 1, 1)
    assert parse_past_as_of(None, today) is None
    assert parse_past_as_of("2025-12-31", today) == dt.date(2025, 12, 31)
    with pytest.raises(InputError, match="future"):
        parse_past_as_of("2026-01-02", today)
