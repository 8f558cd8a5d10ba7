"""Issue 11 #3: ``events --from --to`` takes a calendar window, answers for the snapshots it
holds and says which span was covered and where the gaps are (CLI and HTTP)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from rirport.cli.main import cli
from rirport.http.app import create_app
from rirport.http.config import HttpConfig
from rirport.services.store import open_store
from tests.excerpts import real_file


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """AFRINIC's 2017 and 2018 extended files: the first snapshot is dated 2017-03-21."""
    tmp = tmp_path_factory.mktemp("window")
    url = f"sqlite:///{tmp / 's.sqlite'}"
    files = [str(real_file("afrinic", y)) for y in ("2017", "2018")]
    result = CliRunner().invoke(cli, ["--db", url, "--data-dir", str(tmp), "ingest", *files])
    assert result.exit_code == 0, result.output
    return url


def _events(url: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli, ["--db", url, "events", "--from", "2017-03-01", "--to", "2018-10-31", *args]
    )
    return result.exit_code, result.stdout, result.stderr


def test_a_window_starting_before_the_first_snapshot_is_answered(store_url: str) -> None:
    code, out, _err = _events(store_url, "--format", "json")
    assert code == 0
    answer = json.loads(out)
    assert answer["window"] == {"from": "2017-03-01", "to": "2018-10-31"}
    cov = answer["coverage"]
    assert (cov["from"], cov["to"]) == ("2017-03-21", "2018-10-13")
    assert cov["uncovered"] == [
        {"from": "2017-03-01", "to": "2017-03-21"},
        {"from": "2018-10-13", "to": "2018-10-31"},
    ]
    assert cov["gaps"] == [
        {"registry": "afrinic", "from": "2017-03-21", "to": "2018-10-13", "days": 571}
    ]
    events = answer["events"]
    assert events and all(e["snapshots"]["from"].endswith("20170321") for e in events)
    assert all(e["gap"]["days"] == 571 for e in events)


def test_text_and_ndjson_say_what_was_covered(store_url: str) -> None:
    code, out, _ = _events(store_url, "--format", "text")
    assert code == 0
    assert out.startswith(
        "window 2017-03-01 .. 2018-10-31: snapshots cover 2017-03-21 .. 2018-10-13"
    )
    assert "gap: no afrinic snapshot between 2017-03-21 and 2018-10-13 (571 days)" in out
    code, out, err = _events(store_url)
    assert code == 0 and "snapshots cover" in err
    assert all(json.loads(line)["kind"] for line in out.splitlines())


def test_a_window_with_no_snapshot_is_an_error(store_url: str) -> None:
    result = CliRunner().invoke(
        cli, ["--db", store_url, "events", "--from", "2010-01-01", "--to", "2016-12-31"]
    )
    assert result.exit_code == 1 and "holds no snapshot" in result.stderr


def test_the_http_events_api_carries_the_coverage(store_url: str, tmp_path: Path) -> None:
    app = create_app(open_store(store_url), tmp_path, HttpConfig(rate=0))
    with TestClient(app) as client:
        answer = client.get("/api/events", params={"from": "2017-03-01", "to": "2018-10-31"})
    app.state.live.store.close()
    assert answer.status_code == 200
    assert isinstance(answer.json(), list) and answer.json()  # the body is as before
    coverage = json.loads(answer.headers["X-Coverage"])
    assert coverage["uncovered"][0] == {"from": "2017-03-01", "to": "2017-03-21"}
    assert coverage["gaps"][0]["days"] == 571
