"""Writing results as a table, JSON, NDJSON or CSV."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import click

from rirport.cli import plain_table

FORMATS = ["table", "json", "ndjson", "csv"]


def emit(
    rows: Sequence[dict[str, Any]], fmt: str, columns: Sequence[str], title: str | None = None
) -> None:
    """Print ``rows`` (dicts) in the chosen format; ``columns`` picks and orders table/CSV
    columns (JSON keeps every key)."""
    if fmt == "json":
        click.echo(json.dumps(list(rows), indent=2, ensure_ascii=False))
    elif fmt == "ndjson":
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
    elif fmt == "csv":
        click.echo(to_csv(rows, columns), nl=False)
    else:
        print_table(rows, columns, title)


def to_csv(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else _flat(row.get(c)) for c in columns])
    return buffer.getvalue()


def print_table(
    rows: Sequence[dict[str, Any]], columns: Sequence[str], title: str | None = None
) -> None:
    """A Rich table of ``rows``; off a terminal drawn by :mod:`rirport.cli.plain_table`
    when it can (the same text, without importing Rich)."""
    cells = [
        ["" if row.get(c) is None else str(_flat(row.get(c))) for c in columns] for row in rows
    ]
    if plain_table.usable(sys.stdout):
        text = plain_table.render(cells, columns, title)
        if text is not None:
            sys.stdout.write(text)
            sys.stdout.flush()
            return
    from rich.console import Console  # only tables need Rich (a tenth of a second to import)
    from rich.markup import escape
    from rich.table import Table

    # a title quotes what the user gave (a query, a policy file's label): text, never markup
    table = Table(title=None if title is None else escape(title), show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in cells:
        # data is text, never Rich markup (a holder name like "[red]" prints as it is)
        table.add_row(*[escape(cell) for cell in row])
    console = Console(emoji=False)
    if not console.is_terminal:
        console = Console(width=plain_table.WIDTH, emoji=False)
    console.print(table)


def _flat(value: Any) -> Any:
    if isinstance(value, dict):
        return " ".join(f"{k}={v}" for k, v in value.items())
    return value
