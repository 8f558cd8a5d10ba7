"""The command line as scripts use it: exit codes, JSON keys, messages on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from rirport.cli.main import cli
from tests.excerpts import excerpt, real_file

MATCH_KEYS = {"registry", "cc", "type", "start", "value", "date", "status", "opaque_id"}


def sample(rir: str) -> bytes:
    """Every 300th record of a real 2018 file: all three types, a few hundred records."""
    return excerpt(real_file(rir), lambda i, _fields: i % 300 == 0)


def run(tmp_path: Path, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(
        cli,
        [
            "--db",
            f"sqlite:///{tmp_path / 'cli.sqlite'}",
            "--data-dir",
            str(tmp_path / "home"),
            *args,
        ],
        input=stdin,
    )


@pytest.fixture
def loaded(tmp_path: Path) -> Path:
    """A store with real excerpts of three registries."""
    for rir in ("apnic", "arin", "ripencc"):
        (tmp_path / f"{rir}.txt").write_bytes(sample(rir))
    result = run(
        tmp_path, "ingest", *(str(tmp_path / f"{r}.txt") for r in ("apnic", "arin", "ripencc"))
    )
    assert result.exit_code == 0, result.output
    return tmp_path


def _records(rir: str) -> list[list[str]]:
    lines = sample(rir).decode().splitlines()
    return [
        ln.split("|")
        for ln in lines
        if not ln.startswith("#")
        and ln.count("|") >= 6
        and ln.split("|")[1] != "*"
        and not ln[0].isdigit()
    ]


def test_ingest_reports_each_file_and_is_idempotent(loaded: Path) -> None:
    again = run(loaded, "ingest", str(loaded / "apnic.txt"))
    assert again.exit_code == 0
    assert "already stored as snapshot 1" in again.output


def test_ingest_refuses_a_bad_file_with_file_line_and_exit_1(tmp_path: Path) -> None:
    lines = excerpt(real_file("lacnic"), 30).decode().split("\n")
    bad = tmp_path / "lacnic-bad.txt"
    fields = lines[7].split("|")
    fields[4] = "0"
    lines[7] = "|".join(fields)
    bad.write_text("\n".join(lines))
    result = run(tmp_path, "ingest", str(bad))
    assert result.exit_code == 1
    assert f"{bad}:8:" in result.output and "count is 0" in result.output
    assert "nothing was stored" in result.output


def test_ingest_skip_bad_lines_stores_the_rest(tmp_path: Path) -> None:
    lines = excerpt(real_file("arin"), 30).decode().split("\n")
    fields = lines[4].split("|")
    fields[5] = "20181332"
    lines[4] = "|".join(fields)
    bad = tmp_path / "arin-bad.txt"
    bad.write_text("\n".join(lines))
    result = run(tmp_path, "ingest", "--skip-bad-lines", str(bad))
    assert result.exit_code == 0
    assert "stored 29 records" in result.output and "skipped 1 bad line" in result.output
    assert f"{bad}:5: date: '20181332' is not a calendar date" in result.output


def test_ingest_of_a_missing_path_fails_cleanly(tmp_path: Path) -> None:
    result = run(tmp_path, "ingest", str(tmp_path / "nope"))
    assert result.exit_code == 1
    assert "no such file or folder" in result.output


def test_lookup_json_has_the_contract_keys(loaded: Path) -> None:
    record = next(r for r in _records("ripencc") if r[2] == "ipv4")
    result = run(loaded, "lookup", record[3], "--format", "json")
    assert result.exit_code == 0, result.output
    (match,) = json.loads(result.output)
    assert set(match) >= MATCH_KEYS
    assert (match["registry"], match["start"], match["value"], match["status"]) == (
        "ripencc",
        record[3],
        int(record[4]),
        record[6],
    )
    assert match["date"] == f"{record[5][:4]}-{record[5][4:6]}-{record[5][6:]}"


def test_bulk_lookup_keeps_order_and_reports_bad_queries(loaded: Path) -> None:
    asn = next(r for r in _records("arin") if r[2] == "asn")
    queries = [f"AS{asn[3]}", "not/valid", "8.8.8.8"]
    result = run(
        loaded, "lookup", "--file", "-", "--format", "json", stdin="\n".join(queries) + "\n"
    )
    assert result.exit_code == 1  # one query could not be read
    body = json.loads(result.stdout)
    assert [a["query"] for a in body] == queries
    assert body[0]["matches"][0]["start"] == asn[3]
    assert body[1]["matches"] == [] and "error" in body[1]
    assert "not/valid" in result.stderr


def test_lookup_ndjson_and_csv(loaded: Path) -> None:
    record = next(r for r in _records("apnic") if r[2] == "ipv6")
    ndjson = run(loaded, "lookup", f"{record[3]}/{record[4]}", "--format", "ndjson")
    assert json.loads(ndjson.output.splitlines()[0])["start"] == record[3]
    csv = run(loaded, "lookup", f"{record[3]}/{record[4]}", "--format", "csv")
    header, first = csv.output.splitlines()[:2]
    assert header.startswith("registry,cc,type,start,value,date,status,opaque_id")
    assert first.startswith(f"apnic,{record[1]},ipv6,{record[3]},{record[4]}")


def test_stats_json_counts_agree_with_the_files(loaded: Path) -> None:
    result = run(loaded, "stats", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    for rir in ("apnic", "arin", "ripencc"):
        records = _records(rir)
        for rtype, unit in (("ipv4", "addresses"), ("asn", "asns")):
            for status in {r[6] for r in records if r[2] == rtype}:
                mine = [r for r in records if r[2] == rtype and r[6] == status]
                (row,) = [
                    x
                    for x in rows
                    if (x["registry"], x["type"], x["status"]) == (rir, rtype, status)
                ]
                assert row["records"] == len(mine)
                assert row[unit] == sum(int(r[4]) for r in mine)


def test_stats_rejects_an_unknown_registry(loaded: Path) -> None:
    result = run(loaded, "stats", "--registry", "nonsense")
    assert result.exit_code == 2
    assert "unknown registry 'nonsense'" in result.output


def test_a_bad_database_url_is_a_settings_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--db", "mysql+nothing://x", "stats"])
    assert result.exit_code == 2
    assert "unsupported database" in result.output or "bad database URL" in result.output


def test_table_cells_are_text_not_rich_markup(capsys: pytest.CaptureFixture[str]) -> None:
    """Free text from data or users (holder ids, usernames, evidence) prints as it is."""
    from rirport.cli.output import print_table

    print_table([{"who": "[bold red]x[/bold red]", "n": 1}], ["who", "n"])
    assert "[bold red]x[/bold red]" in capsys.readouterr().out


@pytest.mark.parametrize("query", ["hello", "AS-FOO", "ripenc:ID"])
def test_a_query_that_is_not_a_resource_is_an_error_listing_what_is_accepted(
    loaded: Path, query: str
) -> None:
    """Issue 11 finding 6: not read as a holder id answering [] with exit 0."""
    result = run(loaded, "lookup", query, "--format", "json")
    assert result.exit_code == 1
    assert result.stdout == ""
    for form in ("193.0.0.0/21", "AS3333", "holder:ID or <registry>:ID", "ripencc"):
        assert form in result.stderr


def test_a_holder_query_with_its_prefix_still_answers(loaded: Path) -> None:
    holder = next(r[7] for r in _records("arin") if len(r) == 8 and r[7])
    for query in (f"arin:{holder}", f"holder:{holder}"):
        result = run(loaded, "lookup", query, "--format", "json")
        assert result.exit_code == 0, result.output
        assert {m["opaque_id"] for m in json.loads(result.stdout)} == {holder}


@pytest.mark.parametrize(
    "args", [("lookup", "8.8.8.8"), ("stats",), ("history", "8.8.8.8"), ("check",)]
)
def test_an_empty_store_says_how_to_load_one(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = run(tmp_path, *args)
    assert result.exit_code == 1
    assert "the store holds no statistics files yet" in result.stderr
    assert "rirport demo" in result.stderr and "rirport ingest" in result.stderr


def test_a_bad_date_names_its_option(loaded: Path) -> None:
    for args in (("lookup", "8.8.8.8", "--as-of", "2018-13-01"), ("events", "--from", "x")):
        result = run(loaded, *args, *(["--to", "2018-10-01"] if args[0] == "events" else []))
        assert result.exit_code == 2
        assert f"{args[-2]}: {args[-1]!r} is not a date (YYYY-MM-DD)" in result.stderr
