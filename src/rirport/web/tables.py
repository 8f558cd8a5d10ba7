"""A table of a page: what a chart draws and what the page shows beside it, and what
``?format=csv`` downloads. Presentation only: the rows come from the read side."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Table:
    """Named columns and rows of plain values (str, int, float, None)."""

    name: str
    caption: str
    columns: tuple[str, ...]
    rows: Sequence[Sequence[Any]]
    numeric: frozenset[str] = field(default_factory=frozenset)
    """Columns holding numbers (right-aligned, drawn by charts)."""
    links: Mapping[str, Callable[[Any], str | None]] = field(default_factory=dict)
    """Column → the page a cell's value links to (None: no link)."""

    def href(self, column: str, value: Any) -> str | None:
        make = self.links.get(column)
        return None if make is None or value is None or value == "" else make(value)

    def to_json(self) -> dict[str, Any]:
        return {
            "caption": self.caption,
            "columns": list(self.columns),
            "rows": [list(r) for r in self.rows],
        }

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(self.columns)
        writer.writerows(["" if v is None else v for v in row] for row in self.rows)
        return out.getvalue()


def table(
    name: str,
    caption: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    numeric: Sequence[str] = (),
    links: Mapping[str, Callable[[Any], str | None]] | None = None,
) -> Table:
    return Table(name, caption, tuple(columns), rows, frozenset(numeric), dict(links or {}))
