"""``rirport sync`` end to end: CliRunner, a SQLite store in tmp_path, a real loopback mirror."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from rirport.cli.main import cli
from tests.mirror import Mirror, real_file, serve_mirror


@pytest.fixture
def mirror() -> Iterator[Mirror]:
    with serve_mirror() as served:
        yield served


def run(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    """``rirport --db <sqlite in tmp_path> --data-dir <tmp_path> sync ARGS``."""
    db = f"sqlite:///{tmp_path / 'store.sqlite'}"
    return CliRunner().invoke(
        cli,
        ["--db", db, "--data-dir", str(tmp_path / "data"), "sync", *args],
        env=env,
        catch_exceptions=False,
    )


def lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def test_sync_ingests_then_reports_unchanged(tmp_path: Path, mirror: Mirror) -> None:
    first = run(tmp_path, "-r", "afrinic", "--registry", "LACNIC", "--base-url", mirror.base_url)

    assert first.exit_code == 0, first.output
    assert [line.split(",")[0] for line in lines(first)] == [
        "afrinic: ingested 2018-10-13",
        "lacnic: ingested 2018-10-12",
    ]
    name, data = real_file("afrinic")
    assert (tmp_path / "data" / "downloads" / "afrinic" / name).read_bytes() == data

    again = run(tmp_path, "-r", "afrinic", "-r", "lacnic", "--base-url", mirror.base_url + "/")

    assert again.exit_code == 0, again.output
    assert [line.split(",")[0] for line in lines(again)] == [
        "afrinic: unchanged",
        "lacnic: unchanged",
    ]


def test_one_failed_registry_exits_1_after_the_others(tmp_path: Path, mirror: Mirror) -> None:
    mirror.faults["lacnic"] = "missing"

    result = run(tmp_path, "-r", "lacnic", "-r", "afrinic", "--base-url", mirror.base_url)

    assert result.exit_code == 1
    assert lines(result)[0] == (
        f"error: lacnic: failed: {mirror.url('lacnic')}: HTTP 404 Not Found"
    )  # one line, however long
    assert lines(result)[1].startswith("afrinic: ingested 2018-10-13, 9373 records")


def test_sync_base_from_environment(tmp_path: Path, mirror: Mirror) -> None:
    result = run(tmp_path, "-r", "afrinic", env={"RIRPORT_SYNC_BASE": mirror.base_url})

    assert result.exit_code == 0, result.output
    assert lines(result)[0].startswith("afrinic: ingested")
    assert mirror.requests == [
        "/afrinic/delegated-afrinic-extended-latest.md5",
        "/afrinic/delegated-afrinic-extended-latest",
    ]


def test_unknown_registry_is_a_usage_error(tmp_path: Path) -> None:
    result = run(tmp_path, "-r", "ripe-ncc", "-r", "arn")

    assert result.exit_code == 2
    assert "unknown registry 'arn'" in result.output


@pytest.mark.slow
def test_sync_all_five(tmp_path: Path, mirror: Mirror) -> None:
    result = run(tmp_path, "--base-url", mirror.base_url)

    assert result.exit_code == 0, result.output
    assert [line.split(":")[0] for line in lines(result)] == [
        "afrinic",
        "apnic",
        "arin",
        "lacnic",
        "ripencc",
    ]
    assert all(": ingested " in line for line in lines(result))
