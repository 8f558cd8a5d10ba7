"""The baseline of bench/http_load.py: a trivial Starlette app, one JSON route, on the same
uvicorn (same protocol class, limits and logging as ``rirport serve``).

    python -m bench.trivial_app PORT
"""

from __future__ import annotations

import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from rirport.http.guard import uvicorn_limits


async def answer(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "path": request.url.path})


app = Starlette(routes=[Route("/{rest:path}", answer)])

if __name__ == "__main__":
    port = int(sys.argv[1])
    uvicorn.run(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, **uvicorn_limits()
    )
