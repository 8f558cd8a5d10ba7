"""Watchlists: what a user subscribes to, which events match, and the feeds of a watchlist.

A watchlist lists resources (addresses, prefixes, ASNs: an event matches when its resource
overlaps one), holders (opaque ids, old or new), countries, registries (the event's, or either
end of a move) and event kinds. Within one category any entry matches; across categories all
given categories must match ("moved" + "afrinic" means moves into or out of AFRINIC).

Feeds (Atom, NDJSON) are read from the stored events at request time, so a watchlist also sees
events stored before it was created. Webhook deliveries are queued in the ``outbox`` table in
the transaction that stores the events (:func:`queue_deliveries`) and posted later by
:mod:`rirport.services.monitoring.webhooks`, so a slow or absent receiver never holds up an ingest.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from feedgen.feed import FeedGenerator

from rirport import present
from rirport.domain.enums import Registry, ResourceType
from rirport.domain.events import KINDS, Event
from rirport.domain.query import parse_query
from rirport.domain.resources import ResourceRange
from rirport.errors import InputError, NotFoundError
from rirport.services.audit import journal
from rirport.store.keys import key_of
from rirport.store.repos.events import EventRow, WatchRow
from rirport.store.unit import Store, UnitOfWork

CATEGORIES = ("resources", "holders", "countries", "registries", "kinds")


@dataclass(frozen=True)
class Criteria:
    """A watchlist's subscriptions, validated and normalised."""

    resources: tuple[str, ...] = ()
    holders: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    registries: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: Mapping[str, Sequence[str]]) -> Criteria:
        """Check every entry.

        Raises:
            InputError: an unknown category, an empty watchlist, or an entry that is not a
                resource / country code / registry / event kind.
        """
        unknown = set(raw) - set(CATEGORIES)
        if unknown:
            raise InputError(f"unknown watch categories: {', '.join(sorted(unknown))}")
        if not any(raw.get(c) for c in CATEGORIES):
            raise InputError(
                "a watchlist needs at least one resource, holder, country, registry or kind"
            )
        return cls(
            resources=tuple(_resource(r) for r in raw.get("resources", ())),
            holders=tuple(h.strip() for h in raw.get("holders", ()) if h.strip()),
            countries=tuple(_country(c) for c in raw.get("countries", ())),
            registries=tuple(_registry(r) for r in raw.get("registries", ())),
            kinds=tuple(_kind(k) for k in raw.get("kinds", ())),
        )

    def to_json(self) -> dict[str, list[str]]:
        return {c: list(getattr(self, c)) for c in CATEGORIES if getattr(self, c)}

    def keys(self) -> list[tuple[str, str]]:
        out = []
        for text in self.resources:
            rng = parse_query(text).resource
            assert rng is not None  # checked in parse()
            out.append((key_of(rng.type, rng.first), key_of(rng.type, rng.last)))
        return out


class Matcher:
    """Matches events (as stored: kind, registries, range keys, JSON body) to one watchlist."""

    def __init__(self, criteria: Criteria) -> None:
        self.c = criteria
        self.ranges = criteria.keys()

    def matches(
        self,
        kind: str,
        registries: set[str | None],
        lo: str | None,
        hi: str | None,
        body: dict[str, Any],
    ) -> bool:
        c = self.c
        if c.kinds and kind not in c.kinds:
            return False
        if c.registries and not registries & set(c.registries):
            return False
        if c.countries and body.get("cc") not in c.countries:
            return False
        if c.holders and not {
            body.get("holder"),
            body.get("old_holder"),
            body.get("before"),
            body.get("after"),
        } & set(c.holders):
            return False
        if self.ranges:
            if lo is None or hi is None:
                return False
            return any(wlo[0] == lo[0] and wlo <= hi and whi >= lo for wlo, whi in self.ranges)
        return True

    def row(self, row: EventRow) -> bool:
        return self.matches(
            row.kind,
            {row.registry, row.from_registry, row.to_registry},
            row.lo,
            row.hi,
            json.loads(row.body),
        )


# -- managing watchlists ---------------------------------------------------------------------
def add_watch(
    store: Store,
    name: str,
    criteria: Criteria,
    url: str | None = None,
    secret: str | None = None,
    actor: str = "rirport",
) -> int:
    """Create a watchlist (one transaction, journalled).

    Raises:
        InputError: an empty name, a name in use, a URL that is not http(s), a webhook
            without a secret.
    """
    if not name.strip():
        raise InputError("a watchlist needs a name")
    if url is not None:
        if not url.startswith(("http://", "https://")):
            raise InputError(f"webhook URL must be http:// or https://, not {url!r}")
        if not secret:
            raise InputError("a webhook needs a secret to sign its payloads (--secret)")
    with store.transaction() as uow:
        if uow.watches.find(name) is not None:
            raise InputError(f"a watchlist named {name!r} already exists")
        watch_id = uow.watches.add(
            {
                "name": name,
                "criteria": criteria.to_json(),
                "url": url,
                "secret": secret,
                "created_at": dt.datetime.now(dt.UTC),
            }
        )
        journal.append(
            uow,
            actor,
            "watch-add",
            {"watch": watch_id, "name": name, "criteria": criteria.to_json(), "url": url},
        )
    return watch_id


