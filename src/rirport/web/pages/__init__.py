"""The page handlers, one module per page family; :data:`ROUTERS` is what the app mounts
(add a new module's router here)."""

from __future__ import annotations

from fastapi import APIRouter

from rirport.web.pages import (
    country,
    events,
    holder,
    home,
    journal,
    portability,
    registry,
    resource,
    search,
)

ROUTERS: tuple[APIRouter, ...] = (
    home.router,
    search.router,
    resource.router,
    registry.router,
    country.router,
    holder.router,
    portability.router,
    events.router,
    journal.router,
)
