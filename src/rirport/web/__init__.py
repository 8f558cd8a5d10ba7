"""The pages edge: rirport as server-rendered HTML pages, over the same read side as the CLI
and the API (``rirport.query`` and ``rirport.services``), with no lookup, history or policy
logic of its own.

:func:`rirport.web.mount.install` adds the pages, the static assets and the HTML error pages
to the app :func:`rirport.http.app.create_app` builds. Every page is one handler in
``web/pages/`` rendering one template of ``web/templates/`` through a
:class:`~rirport.web.context.PageContext`, which also answers the page's data as JSON and CSV
(``?format=json``, ``?format=csv``). Nothing is imported here, so that importing a submodule
stays cheap.
"""
