"""The home page: the search box and headline figures of the data."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from rirport.web.context import Page
from rirport.web.tables import table

router = APIRouter()


@router.get("/")
async def home(page: Page) -> Response:
    snapshots = [
        (s.registry, s.snapshot_date.isoformat(), s.file_name) for s in page.served.view.snapshots
    ]
    files = table(
        "files", "The statistics files answering", ("registry", "date", "file"), snapshots
    )
    return page.render(
        "home.html",
        title="rirport: who holds which Internet numbers, and where they could move",
        data={"files": [dict(zip(files.columns, r, strict=True)) for r in snapshots]},
        tables=[files],
    )
