"""``rirport demo``: the main job on the bundled real data, offline."""

from __future__ import annotations

from collections import defaultdict

import click
from rich.console import Console
from rich.table import Table

from rirport.cli.context import AppContext, pass_app
from rirport.services.registry.ingest import IngestResult
from rirport.services.registry.mainjob import MainJobReport, run_main_job


@click.command("demo")
@pass_app
def command(app: AppContext) -> None:
    """Load the bundled 2018 files of the five RIRs into the store and summarise them.

    Files already stored are skipped, so this is quick the second time.
    """
    out = Console(width=None if Console().is_terminal else 150, emoji=False)
    out.print(f"store: {app.store.identity}")

    def on_file(outcome: IngestResult | Exception) -> None:
        text = outcome.message if isinstance(outcome, IngestResult) else f"error: {outcome}"
        app.console.print(text, highlight=False, markup=False, soft_wrap=True)

    with app.console.status("ingesting the bundled files..."):
        report = run_main_job(app.store, app.settings.cache_dir, on_file)
    _print_totals(out, report)
    _print_integrity(out, report)
    _print_examples(out, report)
    if report.failures:
        raise click.exceptions.Exit(1)


def _print_totals(out: Console, report: MainJobReport) -> None:
    assert report.view is not None
    table = Table(title="Current view: newest snapshot of each registry")
    for column in (
        "registry",
        "snapshot",
        "IPv4 records",
        "IPv4 addresses",
        "IPv6 records",
        "ASN records",
        "AS numbers",
    ):
        table.add_column(column, justify="right" if column != "registry" else "left")
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in report.stats:
        totals[row.registry][f"{row.type.value}_records"] += row.records
        totals[row.registry][f"{row.type.value}_amount"] += row.amount
    for snap in report.view.snapshots:
        t = totals[snap.registry]
        table.add_row(
            snap.registry,
            f"{snap.snapshot_date} ({snap.file_name})",
            f"{t['ipv4_records']:,}",
            f"{t['ipv4_amount']:,}",
            f"{t['ipv6_records']:,}",
            f"{t['asn_records']:,}",
            f"{t['asn_amount']:,}",
        )
    out.print(table)


def _print_integrity(out: Console, report: MainJobReport) -> None:
    assert report.integrity is not None
    table = Table(title="Integrity check across registries (rirport check for every finding)")
    for column in ("kind", "class", "severity", "type", "findings", "numbers covered"):
        table.add_column(
            column, justify="right" if column in ("findings", "numbers covered") else "left"
        )
    for row in report.integrity.counts():
        table.add_row(
            row.kind,
            row.cls,
            row.severity,
            row.type.value,
            f"{row.findings:,}",
            _amount(row.type.value, row.amount),
        )
    if not report.integrity.findings:
        table.add_row("none", "", "", "", "0", "")
    out.print(table)


def _amount(rtype: str, amount: int) -> str:
    if not amount:
        return ""
    if rtype == "ipv6":
        return f"{amount >> 80:,} /48s"
    return f"{amount:,} {'addresses' if rtype == 'ipv4' else 'ASNs'}"


def _print_examples(out: Console, report: MainJobReport) -> None:
    table = Table(title="Example lookups (most specific match first)")
    for column in ("query", "registry", "delegation", "cc", "status", "date", "relation", "source"):
        table.add_column(column)
    for query, matches in report.examples.items():
        if not matches:
            table.add_row(query, "-", "no match", "", "", "", "", "")
        for m in matches[:2]:
            d = m.delegation
            table.add_row(
                query,
                d.registry.value,
                str(d.resource),
                d.cc,
                d.status.value,
                d.date.isoformat() if d.date else "",
                m.relation,
                f"{m.file_name}:{m.line}",
            )
    out.print(table)
