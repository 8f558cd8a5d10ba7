"""The parsers every edge reads its input with: each raises the project's own errors."""

from __future__ import annotations

import datetime as dt

import pytest

from rirport.domain.enums import Registry
from rirport.domain.resources import ResourceRange
from rirport.errors import InputError, QueryError
from rirport.query.parse import (
    parse_as_of,
    parse_asn,
    parse_asn_range,
    parse_date,
    parse_day,
    parse_ip,
    parse_registry,
)


def test_dates_are_days_or_date_times() -> None:
    assert parse_date("2018-10-13") == dt.date(2018, 10, 13)
    assert parse_date("2018-10-13T23:59:59Z") == dt.date(2018, 10, 13)
    assert parse_as_of(None) is None and parse_as_of("2017-03-01") == dt.date(2017, 3, 1)
    assert parse_day(None) == dt.date.today()


@pytest.mark.parametrize("text", ["yesterday", "2018-13-01", "20181013", "2018-10-1", ""])
def test_a_bad_date_names_what_was_given(text: str) -> None:
    with pytest.raises(InputError, match=rf"^--as-of: {text!r} is not a date \(YYYY-MM-DD\)$"):
        parse_date(text, "--as-of")


def test_rdap_path_segments() -> None:
    assert parse_ip("193.0.0.0/21") == ResourceRange.from_network("193.0.0.0/21")
    assert parse_ip("2001:db8::1") == ResourceRange.from_address("2001:db8::1")
    assert parse_asn("AS3333") == parse_asn("3333") == ResourceRange.asn(3333)
    assert parse_asn_range("AS1-AS5") == ResourceRange.asn(1, 5)
    for bad in ("1.2.3", "10.0.0.1/24", "AS3333"):
        with pytest.raises(QueryError, match="is not an IP address or prefix"):
            parse_ip(bad)
    with pytest.raises(QueryError, match="out of range"):
        parse_asn("4294967296")
    with pytest.raises(QueryError, match="is not an AS number"):
        parse_asn("AS١٢٣")
    with pytest.raises(QueryError, match="ends before it starts"):
        parse_asn_range("AS5-AS1")


def test_registries_by_any_spelling() -> None:
    assert parse_registry("RIPE NCC") is Registry.RIPENCC
    with pytest.raises(InputError, match=r"^to: unknown registry 'ripenc' \(expected one of"):
        parse_registry("ripenc", "to")
