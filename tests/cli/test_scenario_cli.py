"""``rirport scenario exit``: a registry's records moved as real transfers in a scratch copy
(on both engines as the source store), the report checked against the data and the RPKI
finding logic, the user's store untouched; and bad input that fails clearly with exit 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from rirport.cli.main import cli
from rirport.domain.enums import Registry, ResourceType
from rirport.errors import InputError
from rirport.policy.rpki import check_rpki
from rirport.query.iana import load_iana
from rirport.query.view import load_current
from rirport.services.registry.ingest import ingest_path
from rirport.services.transfers.facts import iana_block
from rirport.services.transfers.scenario import NEAREST, parse_to_policy
from rirport.store.unit import Store
from tests.paths import TEST_DATA

EXCERPTS = sorted((TEST_DATA / "excerpts").glob("*-excerpt.txt"))


@pytest.fixture
def url(store: Store, store_url: str) -> str:
    for path in EXCERPTS:
        ingest_path(store, path)
    return store_url


def run(url: str, tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["--db", url, "--data-dir", str(tmp_path), "--actor", "test", *args]
    )


def _entries(store: Store) -> int:
    with store.read() as uow:
        return uow.journal.count()


def test_every_afrinic_record_moves_as_a_journaled_transfer(
    url: str, store: Store, tmp_path: Path
) -> None:
    view = load_current(store)
    t = view.table
    afrinic = [t.row(r) for r in range(len(t)) if t.row(r).registry is Registry.AFRINIC]
    delegated = [d for d in afrinic if d.status.delegated]
    za = [d for d in delegated if d.cc == "ZA"]
    assert delegated and za and len(za) < len(delegated)  # the excerpt has both kinds
    journal_before = _entries(store)

    result = run(
        url, tmp_path, "scenario", "exit", "afrinic", "--regime", "mandatory-portability",
        "--to-policy", "ZA:ripencc,*:arin", "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)

    # every delegated record moved (the regime allows them all), four journal entries each
    assert report["delegated"] == len(delegated)
    assert report["moved"] == len(delegated) and not report["failed"]
    assert report["journal_entries"] == 4 * len(delegated)
    before = {h["registry"]: h for h in report["before"]}
    after = {h["registry"]: h for h in report["after"]}
    assert before["afrinic"]["records"] == len(delegated)
    assert after["afrinic"]["records"] == 0 and after["afrinic"]["ipv4_addresses"] == 0
    moved_v4 = sum(d.resource.size for d in delegated if d.resource.type is ResourceType.IPV4)
    za_records = len(za)
    # ZA went to the RIPE NCC, everything else to ARIN; numbers are conserved
    flows = {(f["to"], f["type"]): f for f in report["moves"]}
    assert sum(f["records"] for (to, _), f in flows.items() if to == "ripencc") == za_records
    assert sum(f["records"] for (to, _), f in flows.items() if to == "arin") == (
        len(delegated) - za_records
    )
    total_v4 = sum(h["ipv4_addresses"] for h in report["before"])
    assert sum(h["ipv4_addresses"] for h in report["after"]) == total_v4
    assert after["ripencc"]["ipv4_addresses"] + after["arin"]["ipv4_addresses"] == (
        before["ripencc"]["ipv4_addresses"] + before["arin"]["ipv4_addresses"] + moved_v4
    )
    # the RPKI finding is the one the single-resource check gives, record by record
    iana = load_iana(store)
    expected: dict[tuple[str, str], int] = {}
    for d in delegated:
        target = "ripencc" if d.cc == "ZA" else "arin"
        block = iana_block(iana, d.resource)
        finding = check_rpki(Registry(target), d.resource, block.registry if block else None)
        if not finding.accepted:
            amount = 1 if d.resource.type is ResourceType.IPV6 else d.resource.size
            key = (target, d.resource.type.value)
            expected[key] = expected.get(key, 0) + amount
    got = {k: f["rpki_rejected"] for k, f in flows.items() if f["rpki_rejected"]}
    assert got == expected and got  # validators reject AFRINIC space under other anchors
    assert set(report["seconds"]) >= {"copy", "plan", "moves", "total"}

    # the user's store is untouched: same journal, AFRINIC still holds its records
    assert _entries(store) == journal_before
    again = load_current(store).table
    assert sum(1 for r in range(len(again)) if again.row(r).registry is Registry.AFRINIC) == len(
        afrinic
    )


def test_the_table_report_and_nearest(url: str, tmp_path: Path) -> None:
    result = run(url, tmp_path, "scenario", "exit", "afrinic")
    assert result.exit_code == 0, result.output
    assert "AFRINIC exits under mandatory-portability (to nearest)" in result.output
    assert "moved as transfers" in result.output and "rpki rejected" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere"], "unknown registry 'nowhere'"),
        (["afrinic", "--regime", "no-such-regime"], "no regime 'no-such-regime'"),
        (["afrinic", "--to-policy", "ZA"], "expected nearest or CC:RIR"),
        (["afrinic", "--to-policy", "ZA:nowhere"], "unknown registry 'nowhere'"),
        (["afrinic", "--to-policy", "ZAF:ripencc"], "not a two-letter country code"),
        (["afrinic", "--to-policy", "ZA:afrinic"], "is the registry being left"),
        (["afrinic", "--to-policy", "ZA:arin,ZA:apnic"], "ZA is listed twice"),
        (["afrinic", "--to-policy", "nearest,*:arin"], "more than one default"),
        (["afrinic", "--to-policy", ""], "--to-policy is empty"),
        (["afrinic", "--to-policy", "ZA:arin,,nearest"], "an empty item"),
    ],
)
def test_bad_input_fails_clearly_and_changes_nothing(
    url: str, store: Store, tmp_path: Path, args: list[str], message: str
) -> None:
    before = _entries(store)
    result = run(url, tmp_path, "scenario", "exit", *args)
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert _entries(store) == before


def test_a_registry_without_a_snapshot_is_an_error(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    ingest_path(store, next(p for p in EXCERPTS if p.name.startswith("arin")))
    result = run(store_url, tmp_path, "scenario", "exit", "afrinic")
    assert result.exit_code == 1
    assert "AFRINIC has no snapshot in this store" in result.output


def test_parse_to_policy() -> None:
    policy = parse_to_policy(" za:RIPE NCC , nearest ", Registry.AFRINIC)
    assert policy.by_country == {"ZA": Registry.RIPENCC} and policy.default == NEAREST
    assert parse_to_policy("*:arin", Registry.AFRINIC).default is Registry.ARIN
    assert parse_to_policy("EG:ripencc", Registry.AFRINIC).default is None
    with pytest.raises(InputError, match="expected nearest or CC:RIR"):
        parse_to_policy("everywhere", Registry.AFRINIC)
