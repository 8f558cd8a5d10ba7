"""``rirport portability``: who could leave each registry for each other one, per regime."""

from __future__ import annotations

import click

from rirport.cli.context import AppContext, pass_app
from rirport.cli.output import FORMATS, emit
from rirport.cli.policy import parse_day
from rirport.domain.enums import Registry
from rirport.policy.loader import builtin_names, load_regime
from rirport.services.registry.iana import load_iana
from rirport.services.transfers.portability import PortabilityReport, run_portability

MATRIX_COLUMNS = [
    "regime",
    "from_registry",
    "to_registry",
    "type",
    "outcome",
    "amount",
    "holders",
    "records",
    "rpki_rejected",
    "confidence",
]
SCENARIO_COLUMNS = [
    "regime",
    "failing_registry",
    "cc",
    "type",
    "allowed_amount",
    "conditional_amount",
    "stuck_amount",
    "holders_free",
    "holders_stuck",
]


def _registries(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> list[Registry]:
    try:
        return [Registry.parse(v) for v in values]
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command("portability")
@click.option(
    "--regime",
    "regimes",
    multiple=True,
    metavar="NAME|PATH",
    help="Regime to evaluate (repeatable; default: every built-in).",
)
@click.option(
    "--registry",
    "registries",
    multiple=True,
    callback=_registries,
    help="Only moves out of this registry (repeatable).",
)
@click.option(
    "--scenario-failing",
    "failing",
    multiple=True,
    callback=_registries,
    metavar="RIR",
    help="Instead of the matrix: if this registry stopped "
    "functioning, what its holders could still move elsewhere, by country.",
)
@click.option(
    "--as-of",
    "as_of",
    metavar="YYYY-MM-DD",
    help="Date of the decisions (default today); delegations dated later are left out.",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@pass_app
def command(
    app: AppContext,
    regimes: tuple[str, ...],
    registries: list[Registry],
    failing: list[Registry],
    as_of: str | None,
    fmt: str,
) -> None:
    """For every current delegation, whether its holder could move it to each other
    registry (allowed, conditional, refused) under each regime: amounts (addresses for IPv4,
    prefixes for IPv6, AS numbers), distinct holders, and how much RPKI relying parties
    would reject. JSON rows: regime, from_registry, to_registry, type, outcome, amount,
    holders (and records, rpki_rejected, rules, confidence, slash24s for IPv4)."""
    loaded = [load_regime(r) for r in (regimes or builtin_names())]
    day = parse_day(as_of)
    report = run_portability(
        app.current_view(),
        load_iana(app.store),
        loaded,
        day,
        app.store,
        [] if failing else registries or None,
        failing,
    )
    if failing:
        emit(
            [s.to_json() for s in report.scenarios],
            fmt,
            SCENARIO_COLUMNS,
            title=_title(report, "registry stops functioning"),
        )
    elif fmt == "table":
        emit(
            pivot(report),
            fmt,
            [
                "regime",
                "from",
                "to",
                "type",
                "allowed",
                "conditional",
                "refused",
                "holders a/c/r",
                "rpki rejected",
                "confidence",
            ],
            title=_title(report, "could move"),
        )
    else:
        emit([c.to_json() for c in report.cells], fmt, MATRIX_COLUMNS)
    if report.excluded_future and fmt == "table":
        click.echo(f"{report.excluded_future} delegation(s) dated after {day} left out", err=True)


def pivot(report: PortabilityReport) -> list[dict[str, object]]:
    """One table row per regime, registry pair and type, the three outcomes side by side."""
    rows: dict[tuple[str, str, str, str], dict[str, object]] = {}
    for c in report.cells:
        key = (c.regime, c.from_registry.value, c.to_registry.value, c.type.value)
        row = rows.setdefault(
            key,
            {
                "regime": c.regime,
                "from": key[1],
                "to": key[2],
                "type": key[3],
                "holders": [],
                "rpki": 0,
                "conf": set(),
            },
        )
        row[c.outcome.value] = f"{c.amount:,}"
        row["holders"].append(str(c.holders))  # type: ignore[attr-defined]
        row["rpki"] = int(row["rpki"]) + c.rpki_rejected  # type: ignore[call-overload]
        if c.amount and c.confidence:
            row["conf"].add(c.confidence.value)  # type: ignore[attr-defined]
    for row in rows.values():
        row["holders a/c/r"] = "/".join(row.pop("holders"))  # type: ignore[arg-type]
        row["rpki rejected"] = f"{row.pop('rpki'):,}"
        row["confidence"] = ",".join(sorted(row.pop("conf")))  # type: ignore[call-overload]
    return list(rows.values())


def _title(report: PortabilityReport, what: str) -> str:
    return f"{what}, as of {report.as_of}: {report.rows:,} delegations; " + ", ".join(
        report.regimes
    )