def remove_watch(store: Store, name: str, actor: str = "rirport") -> int:
    """Mark a watchlist removed; its queued deliveries stay (they are still delivered).

    Raises:
        NotFoundError: no active watchlist has this name.
    """
    with store.transaction() as uow:
        row = uow.watches.find(name)
        if row is None:
            raise NotFoundError(f"no watchlist named {name!r}")
        uow.watches.remove(row.id, dt.datetime.now(dt.UTC))
        journal.append(uow, actor, "watch-remove", {"watch": row.id, "name": name})
    return row.id


def list_watches(store: Store) -> list[dict[str, Any]]:
    with store.read() as uow:
        return [
            {
                "id": w.id,
                "name": w.name,
                "criteria": w.criteria,
                "url": w.url,
                "created_at": w.created_at.isoformat(),
                "deliveries": uow.outbox.by_state(w.id),
            }
            for w in uow.watches.active()
        ]


def find_watch(uow: UnitOfWork, name: str) -> WatchRow:
    """Raises: NotFoundError: no active watchlist has this name."""
    row = uow.watches.find(name)
    if row is None:
        raise NotFoundError(f"no watchlist named {name!r}")
    return row


def queue_deliveries(uow: UnitOfWork, events: Sequence[tuple[int, Event]], now: dt.datetime) -> int:
    """Queue one webhook delivery per (watchlist with a URL, matching event); returns how
    many. Called in the transaction that stores the events."""
    watches = [w for w in uow.watches.active() if w.url]
    if not watches or not events:
        return 0
    prepared = [
        (
            event_id,
            e.kind,
            {e.registry, e.from_registry, e.to_registry},
            *event_keys(e),
            e.to_json(),
        )
        for event_id, e in events
    ]
    rows = []
    for watch in watches:
        matcher = Matcher(Criteria.parse(watch.criteria))
        rows += [
            {
                "watch_id": watch.id,
                "event_id": event_id,
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": now,
            }
            for event_id, kind, regs, lo, hi, body in prepared
            if matcher.matches(kind, regs, lo, hi, body)
        ]
    uow.outbox.enqueue(rows)
    return len(rows)


def event_keys(event: Event) -> tuple[str | None, str | None]:
    """Range keys of the event's resource (None for registry-wide events)."""
    if event.type is None or event.start is None:
        return None, None
    rng = ResourceRange.from_start_value(ResourceType(event.type), event.start, event.value)
    return key_of(rng.type, rng.first), key_of(rng.type, rng.last)


# -- feeds -----------------------------------------------------------------------------------
def matching_events(store: Store, name: str, limit: int = 100) -> tuple[WatchRow, list[EventRow]]:
    """The newest ``limit`` stored events matching a watchlist, oldest first."""
    with store.read() as uow:
        watch = find_watch(uow, name)
        matcher = Matcher(Criteria.parse(watch.criteria))
        found: list[EventRow] = []
        for chunk in uow.events.chunks():
            found += [row for row in chunk if matcher.row(row)]
            found = found[-limit:]
    return watch, found


def ndjson_lines(rows: Sequence[EventRow]) -> Iterator[str]:
    for row in rows:
        yield json.dumps({"id": row.id, **json.loads(row.body)}, sort_keys=True)


def atom_feed(watch: WatchRow, rows: Sequence[EventRow], base: str = "urn:rirport") -> str:
    """An Atom 1.0 feed (RFC 4287) of the events, newest first, written by feedgen."""
    feed = FeedGenerator()
    feed.id(f"{base}:watch:{watch.id}")
    feed.title(f"rirport watchlist {watch.name}")
    feed.updated(_utc(max((r.created_at for r in rows), default=watch.created_at)))
    feed.author({"name": "rirport"})
    feed.generator("rirport")
    for row in reversed(rows):
        body = json.loads(row.body)
        entry = feed.add_entry(order="append")
        entry.id(f"{base}:event:{row.id}")
        entry.title(summary(body))
        entry.updated(_utc(row.created_at))
        entry.content(json.dumps(body, sort_keys=True), type="text")
    text: str = feed.atom_str(pretty=True).decode()
    return text


def summary(body: dict[str, Any]) -> str:
    """One line for people: ``moved ipv4 8.128.0.0/10 arin -> apnic``."""
    where = (
        f"{body.get('from_registry')} -> {body.get('to_registry')}"
        if body["kind"] == "moved"
        else body["registry"]
    )
    what = (
        f"{body['type']} {present.resource(body['type'], body['start'], body['value'])}"
        if body.get("start")
        else f"{body['value']} ids"
    )
    return f"{body['kind']} {what} {where}"


def _utc(when: dt.datetime) -> dt.datetime:
    """Stored times as aware UTC (SQLite hands back naive ones; feedgen needs aware)."""
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)


def _resource(text: str) -> str:
    try:
        query = parse_query(text)
    except InputError as exc:
        raise InputError(f"watch resource {text!r}: {exc}") from None
    if query.resource is None:
        raise InputError(
            f"watch resource {text!r} is not an address, prefix or AS number "
            "(holders go under --holder)"
        )
    return text.strip()


def _country(text: str) -> str:
    code = text.strip().upper()
    if len(code) != 2 or not code.isalpha() or not code.isascii():
        raise InputError(f"country {text!r} is not a two-letter code")
    return code


def _registry(text: str) -> str:
    try:
        return Registry.parse(text).value
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _kind(text: str) -> str:
    if text not in KINDS:
        raise InputError(f"unknown event kind {text!r} (expected one of {', '.join(KINDS)})")
    return text
