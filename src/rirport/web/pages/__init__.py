"""The page handlers, one module per page family; :data:`ROUTERS` is what the app mounts
(add a new module's router here)."""

from __future__ import annotations

from fastapi import APIRouter

from rirport.web.pages import accounts, admin, home, profiles

ROUTERS: tuple[APIRouter, ...] = (
    home.router,
    profiles.router,
    accounts.router,
    admin.router,
)
