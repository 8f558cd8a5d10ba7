"""The transfer lifecycle as a script drives it: request, approve, accept, complete through
the CLI, on both engines; exit codes, JSON, the moved block in the lookup and the export,
and bad input that changes nothing (the journal proves it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from rirport.cli.main import cli
from rirport.services.registry.ingest import ingest_bytes
from rirport.store.unit import Store
from tests.excerpts import excerpt, real_file

RIPE_HOLDER = "2971c08b-2b8e-49f9-a938-fe3a9f8348be"  # holds 193.0.0.0/20 in the 2018 file


def _ripe_sample(index: int, fields: list[str]) -> bool:
    return index < 30 or fields[3] in ("193.0.0.0", "193.0.16.0")


@pytest.fixture
def url(store: Store, store_url: str) -> str:
    ingest_bytes(store, excerpt(real_file("ripencc"), _ripe_sample), "ripe.txt")
    ingest_bytes(store, excerpt(real_file("arin"), 30), "arin.txt")
    return store_url


def run(url: str, tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["--db", url, "--data-dir", str(tmp_path), "--actor", "cli-test", *args]
    )


def _journal_entries(url: str, tmp_path: Path) -> int:
    result = run(url, tmp_path, "journal", "verify", "--format", "json")
    assert result.exit_code == 0, result.output
    return int(json.loads(result.output)["entries"])


def test_a_transfer_through_the_cli_moves_the_block(url: str, tmp_path: Path) -> None:
    requested = run(
        url,
        tmp_path,
        "transfer",
        "request",
        "193.0.0.0/22",
        "--to",
        "arin",
        "--recipient-holder",
        "ORG-CLI",
        "--requester",
        RIPE_HOLDER,
        "--regime",
        "mandatory-portability",
        "--date",
        "2026-11-01",
        "--format",
        "json",
    )
    assert requested.exit_code == 0, requested.output
    body = json.loads(requested.output)
    transfer_id = str(body["id"])
    assert body["state"] == "requested"
    assert body["decision"]["outcome"] == "allowed"
    for step, state in (("approve", "approved"), ("accept", "accepted"), ("complete", "completed")):
        result = run(url, tmp_path, "transfer", step, transfer_id, "--format", "json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["state"] == state
    found = run(url, tmp_path, "lookup", "193.0.1.1", "--format", "json")
    match = json.loads(found.output)[0]
    assert (match["registry"], match["opaque_id"], match["start"], match["value"]) == (
        "arin",
        "ORG-CLI",
        "193.0.0.0",
        1024,
    )
    exported = run(url, tmp_path, "export", "--format", "stats", "--registry", "ripencc")
    assert "|193.0.4.0|3072|" in exported.output and "|193.0.0.0|4096|" not in exported.output
    listed = run(url, tmp_path, "transfer", "list", "--format", "json")
    assert [t["state"] for t in json.loads(listed.output)] == ["completed"]


@pytest.mark.parametrize(
    "args",
    [
        ["193.0.0.0/22", "--to", "arin", "--requester", "someone-else"],  # not the holder
        ["10.0.0.0/8", "--to", "arin"],  # nobody holds it
        ["193.0.0.0/22", "--to", "ripencc"],  # inter-RIR to itself
        ["193.0.0.0/22", "--to", "arin", "--date", "1990-01-01"],  # before the delegation
        ["193.0.0.0/33", "--to", "arin"],  # malformed
    ],
)
def test_bad_requests_exit_1_and_write_nothing(url: str, tmp_path: Path, args: list[str]) -> None:
    before = _journal_entries(url, tmp_path)
    result = run(url, tmp_path, "transfer", "request", *args, "--recipient-holder", "ORG-X")
    assert result.exit_code == 1, result.output
    assert "rirport:" in result.output and "Traceback" not in result.output
    assert _journal_entries(url, tmp_path) == before
    assert json.loads(run(url, tmp_path, "transfer", "list", "--format", "json").output) == []


def test_a_step_out_of_order_exits_1(url: str, tmp_path: Path) -> None:
    requested = run(
        url,
        tmp_path,
        "transfer",
        "request",
        "193.0.0.0/22",
        "--to",
        "arin",
        "--recipient-holder",
        "ORG-CLI",
        "--regime",
        "mandatory-portability",
        "--format",
        "json",
    )
    transfer_id = str(json.loads(requested.output)["id"])
    before = _journal_entries(url, tmp_path)
    result = run(url, tmp_path, "transfer", "complete", transfer_id)
    assert result.exit_code == 1
    assert "requested" in result.output
    assert _journal_entries(url, tmp_path) == before
