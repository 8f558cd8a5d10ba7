"""``rirport scenario``: what-if runs applied as real transfers to a scratch copy of the store."""

from __future__ import annotations

import json

import click

from rirport.cli.context import AppContext, pass_app
from rirport.cli.output import FORMATS, emit
from rirport.domain.enums import Registry
from rirport.errors import InputError

FLOW_COLUMNS = ["to", "type", "records", "amount", "rpki_rejected", "rpki_rejected_records"]


@click.group("scenario")
def command() -> None:
    """What-if runs made as real, journaled transfers in a scratch copy of the store (the
    store itself is only read)."""


@command.command("exit")
@click.argument("name", metavar="RIR")
@click.option(
    "--regime",
    default="mandatory-portability",
    show_default=True,
    metavar="NAME|PATH",
    help="The regime every move is decided under.",
)
@click.option(
    "--to-policy",
    "to_policy",
    default="nearest",
    show_default=True,
    metavar="nearest|CC:RIR,…",
    help="Where each country's records go: CC:RIR items (ZA:ripencc), and nearest (the "
    "registry listing the most records of that country) or *:RIR for every other country.",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@pass_app
def exit_command(app: AppContext, name: str, regime: str, to_policy: str, fmt: str) -> None:
    """Every holder of RIR leaves it: each delegated record the regime allows moves to its
    destination as a journaled transfer (request, approve, accept, complete) in a scratch
    copy of the store, which is removed afterwards. Prints the registries before and after,
    what moved where with what RPKI validators would reject of it, and the time taken."""
    from rirport.policy.loader import load_regime
    from rirport.services.transfers.scenario import parse_to_policy, run_exit

    try:
        registry = Registry.parse(name)
    except ValueError as exc:
        raise InputError(f"scenario exit: {exc}") from None
    policy = parse_to_policy(to_policy, registry)
    load_regime(regime)  # an unknown regime fails before anything is copied
    report = run_exit(app.store, registry, regime, policy, app.actor)
    if fmt in ("json", "ndjson"):
        body = report.to_json()
        click.echo(json.dumps(body, indent=2 if fmt == "json" else None, ensure_ascii=False))
        return
    if fmt == "csv":  # what moved where, one row per destination and type
        emit([f.to_json() for f in report.flows], fmt, FLOW_COLUMNS)
        return
    before = {h.registry: h for h in report.before}
    rows = []
    for h in report.after:
        b = before.get(h.registry)
        rows.append(
            {
                "registry": h.registry.value,
                "records": f"{b.records if b else 0:,} → {h.records:,}",
                "ipv4 addresses": f"{b.ipv4 if b else 0:,} → {h.ipv4:,}",
                "ipv6 prefixes": f"{b.ipv6 if b else 0:,} → {h.ipv6:,}",
                "asns": f"{b.asn if b else 0:,} → {h.asn:,}",
            }
        )
    emit(
        rows,
        fmt,
        ["registry", "records", "ipv4 addresses", "ipv6 prefixes", "asns"],
        title=f"{registry.label} exits under {report.regime} (to {report.policy}), "
        f"as of {report.as_of}",
    )
    emit(
        [
            {
                "to": f.to.value,
                "type": f.type.value,
                "records": f"{f.records:,}",
                "amount": f"{f.amount:,}",
                "rpki rejected": f"{f.rpki_rejected:,} ({f.rpki_rejected_records:,} records)",
            }
            for f in report.flows
        ],
        fmt,
        ["to", "type", "records", "amount", "rpki rejected"],
        title="moved (amount: addresses for IPv4, prefixes for IPv6, AS numbers); what RPKI "
        "validators (rpki-client constraints) would reject under the recipient's trust anchor",
    )
    s = report.seconds
    not_allowed = ", ".join(f"{n:,} {k}" for k, n in sorted(report.not_allowed.items()) if n)
    click.echo(
        f"{report.moved:,} of {report.delegated:,} delegated records moved as transfers "
        f"({report.journal_entries:,} journal entries) in {s['moves']:.1f}s "
        f"({report.transfers_per_second:.0f} transfers/s); not allowed: {not_allowed or 'none'}; "
        f"unrouted: {report.unrouted:,}; failed: {len(report.failed):,}; "
        f"total {s['total']:.1f}s (copy {s['copy']:.1f}s, plan {s['plan']:.1f}s, "
        f"read back {s['read_back']:.1f}s)"
    )
    for resource, why in report.failed[:10]:
        click.echo(f"  not moved: {resource}: {why}", err=True)
