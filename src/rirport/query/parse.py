"""One parser per kind of input the edges take, each raising the project's own errors.

The CLI, the JSON API, RDAP and the pages read their text through these and nothing else, so a
spelling accepted (or refused, with the same message) at one edge is so at every edge. Queries
are :func:`~rirport.domain.query.parse_query`'s (the index's own vocabulary); the RDAP path
segments ``ip/…`` and ``autnum/…`` are narrower forms of it.
"""

from __future__ import annotations

import datetime as dt

from rirport.domain.enums import Registry
from rirport.domain.query import ACCEPTED, Query, parse_query, parse_resource
from rirport.domain.resources import ResourceRange
from rirport.errors import InputError, QueryError

MAX_ASN = 2**32 - 1
AS_OF = "as-of"


def parse_ip(text: str) -> ResourceRange:
    """An address or a prefix (the ``ip/`` path of RDAP).

    Raises:
        QueryError: it is neither.
    """
    try:
        if "/" in text:
            return ResourceRange.from_network(text)
        return ResourceRange.from_address(text)
    except ValueError as exc:
        raise QueryError(f"{text[:100]!r} is not an IP address or prefix ({exc})"[:300]) from None


def parse_asn(text: str) -> ResourceRange:
    """One AS number, ``3333`` or ``AS3333`` (the ``autnum/`` path of RDAP).

    Raises:
        QueryError: not an AS number, or past the last one.
    """
    digits = text[2:] if text[:2].lower() == "as" else text
    if not digits.isascii() or not digits.isdigit() or len(digits) > 12:
        raise QueryError(f"{text[:100]!r} is not an AS number")
    number = int(digits)
    if number > MAX_ASN:
        raise QueryError(f"AS{number} is out of range (AS numbers end at {MAX_ASN})")
    return ResourceRange.asn(number)


def parse_asn_range(text: str) -> ResourceRange:
    """``AS3333`` or ``AS3333-AS3340`` (an autnum handle).

    Raises:
        QueryError: not one, or a range ending before it starts.
    """
    first, _, last = text.partition("-")
    a = parse_asn(first)
    b = parse_asn(last) if last else a
    if b.first < a.first:
        raise QueryError("AS range ends before it starts")
    return ResourceRange.asn(a.first, b.first)


def parse_date(text: str, name: str = "date") -> dt.date:
    """A day, ``YYYY-MM-DD`` (an RFC 3339 date-time stands for its day).

    Raises:
        InputError: anything else, naming ``name`` (the option or parameter).
    """
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        if 10 < len(text) <= 40 and text[10] in "Tt ":
            return dt.datetime.fromisoformat(text).date()
    except ValueError:
        pass
    raise InputError(f"{name}: {text[:40]!r} is not a date (YYYY-MM-DD)")


def parse_day(text: str | None, name: str = "date") -> dt.date:
    """:func:`parse_date`, today when no date is given."""
    return dt.date.today() if text is None else parse_date(text, name)


def parse_as_of(text: str | None) -> dt.date | None:
    """The ``as-of`` date of a request; None asks for the current view.

    Raises:
        InputError: not a date.
    """
    return None if text is None else parse_date(text, AS_OF)


def parse_past_as_of(text: str | None, today: dt.date) -> dt.date | None:
    """:func:`parse_as_of`, refusing a day after ``today``: no statistics file is dated in the
    future, so such a date is a mistake to say, not the current view to show.

    Raises:
        InputError: not a date, or after ``today``.
    """
    day = parse_as_of(text)
    if day is not None and day > today:
        raise InputError(
            f"{AS_OF}: {day.isoformat()} is in the future (today is {today.isoformat()}); "
            "give a past date, or none for the newest files"
        )
    return day


def parse_registry(text: str, name: str = "registry") -> Registry:
    """A registry by any of its spellings (``ripencc``, ``RIPE NCC``, ``ripe`` …).

    Raises:
        InputError: it names none, listing the five.
    """
    try:
        return Registry.parse(text)
    except ValueError as exc:
        raise InputError(f"{name}: {exc}") from None


__all__ = [
    "ACCEPTED",
    "AS_OF",
    "MAX_ASN",
    "Query",
    "parse_as_of",
    "parse_asn",
    "parse_asn_range",
    "parse_date",
    "parse_day",
    "parse_ip",
    "parse_past_as_of",
    "parse_query",
    "parse_registry",
    "parse_resource",
]
