"""Transfer logs (built from the specification) against the moves of the real files."""

from __future__ import annotations

import datetime as dt
import json

from click.testing import CliRunner

from rirport.cli.main import cli
from rirport.domain.events import diff
from rirport.formats.transferlog import LoggedTransfer, read_transfer_log
from rirport.services.transfers.reconcile import reconcile
from rirport.store.unit import Store
from tests.paths import TEST_DATA
from tests.services.test_events import _read
from tests.services.test_events_store import _ingest

LOGS = TEST_DATA / "transferlogs"
WINDOW = (dt.date(2017, 3, 22), dt.date(2018, 10, 14))


def _transfers() -> list[LoggedTransfer]:
    out: list[LoggedTransfer] = []
    for name in ("arin-transfers.json", "lacnic-transfers.json"):
        out += read_transfer_log((LOGS / name).read_bytes(), name).transfers
    return out


def test_reconcile_with_the_real_moves() -> None:
    events = diff(_read("2017"), _read("2018"))
    result = reconcile(_transfers(), events, *WINDOW)
    matched = {
        (t.source_rir.value, t.recipient_rir.value, str(t.resources[0])): [
            (e.start, e.value) for e in moves
        ]
        for t, moves in result.matched
    }
    assert matched == {
        ("arin", "apnic", "23.226.0.0/20"): [("23.226.0.0", 4096)],
        ("apnic", "arin", "43.243.84.0/22"): [("43.243.84.0", 1024)],
        ("ripencc", "arin", "80.71.32.0/20"): [("80.71.32.0", 4096)],
    }
    only_log = {
        (t.source_rir.value, t.recipient_rir.value, str(t.resources[0])) for t in result.only_log
    }
    assert only_log == {("arin", "ripencc", "8.0.0.0/16"), ("arin", "lacnic", "45.160.0.0/22")}
    assert (result.intra_rir, result.outside_window) == (3, 1)
    moved = [e for e in events if e.kind == "moved"]
    assert len(result.only_data) == len(moved) - 3
    counts = result.to_json()["counts"]
    assert counts == {
        "matched": 3,
        "only_log": 2,
        "only_data": 394,
        "intra_rir": 3,
        "outside_window": 1,
        "cancelled": 1,
    }


def test_the_window_decides_what_is_expected() -> None:
    events = diff(_read("2017"), _read("2018"))
    result = reconcile(_transfers(), events, dt.date(2015, 1, 1), dt.date(2018, 10, 14))
    # the 2016 transfer of 8.128.0.0/10 is now inside the window and matches the data
    assert any(str(t.resources[0]) == "8.128.0.0/10" for t, _ in result.matched)
    assert result.outside_window == 0


def test_cli_reconcile(store: Store, store_url: str) -> None:
    for registry in ("arin", "apnic"):
        for year in ("2017", "2018"):
            _ingest(store, registry, year)
    result = CliRunner().invoke(
        cli,
        [
            "--db",
            store_url,
            "transfers-log",
            "reconcile",
            str(LOGS / "arin-transfers.json"),
            "--from",
            "2017-03-22",
            "--to",
            "2018-10-14",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["counts"] == {
        "matched": 1,
        "only_log": 3,
        "only_data": 2,
        "intra_rir": 2,
        "outside_window": 1,
        "cancelled": 1,
    }
    assert {e["start"] for e in out["only_data"]} == {"8.128.0.0", "8.208.0.0"}
    bad = CliRunner().invoke(
        cli,
        [
            "--db",
            store_url,
            "transfers-log",
            "reconcile",
            str(LOGS / "README.md"),
            "--from",
            "2017-03-22",
            "--to",
            "2018-10-14",
        ],
    )
    assert bad.exit_code == 1 and "not JSON" in bad.output
