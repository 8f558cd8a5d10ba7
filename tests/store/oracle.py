"""The plain SQLAlchemy queries the store's hand-written SQL is checked against."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, or_

from rirport.store import schema


def in_force(current: Sequence[Any]) -> ColumnElement[bool]:
    """Delegation versions valid on the date of their registry's current snapshot."""
    d = schema.delegation.c
    return or_(
        *(
            and_(
                d.registry == s.registry,
                d.valid_from <= s.snapshot_date,
                d.valid_to >= s.snapshot_date,
            )
            for s in current
        )
    )
