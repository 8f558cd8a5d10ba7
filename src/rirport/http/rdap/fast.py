"""The two hot lookups, ``GET /rdap/ip/...`` and ``GET /rdap/autnum/...``, dispatched before
FastAPI's router.

Measured on the five 2018 files, FastAPI's routing and dependency resolution cost about twice
the lookup itself (an index search and a dict); calling the same handler functions directly
keeps the answers identical (a test compares both paths) and the load benchmark's ratio in
reach. Anything else — a query string (``as-of``), HEAD, another path — goes the normal way.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from rirport.http.errors import error_response_for
from rirport.http.rdap.routes import autnum, ip

IP = "/rdap/ip/"
AUTNUM = "/rdap/autnum/"


async def try_fast(scope: Scope, receive: Receive, send: Send) -> bool:
    """Answer a plain ip/ or autnum/ lookup; False when the request is not one."""
    path: str = scope["path"]
    if scope["method"] != "GET" or scope.get("query_string") or not path.startswith((IP, AUTNUM)):
        return False
    request = Request(scope, receive)
    try:
        if path.startswith(IP):
            response = await ip(request, path[len(IP) :])
        elif "/" in path[len(AUTNUM) :]:
            return False  # not an autnum path: the router's 404
        else:
            response = await autnum(request, path[len(AUTNUM) :])
    except Exception as exc:  # mapped as the app maps it: the handlers never see this path
        response = error_response_for(exc, True, path)
    await response(scope, receive, send)
    return True
