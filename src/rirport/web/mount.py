"""Adding the pages to the app: the page routers, ``/static/``, the HTML error pages.

Pages are registered in :data:`rirport.web.pages.ROUTERS` (one router per module of
``web/pages/``); they are not part of the OpenAPI description (they answer HTML).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI, Request
from jinja2 import Environment
from starlette.responses import Response

from rirport.errors import NotFoundError
from rirport.web import errors
from rirport.web.assets import Assets
from rirport.web.cache import CacheStats, PageCache
from rirport.web.pages import ROUTERS
from rirport.web.render import environment
from rirport.web.warm import Warmer


@dataclass(frozen=True)
class WebState:
    assets: Assets
    env: Environment


def install(app: FastAPI) -> None:
    assets = Assets()
    reader = app.state.log_reader
    app.state.web = WebState(assets, environment(assets, reader.mirror_banners))

    @app.get("/static/{name:path}", include_in_schema=False)
    async def static(request: Request, name: str) -> Response:
        answer = assets.response(request, name)
        if answer is None:
            raise NotFoundError(f"no asset {name[:80]!r}")
        return answer

    for router in ROUTERS:
        app.include_router(router, include_in_schema=False)
    errors.install(app)
    live = app.state.live
    env = app.state.web.env
    templates = env.list_templates(filter_func=lambda n: n.endswith(".html"))
    # started by the app's lifespan when configured to (rirport.web.warm)
    app.state.warmer = Warmer(live, once=[lambda: [env.get_template(n) for n in templates]])
    app.state.page_cache = CacheStats()
    app.add_middleware(
        PageCache,
        # a mirror's banner moves with each verified checkpoint, not only with the data
        generation=lambda: (live.served.generation, reader.mirror_banners()),
        stats=app.state.page_cache,
    )
