"""``rirport evidence``: add, correct, list and show graded evidence items."""

from __future__ import annotations

import json
from pathlib import Path

import click

from rirport.cli.context import AppContext, pass_app
from rirport.cli.output import emit
from rirport.profiles.evidence import to_json
from rirport.services.profiles import evidence as service


@click.group("evidence")
def command() -> None:
    """Graded evidence behind the profiles (YAML or JSON files; see docs/profiles.md)."""


@command.command("add")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@pass_app
def add(app: AppContext, file: Path) -> None:
    """Store the new items of FILE (all or none; one journal entry)."""
    ids = service.add(app.store, file, app.actor)
    click.echo(f"{file}: added {len(ids)} item(s): {', '.join(ids)}")


@command.command("correct")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@pass_app
def correct(app: AppContext, file: Path) -> None:
    """Replace existing items by FILE's versions (the journal keeps the old ones)."""
    done = service.correct(app.store, file, app.actor)
    click.echo(f"{file}: corrected " + ", ".join(f"{i} (version {v})" for i, v in done))


@command.command("list")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "ndjson", "csv"]),
    default="table",
    show_default=True,
)
@pass_app
def list_(app: AppContext, fmt: str) -> None:
    """Every item: starter set, added and corrected."""
    rows = [
        {
            "id": s.item.id,
            "origin": s.origin,
            "version": s.version,
            "grade": f"{s.item.reliability}{s.item.credibility}",
            "kind": s.item.source.kind.value,
            "date": s.item.source.date.isoformat(),
            "entities": " ".join(s.item.entities),
        }
        for s in service.all_evidence(app.store)[0]
    ]
    emit(rows, fmt, ["id", "origin", "version", "grade", "kind", "date", "entities"])


@command.command("show")
@click.argument("evidence_id")
@pass_app
def show(app: AppContext, evidence_id: str) -> None:
    """One item as JSON (the fields of an evidence file), with its origin and version."""
    stored = service.show(app.store, evidence_id)
    click.echo(
        json.dumps(
            {**to_json(stored.item), "origin": stored.origin, "version": stored.version},
            indent=2,
            ensure_ascii=False,
        )
    )
