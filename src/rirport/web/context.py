"""What every page handler gets: the reader, the generation to answer from (current or
``?as-of=DATE``), the format asked for (HTML, or the page's data as JSON or CSV), and
:meth:`PageContext.render`, the one way a page answers.

A handler computes its facts through the read side, turns them into a JSON-able ``data``
dict and the :class:`~rirport.web.tables.Table` s it shows, and calls ``page.render``; the
same call answers ``?format=json`` (``data`` and the tables) and ``?format=csv`` (one table,
``&table=NAME``), so a page's data is always one click away and never computed twice.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

import orjson
from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from rirport.accounts.policy import Principal
from rirport.errors import InputError
from rirport.http.auth.principal import FormReader
from rirport.query.live import LiveIndex, Served
from rirport.query.parse import AS_OF, parse_past_as_of
from rirport.web.csrf import FormToken
from rirport.web.render import compressed
from rirport.web.tables import Table

T = TypeVar("T")
FORMATS = ("html", "json", "csv")


@dataclass
class PageContext:
    request: Request
    principal: Principal
    served: Served
    as_of: dt.date | None
    fmt: str
    token: FormToken = field(repr=False)

    # -- where the data comes from -------------------------------------------------------
    @property
    def live(self) -> LiveIndex:
        live: LiveIndex = self.request.app.state.live
        return live

    async def derived(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()`` once per generation (and as-of date) of the data, off the event
        loop (see :meth:`Served.derived_off_loop`)."""
        return await self.served.derived_off_loop(f"web:{key}", compute)

    @property
    def today(self) -> dt.date:
        return self.as_of or dt.date.today()

    @property
    def newest(self) -> dt.date | None:
        """The date of the newest file answering (what a permalink pins)."""
        dates = [s.snapshot_date for s in self.served.view.snapshots]
        return max(dates) if dates else None

    # -- links ---------------------------------------------------------------------------
    def url(self, path: str, **params: Any) -> str:
        """``path`` with this page's as-of date kept (and ``params``; None drops one)."""
        query = {AS_OF: self.as_of.isoformat()} if self.as_of else {}
        query.update({k.replace("_", "-"): v for k, v in params.items()})
        query = {k: str(v) for k, v in query.items() if v is not None}
        return f"{path}?{urlencode(query)}" if query else path

    def here(self, **params: Any) -> str:
        """This page's URL with its own query and ``params`` changed (None drops one)."""
        query = dict(self.request.query_params)
        query.update({k.replace("_", "-"): v for k, v in params.items()})
        query = {k: str(v) for k, v in query.items() if v is not None}
        path = self.request.url.path
        return f"{path}?{urlencode(query)}" if query else path

    @property
    def permalink(self) -> str:
        """This page pinned to the files it shows: the same answer tomorrow."""
        pinned = self.as_of or self.newest
        return self.here(**{AS_OF: pinned.isoformat() if pinned else None, "format": None})

    def data_url(self, fmt: str, table: str | None = None) -> str:
        return self.here(format=fmt, table=table)

    # -- answering -----------------------------------------------------------------------
    def render(
        self,
        template: str,
        *,
        title: str,
        data: Mapping[str, Any],
        tables: Sequence[Table] = (),
        status: int = 200,
        **extra: Any,
    ) -> Response:
        """The page as HTML, or its data as JSON or CSV (``?format=``)."""
        if self.fmt == "json":
            return self.json(data, tables, status)
        if self.fmt == "csv":
            return self.csv(tables, status)
        env = self.request.app.state.web.env
        body = env.get_template(template).render(
            page=self, title=title, data=data, tables={t.name: t for t in tables}, **extra
        )
        response = compressed(self.request, body.encode(), "text/html; charset=utf-8", status)
        self.token.apply(response)
        return response

    def json(self, data: Mapping[str, Any], tables: Sequence[Table], status: int = 200) -> Response:
        body = {
            "page": self.request.url.path,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "generation": self.served.generation,
            "data": data,
            "tables": {t.name: t.to_json() for t in tables},
        }
        try:
            text = orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS, default=str)
        except TypeError:  # integers past 64 bits (IPv6 address counts): the slow encoder
            slow = json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str)
            text = slow.encode()
        return compressed(self.request, text, "application/json", status)

    def csv(self, tables: Sequence[Table], status: int = 200) -> Response:
        if not tables:
            raise InputError("format: this page has no table to give as CSV; try format=json")
        wanted = self.request.query_params.get("table") or tables[0].name
        chosen = next((t for t in tables if t.name == wanted), None)
        if chosen is None:
            names = ", ".join(t.name for t in tables)
            raise InputError(f"table: {wanted[:40]!r} is not a table of this page ({names})")
        name = self.request.url.path.strip("/").replace("/", "-") or "home"
        return compressed(
            self.request,
            chosen.to_csv().encode(),
            "text/csv; charset=utf-8",
            status,
            {"Content-Disposition": f'inline; filename="{name}-{chosen.name}.csv"'},
        )


def requested_format(request: Request) -> str:
    """Raises: InputError for a format the pages do not make."""
    fmt = request.query_params.get("format", "html").lower()
    if fmt not in FORMATS:
        raise InputError(f"format: {fmt[:20]!r} is not one of html, json, csv")
    return fmt


async def page_context(request: Request, principal: FormReader) -> PageContext:
    """The context of one page request (a FastAPI dependency).

    Raises:
        InputError: a malformed or future ``as-of``, an unknown ``format``.
        NotFoundError: no file is dated on or before ``as-of``.
    """
    fmt = requested_format(request)
    day = parse_past_as_of(request.query_params.get(AS_OF), dt.date.today())
    live: LiveIndex = request.app.state.live
    served = live.served if day is None else await run_in_threadpool(live.as_of, day)
    return PageContext(request, principal, served, day, fmt, FormToken(request))


Page = Annotated[PageContext, Depends(page_context)]
"""Declare ``page: Page`` in a handler to get its :class:`PageContext`."""
