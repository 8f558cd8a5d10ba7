"""``rirport check``: the five registries against each other and against IANA."""

from __future__ import annotations

import json
from typing import Any

import click

from rirport.cli.context import AppContext, pass_app
from rirport.cli.output import FORMATS, emit
from rirport.query.integrity import KINDS, Finding, IntegrityReport, check
from rirport.services.registry.iana import IanaBlocks, load_iana

SUMMARY_COLUMNS = ["kind", "class", "severity", "type", "findings", "amount"]
FINDING_COLUMNS = [
    "severity",
    "kind",
    "class",
    "registry",
    "other_registry",
    "type",
    "resource",
    "detail",
    "where",
    "other_where",
]
TABLE_LIMIT = 100
"""Findings a table lists by default: drawing tens of thousands of rows takes a minute."""
TABLE_COLUMNS = ["severity", "kind", "class", "registry", "other", "resource", "detail", "where"]


@click.command("check")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(KINDS),
    help="Only findings of this kind (repeatable).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=None,
    help=f"List at most this many findings; 0 lists all (default: {TABLE_LIMIT} in a "
    "table, all in the other formats). The summary counts them all.",
)
@pass_app
def command(app: AppContext, fmt: str, kinds: tuple[str, ...], limit: int | None) -> None:
    """Cross-registry integrity check of the current view.

    Finds ranges two registries list at once (overlap), records outside the blocks IANA gave
    their registry, classified as transfer, erx, legacy, reserved or unlisted (outside-iana),
    ranges a registry lists twice (duplicate), and snapshots whose stored records differ from
    their summary lines (summary-mismatch). IANA data is the stored copy of each registry
    where one was ingested, else the copy bundled with rirport.
    """
    view = app.current_view()
    iana = load_iana(app.store)
    report = check(view, iana)
    if kinds:
        report = report.of_kind(kinds)
    if limit is None:
        limit = TABLE_LIMIT if fmt == "table" else 0
    shown = report.findings[:limit] if limit else report.findings
    if fmt == "json":
        click.echo(
            json.dumps(_document(report, iana, shown, view.snapshots), indent=2, ensure_ascii=False)
        )
    elif fmt == "ndjson":
        emit([f.to_json() for f in shown], fmt, FINDING_COLUMNS)
    elif fmt == "csv":
        emit([_flat(f) for f in shown], fmt, FINDING_COLUMNS)
    else:
        _tables(report, iana, shown, view.snapshots)


def _document(
    report: IntegrityReport, iana: IanaBlocks, shown: tuple[Finding, ...], snapshots: list[Any]
) -> dict[str, Any]:
    return {
        "snapshots": [
            {"registry": s.registry, "date": s.snapshot_date.isoformat(), "file": s.file_name}
            for s in snapshots
        ],
        "iana": [o.to_json() for o in iana.origins.values()],
        "checked_against": report.iana_sources,
        "counts": [c.to_json() for c in report.counts()],
        "findings": [f.to_json() for f in shown],
    }


def _tables(
    report: IntegrityReport, iana: IanaBlocks, shown: tuple[Finding, ...], snapshots: list[Any]
) -> None:
    views = ", ".join(f"{s.registry} {s.snapshot_date}" for s in snapshots) or "empty store"
    sources = ", ".join(f"{o.source} ({o.origin} {o.file_name})" for o in iana.origins.values())
    emit(
        [c.to_json() for c in report.counts()],
        "table",
        SUMMARY_COLUMNS,
        title=f"integrity of {views}; IANA: {sources}",
    )
    if shown:
        more = len(report.findings) - len(shown)
        title = (
            f"findings ({len(shown)} shown, {more} more: --limit 0 lists all)"
            if more
            else "findings"
        )
        rows = [
            {
                **row,
                "other": row["other_registry"],
                "where": " / ".join(filter(None, (row["where"], row["other_where"]))),
            }
            for row in map(_flat, shown)
        ]
        emit(rows, "table", TABLE_COLUMNS, title=title)
    else:
        click.echo("no findings" if not report.findings else "")


def _flat(finding: Finding) -> dict[str, Any]:
    """One row per finding for tables and CSV: records as ``file:line``."""
    body = finding.to_json()
    record, other = body.get("record"), body.get("other")
    body["where"] = f"{record['file']}:{record['line']}" if record else body.get("file")
    body["other_where"] = f"{other['file']}:{other['line']}" if other else None
    return body
