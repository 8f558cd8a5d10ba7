"""The search box: ``/search?q=`` goes to the page of what was typed, or says what was not
understood, what is accepted, and what the text might have meant; ``/search/suggest?q=``
gives the suggestions the box offers as one types (JSON)."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Query, Request
from starlette.responses import RedirectResponse, Response

from rirport.query.understand import Understood, suggest, understand
from rirport.web.context import Page
from rirport.web.links import understood_path
from rirport.web.render import compressed

router = APIRouter()


@router.get("/search")
async def search(page: Page, q: str = Query("", max_length=400)) -> Response:
    found = understand(q, page.served.lookup)
    if isinstance(found, Understood) and page.fmt == "html":
        return RedirectResponse(page.url(understood_path(found)), status_code=303)
    if isinstance(found, Understood):
        return page.render("search.html", title="Search", data=_json(found))
    return page.render(
        "search.html",
        title="That search was not understood",
        status=400,
        data={
            "q": found.text,
            "understood": False,
            "problem": found.problem,
            "accepted": found.accepted,
            "suggestions": [_json(s) for s in found.suggestions],
        },
        problem=found,
        links=[(page.url(understood_path(s)), s.label) for s in found.suggestions],
    )


@router.get("/search/suggest")
async def suggestions(request: Request, page: Page, q: str = Query("", max_length=400)) -> Response:
    items = [
        {
            "value": s.key if s.kind != "asn" else f"AS{s.key}",
            "label": s.label,
            "kind": s.kind,
            "href": understood_path(s),
        }
        for s in suggest(q, page.served.lookup)
    ]
    return compressed(request, orjson.dumps(items), "application/json")


def _json(found: Understood) -> dict[str, object]:
    return {
        "understood": True,
        "kind": found.kind,
        "key": found.key,
        "label": found.label,
        "href": understood_path(found),
    }
