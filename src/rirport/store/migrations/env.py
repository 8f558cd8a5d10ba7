"""Alembic environment: migrations run on the connection rirport hands over."""

from __future__ import annotations

from alembic import context

from rirport.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - rirport always passes a connection
    raise RuntimeError("rirport migrations run through rirport.store.engine.migrate()")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
