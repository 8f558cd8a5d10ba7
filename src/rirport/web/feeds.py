"""Atom feeds of the events and transfers pages (the lists as they are filtered), written with
``feedgen`` and served with the page headers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from feedgen.feed import FeedGenerator
from starlette.requests import Request
from starlette.responses import Response

from rirport.web.render import compressed


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    summary: str
    link: str
    updated: dt.datetime


def atom(request: Request, title: str, page_path: str, entries: Sequence[Entry]) -> Response:
    base = str(request.base_url).rstrip("/")
    feed = FeedGenerator()
    feed.id(base + str(request.url.path))
    feed.title(title)
    feed.link(href=base + page_path, rel="alternate")
    feed.link(href=str(request.url), rel="self")
    newest = max((e.updated for e in entries), default=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    feed.updated(newest)
    for e in reversed(entries):  # feedgen prepends: newest ends up first
        item = feed.add_entry()
        item.id(e.id)
        item.title(e.title)
        item.summary(e.summary)
        item.link(href=base + e.link)
        item.updated(e.updated)
    return compressed(request, feed.atom_str(pretty=True), "application/atom+xml; charset=utf-8")


def utc(when: dt.datetime | dt.date) -> dt.datetime:
    if not isinstance(when, dt.datetime):
        return dt.datetime(when.year, when.month, when.day, tzinfo=dt.UTC)
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
