"""Option values read through the read side's parsers (:mod:`rirport.query.parse`), their
errors turned into Click usage errors (exit status 2, naming the option)."""

from __future__ import annotations

import datetime as dt

import click

from rirport.errors import InputError
from rirport.query.parse import parse_date


def option_day(text: str | None, option: str) -> dt.date:
    """The date given to ``option``, or today when none was."""
    return dt.date.today() if text is None else option_date(text, option)


def option_date(text: str, option: str) -> dt.date:
    try:
        return parse_date(text, option)
    except InputError as exc:
        raise click.BadParameter(str(exc)) from None
