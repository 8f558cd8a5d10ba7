"""Parsing command-line values shared by several commands."""

from __future__ import annotations

import datetime as dt

import click

from rirport.domain.query import parse_query
from rirport.domain.resources import ResourceRange
from rirport.errors import InputError


def parse_resource(text: str) -> ResourceRange:
    """An address, prefix, range or AS number (not a holder).

    Raises:
        InputError: anything else.
    """
    query = parse_query(text)
    if query.resource is None:
        raise InputError(f"{text!r} is not an address, prefix, range or AS number")
    return query.resource


def parse_day(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)") from None
