"""The HTTP server: RDAP under ``/rdap/`` and a JSON API under ``/api/``.

Both answer from the in-memory index of the current view (``services/lookup.py``), which
each process keeps fresh by following the store's write generation (:mod:`.live`), so any
number of stateless processes can serve one PostgreSQL store. ``rirport.http.app.create_app``
builds the application; nothing is imported here so that the CLI starts without FastAPI.
"""
