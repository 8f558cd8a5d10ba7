"""Issue 11 #2: each setting declared once; options, server configuration and docs derived.

Checks that every ``RIRPORT_*`` name the docs, scripts and code mention is declared in
:mod:`rirport.config`, that docs/settings.md is what ``rirport settings --format markdown``
prints, that the documented variables work (``RIRPORT_DEMO_NO_SERVE``,
``RIRPORT_SESSION_SECRET_FILE``), and that the serve options are the declarations.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from rirport.cli.main import cli
from rirport.config import ServeSettings, declared, env_names, settings_markdown
from tests.paths import ROOT

NAME = re.compile(r"RIRPORT_[A-Z0-9_]+")


def _mentioned() -> dict[str, set[str]]:
    """Every RIRPORT_ name in README.md, docs/, scripts/ and src/, with the files naming it."""
    files = [ROOT / "README.md", *(ROOT / "docs").rglob("*.md"), *(ROOT / "scripts").iterdir()]
    files += [p for p in (ROOT / "src").rglob("*") if p.suffix in (".py", ".md", ".toml")]
    found: dict[str, set[str]] = {}
    for path in files:
        if path.is_file():
            for name in NAME.findall(path.read_text(encoding="utf-8", errors="replace")):
                found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return found


def _declared(name: str) -> bool:
    """Declared as such, or the stem of a declared family (``RIRPORT_SYNC_URL_<RIR>``)."""
    families = [d.env.split("<")[0] for d in declared() if d.env and "<" in d.env]
    return name in env_names() or name in families


def test_every_rirport_name_in_docs_scripts_and_code_is_declared() -> None:
    mentioned = _mentioned()
    assert "RIRPORT_DATA_DIR" in mentioned  # the scan reads the files
    stray = {name: sorted(where) for name, where in mentioned.items() if not _declared(name)}
    assert stray == {}


def test_settings_doc_is_generated_from_the_declarations() -> None:
    doc = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert doc == settings_markdown(), "regenerate: rirport settings --format markdown"
    printed = CliRunner().invoke(cli, ["settings", "--format", "markdown"])
    assert printed.exit_code == 0 and printed.output == doc
    for d in declared():
        assert f"`{d.env}`" in doc


def test_documented_script_variable_is_accepted(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--data-dir", str(tmp_path), "settings"], env={"RIRPORT_DEMO_NO_SERVE": "1"}
    )
    assert result.exit_code == 0, result.output


def test_session_secret_file_variable_reaches_serve(tmp_path: Path) -> None:
    short = tmp_path / "short"
    short.write_text("too short")
    env = {"RIRPORT_SESSION_SECRET_FILE": str(short)}
    other = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "settings"], env=env)
    assert other.exit_code == 0, other.output  # not "not a rirport setting"
    served = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "serve"], env=env)
    assert served.exit_code == 2 and "at least 32 characters" in served.output


def test_serve_options_are_derived_from_the_declarations() -> None:
    text = CliRunner().invoke(cli, ["serve", "--help"], terminal_width=200).output
    for d in declared(ServeSettings):
        assert d.cli and d.cli.split("/")[0] in text
        assert d.env and d.env in text


@pytest.mark.parametrize("variable, value", [("RIRPORT_PORT", "eighty"), ("RIRPORT_WORKERS", "0")])
def test_a_bad_serve_variable_is_a_usage_error_naming_it(
    tmp_path: Path, variable: str, value: str
) -> None:
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "serve"], env={variable: value})
    assert result.exit_code == 2 and variable in result.output


def test_a_misspelt_variable_still_fails(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--data-dir", str(tmp_path), "settings"], env={"RIRPORT_DATADIR": "/x"}
    )
    assert result.exit_code == 2 and "RIRPORT_DATADIR is not a rirport setting" in result.output
