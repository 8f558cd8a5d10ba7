"""Issue 11 #7: output for people — amounts with units, prefixes and ranges, country names,
profiles rendered for the terminal, no emoji codes, a closed pipe and a bad data folder."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from rirport import present
from rirport.cli.main import cli
from rirport.cli.profile import show_markdown
from rirport.services.monitoring.watch import summary
from tests.excerpts import excerpt, real_file


def test_amounts_carry_their_unit() -> None:
    assert present.amount("ipv6", 9229 << 96) == "9,229 /32s"
    assert present.amount("ipv6", 908 << 80) == "908 /48s"
    assert present.amount("ipv4", 106255104) == "106,255,104 addresses"
    assert present.amount("asn", 1664) == "1,664 ASNs"


def test_resources_print_as_prefixes_or_ranges() -> None:
    assert present.resource("ipv4", "8.128.0.0", 4194304) == "8.128.0.0/10"
    assert present.resource("ipv4", "1.2.3.0", 192) == "1.2.3.0-1.2.3.191"
    assert present.resource("ipv6", "2001:db8::", 32) == "2001:db8::/32"
    assert present.resource("asn", "3333", 1) == "AS3333"
    assert present.resource("asn", "3333", 8) == "AS3333-AS3340"
    body = {"kind": "moved", "type": "ipv4", "start": "8.128.0.0", "value": 4194304}
    line = summary({**body, "registry": "apnic", "from_registry": "arin", "to_registry": "apnic"})
    assert line == "moved ipv4 8.128.0.0/10 arin -> apnic"


def test_country_names_beside_codes() -> None:
    assert present.country("NL") == "NL (Netherlands)"
    assert present.country("EU") == "EU (European Union (a RIPE NCC code))"
    assert present.country("US") == "US (United States)"  # the common name, as the pages say
    assert present.country("QQ") == "QQ"
    assert present.country("") == ""


def test_profile_markdown_renders_without_tier_comments() -> None:
    text = "# AFRINIC\n\n<!-- tier: public -->\n## Key points\n\n- one :x: point\n"
    out = io.StringIO()
    show_markdown(text, Console(file=out, width=80, emoji=False, color_system=None))
    shown = out.getvalue()
    assert "<!--" not in shown and "tier" not in shown
    assert "# AFRINIC" not in shown and "AFRINIC" in shown
    assert ":x:" in shown and "\u274c" not in shown


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    tmp = tmp_path_factory.mktemp("present")
    path = tmp / "afrinic.txt"
    path.write_bytes(excerpt(real_file("afrinic"), lambda i, _f: i % 20 == 0))
    base = ["--db", f"sqlite:///{tmp / 's.sqlite'}", "--data-dir", str(tmp)]
    result = CliRunner().invoke(cli, [*base, "ingest", str(path)])
    assert result.exit_code == 0, result.output
    return base


def test_stats_and_lookup_tables_are_for_people(loaded: list[str]) -> None:
    stats = CliRunner().invoke(cli, [*loaded, "stats"]).stdout
    assert "/32s" in stats or "/48s" in stats
    assert not any(len(word) > 20 and word.isdigit() for word in stats.split())
    lookup = CliRunner().invoke(cli, [*loaded, "lookup", "196.0.0.0/8"]).stdout
    assert "(South Africa)" in lookup or "(Kenya)" in lookup or "(Nigeria)" in lookup


def test_emoji_codes_in_quoted_lines_print_as_they_are(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text(
        "2|afrinic|20181013|1|19830705|20181012|+0100\nafrinic|ZA|ipv4|:x:|256|20100101|allocated\n"
    )
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "ingest", str(bad)])
    assert result.exit_code == 1
    assert ":x:" in result.stderr and "\u274c" not in result.stderr


def test_a_closed_pipe_is_not_an_error(loaded: list[str]) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "rirport", *loaded, "export", "--format", "csv"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith(b"registry,")
    proc.stdout.close()  # as `| head -1` does
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 0, err
    assert b"Traceback" not in err


def test_an_unusable_data_dir_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(cli, ["--data-dir", str(blocker / "data"), "stats"])
    assert result.exit_code == 2
    assert "cannot create the store's folder" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
