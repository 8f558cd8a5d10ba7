"""``rirport policy list|show|validate|compare|checks``: the regimes and their rules."""

from __future__ import annotations

import json

import click

from rirport.cli.output import FORMATS, emit
from rirport.cli.parsing import option_day
from rirport.policy.checks import SPECS
from rirport.policy.compare import compare
from rirport.policy.loader import builtin_names, load_regime
from rirport.policy.model import Regime, Rule

RULE_COLUMNS = [
    "id",
    "registry",
    "direction",
    "types",
    "kinds",
    "check",
    "effect",
    "confidence",
    "effective",
    "reference",
]


@click.group("policy")
def command() -> None:
    """Policy regimes: the rules in force, proposals, and your own regime files."""


@command.command("list")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
def list_regimes(fmt: str) -> None:
    """The built-in regimes."""
    rows = [_summary(load_regime(name)) for name in builtin_names()]
    emit(rows, fmt, ["name", "version", "rules", "description"], title="built-in regimes")


@command.command("show")
@click.argument("regime", metavar="NAME|PATH")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
def show(regime: str, fmt: str) -> None:
    """A regime's description, sources, notes and every rule with its reference."""
    loaded = load_regime(regime)
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    **_summary(loaded),
                    "source": loaded.source,
                    "notes": list(loaded.notes),
                    "rules": [rule_json(r) for r in loaded.rules],
                },
                indent=2,
            )
        )
        return
    if fmt == "table":
        click.echo(f"{loaded.label}: {loaded.description}\nsource: {loaded.source}")
        for note in loaded.notes:
            click.echo(f"note: {note}")
    emit([rule_json(r) for r in loaded.rules], fmt, RULE_COLUMNS, title=loaded.label)


@command.command("validate")
@click.argument("path", type=click.Path(dir_okay=False))
def validate(path: str) -> None:
    """Check a regime file; every problem is listed (file:line, rule id, field), exit 1."""
    loaded = load_regime(path)
    click.echo(f"{path}: ok, regime {loaded.label} with {len(loaded.rules)} rules")


@command.command("compare")
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@click.option(
    "--as-of",
    "as_of",
    metavar="YYYY-MM-DD",
    help="Date the rules are taken as in force (default today).",
)
@click.option("--all", "show_all", is_flag=True, help="Every cell, not only those that differ.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
def compare_regimes(a: str, b: str, as_of: str | None, show_all: bool, fmt: str) -> None:
    """Where regimes A and B differ, per registry pair, type and kind: the outcome for a
    clean resource, and the restrictions (by check) that could stop others."""
    first, second = load_regime(a), load_regime(b)
    rows = [
        r.to_json()
        for r in compare(first, second, option_day(as_of, "--as-of"))
        if show_all or r.differs
    ]
    if fmt in ("table", "csv"):
        rows = [{k: " ".join(v) if isinstance(v, list) else v for k, v in r.items()} for r in rows]
    emit(
        rows,
        fmt,
        [
            "from_registry",
            "to_registry",
            "type",
            "kind",
            "outcome_a",
            "outcome_b",
            "restrictions_a",
            "restrictions_b",
        ],
        title=f"A = {first.label}, B = {second.label}",
    )


@command.command("checks")
def checks() -> None:
    """The checks a rule can name, with their parameters."""
    for name, spec in sorted(SPECS.items()):
        params = ", ".join([*sorted(spec.required), *(f"[{p}]" for p in sorted(spec.optional))])
        click.echo(f"{name}({params}): {spec.doc}")


def _summary(regime: Regime) -> dict[str, object]:
    return {
        "name": regime.name,
        "version": regime.version,
        "rules": len(regime.rules),
        "description": regime.description,
        "path": regime.path,
    }


def rule_json(rule: Rule) -> dict[str, object]:
    """A rule as people and scripts read it (types and kinds as comma lists)."""
    return {
        "id": rule.id,
        "registry": rule.registry.value if rule.registry else "*",
        "direction": rule.direction.value,
        "types": ",".join(sorted(t.value for t in rule.types)),
        "kinds": ",".join(sorted(k.value for k in rule.kinds)),
        "check": rule.check,
        "effect": rule.effect.value,
        "confidence": rule.confidence.value,
        "effective": rule.effective.isoformat() if rule.effective else "unknown",
        "until": rule.until.isoformat() if rule.until else None,
        "message": rule.message,
        "reference": rule.reference,
        "url": rule.url,
    }
