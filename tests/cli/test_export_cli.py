"""``rirport export`` through the real CLI group: outputs, atomic files, and bad input."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from rirport.cli.main import cli
from rirport.services.registry.ingest import ingest_bytes, ingest_path
from rirport.store.unit import Store
from tests.conftest import DELEGATED

#: A small LACNIC file: summary order ipv4/ipv6/asn, 7-field available lines, an empty date.
SAMPLE = """2.3|lacnic|20181012|5|19870101|20181012|-0300
lacnic|*|ipv4|*|2|summary
lacnic|*|ipv6|*|1|summary
lacnic|*|asn|*|2|summary
lacnic||ipv4|24.152.0.0|32768||reserved|
lacnic|AR|ipv4|24.232.0.0|65536|19970602|allocated|20118
lacnic|BR|ipv6|2001:1280::|32|20021106|allocated|12345
lacnic|BR|asn|1251|1|19930101|allocated|67890
lacnic||asn|23456|4||available
"""


class Rirport:
    """The CLI bound to a SQLite store and data folder in ``tmp_path``."""

    def __init__(self, tmp_path: Path) -> None:
        self.url = f"sqlite:///{tmp_path / 'store.sqlite'}"
        self.data_dir = tmp_path / "data"
        self.runner = CliRunner()

    def __call__(self, *args: str) -> Result:
        return self.runner.invoke(
            cli, ["--db", self.url, "--data-dir", str(self.data_dir), "export", *args]
        )

    def ingest_sample(self) -> int:
        store = Store(self.url)
        try:
            return ingest_bytes(store, SAMPLE.encode(), "delegated-lacnic-sample").snapshot_id
        finally:
            store.close()


@pytest.fixture
def rirport(tmp_path: Path) -> Rirport:
    return Rirport(tmp_path)


def test_stats_to_stdout_is_the_file(rirport: Rirport) -> None:
    sid = rirport.ingest_sample()
    for args in (["--registry", "lacnic"], ["--registry", "LACNIC"], ["--snapshot", str(sid)]):
        result = rirport("--format", "stats", *args)
        assert result.exit_code == 0, result.output
        assert result.stdout_bytes == SAMPLE.encode()


def test_stats_to_a_file_is_atomic_and_leaves_no_temporary(
    rirport: Rirport, tmp_path: Path
) -> None:
    rirport.ingest_sample()
    target = tmp_path / "out" / "lacnic.txt"
    target.parent.mkdir()
    result = rirport("--format", "stats", "--registry", "lacnic", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == SAMPLE.encode()
    assert result.stdout == ""
    assert "wrote" in result.stderr
    assert [p.name for p in target.parent.iterdir()] == ["lacnic.txt"]


def test_a_failed_export_keeps_the_previous_file(rirport: Rirport, tmp_path: Path) -> None:
    rirport.ingest_sample()
    target = tmp_path / "keep.csv"
    target.write_text("previous\n")
    result = rirport("--format", "csv", "--snapshot", "999", "--output", str(target))
    assert result.exit_code == 1
    assert target.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson"])
def test_tables_to_stdout(rirport: Rirport, fmt: str) -> None:
    rirport.ingest_sample()
    result = rirport("--format", fmt)
    assert result.exit_code == 0, result.output
    text = result.stdout
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        assert [r["start"] for r in rows] == [
            "24.152.0.0",
            "24.232.0.0",
            "2001:1280::",
            "1251",
            "23456",
        ]
        assert rows[4]["end"] == "23459" and rows[2]["prefixes"] == "2001:1280::/32"
    else:
        objects = json.loads(text) if fmt == "json" else [json.loads(x) for x in text.splitlines()]
        assert [o["opaque_id"] for o in objects] == ["", "20118", "12345", "67890", None]
        assert objects[1]["source"]["file"] == "delegated-lacnic-sample"


def test_combined_to_stdout(rirport: Rirport) -> None:
    rirport.ingest_sample()
    result = rirport("--format", "combined")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "2.3|nro|20181012|5|19930101|20181012|+0000"
    assert lines[1:4] == [
        "nro|*|asn|*|2|summary",
        "nro|*|ipv4|*|2|summary",
        "nro|*|ipv6|*|1|summary",
    ]
    assert lines[4] == "lacnic|BR|asn|1251|1|19930101|allocated|67890|e-stats"
    assert lines[5] == "lacnic||asn|23456|4||available||e-stats"
    assert all(len(line.split("|")) == 9 for line in lines[4:])


def test_parquet_to_a_file(rirport: Rirport, tmp_path: Path) -> None:
    rirport.ingest_sample()
    target = tmp_path / "all.parquet"
    result = rirport("--format", "parquet", "--registry", "lacnic", "-o", str(target))
    assert result.exit_code == 0, result.output
    rows = pq.read_table(target).to_pylist()
    assert [r["value"] for r in rows] == [32768, 65536, 32, 1, 4]
    assert rows[0]["date"] is None


# -- bad input -------------------------------------------------------------------------------
def test_unknown_registry_is_a_usage_error(rirport: Rirport) -> None:
    rirport.ingest_sample()
    result = rirport("--format", "stats", "--registry", "iana")
    assert result.exit_code == 2
    assert "unknown registry 'iana'" in result.stderr
    assert result.stdout == ""


def test_missing_snapshot_is_not_found(rirport: Rirport) -> None:
    rirport.ingest_sample()
    for fmt in ("stats", "csv", "combined"):
        result = rirport("--format", fmt, "--snapshot", "999")
        assert result.exit_code == 1, fmt
        assert result.stderr.strip() == "rirport: no snapshot with id 999"
        assert result.stdout == ""


def test_registry_without_snapshot_is_not_found(rirport: Rirport) -> None:
    rirport.ingest_sample()
    for fmt in ("stats", "json"):
        result = rirport("--format", fmt, "--registry", "arin")
        assert result.exit_code == 1
        assert "no snapshot of arin" in result.stderr


def test_snapshot_of_another_registry_is_refused(rirport: Rirport) -> None:
    sid = rirport.ingest_sample()
    result = rirport("--format", "stats", "--snapshot", str(sid), "--registry", "apnic")
    assert result.exit_code == 1
    assert "not apnic's" in result.stderr


def test_parquet_to_stdout_is_refused(rirport: Rirport) -> None:
    rirport.ingest_sample()
    for args in ([], ["--output", "-"]):
        result = rirport("--format", "parquet", *args)
        assert result.exit_code == 2
        assert "give --output FILE" in result.stderr
        assert result.stdout_bytes == b""


def test_stats_needs_a_registry_or_snapshot(rirport: Rirport) -> None:
    rirport.ingest_sample()
    result = rirport("--format", "stats")
    assert result.exit_code == 2
    assert "give --registry or --snapshot" in result.stderr


def test_empty_store_is_not_found(rirport: Rirport) -> None:
    result = rirport("--format", "csv")
    assert result.exit_code == 1
    assert "no snapshots" in result.stderr


def test_unwritable_output_is_a_clear_error(rirport: Rirport, tmp_path: Path) -> None:
    rirport.ingest_sample()
    result = rirport("--format", "csv", "-o", str(tmp_path / "missing" / "x.csv"))
    assert result.exit_code == 1
    assert "cannot write" in result.stderr and "No such file" in result.stderr


# -- a full real file ------------------------------------------------------------------------
@pytest.mark.slow
def test_stats_of_a_real_file_is_byte_identical(rirport: Rirport, tmp_path: Path) -> None:
    path = DELEGATED / "apnic" / "delegated-apnic-extended-20181014"
    store = Store(rirport.url)
    try:
        ingest_path(store, path)
    finally:
        store.close()
    target = tmp_path / "apnic.txt"
    result = rirport("--format", "stats", "--registry", "apnic", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == path.read_bytes()
    stdout = rirport("--format", "stats", "--registry", "apnic")
    assert stdout.stdout_bytes == path.read_bytes()
