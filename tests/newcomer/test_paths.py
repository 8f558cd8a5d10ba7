"""Issue 11 #1: paths as people type them (``..``, ``~/.local/…``) are expanded, not skipped.

Hidden entries are skipped only by their own name inside a folder being expanded; a path that
yields no file is an error naming it (CLI: non-zero exit), for ``ingest`` and
``journal replay --files`` alike (both go through :func:`expand_paths`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from rirport.cli.main import cli
from rirport.errors import ParseError
from rirport.services.registry.ingest import expand_paths
from tests.excerpts import excerpt, real_file


def _tree(root: Path) -> Path:
    """``root/.hidden-parent/data/{a.txt,.b.txt,.git/c.txt,sub/d.txt}``."""
    data = root / ".hidden-parent" / "data"
    (data / ".git").mkdir(parents=True)
    (data / "sub").mkdir()
    for name in ("a.txt", ".b.txt", ".git/c.txt", "sub/d.txt"):
        (data / name).write_text("x")
    return data


def test_hidden_components_of_the_given_path_do_not_hide_its_files(tmp_path: Path) -> None:
    data = _tree(tmp_path)
    found = expand_paths([data])
    assert [p.relative_to(data).as_posix() for p in found] == ["a.txt", "sub/d.txt"]


def test_dot_dot_paths_expand(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _tree(tmp_path)
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    found = expand_paths(["../.hidden-parent/data"])
    assert len(found) == 2
    assert expand_paths(["../.hidden-parent/data/.b.txt"]) == [
        Path("../.hidden-parent/data/.b.txt")
    ]


def test_a_folder_without_files_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "empty" / ".only-hidden").mkdir(parents=True)
    (tmp_path / "empty" / ".only-hidden" / "f").write_text("x")
    with pytest.raises(ParseError, match="empty"):
        expand_paths([tmp_path / "empty"])


def test_cli_ingest_through_a_dotted_path_stores_and_empty_folder_fails(tmp_path: Path) -> None:
    folder = tmp_path / ".local" / "files"
    folder.mkdir(parents=True)
    (folder / "ripencc.txt").write_bytes(excerpt(real_file("ripencc"), lambda i, _f: i % 500 == 0))
    (tmp_path / "nothing").mkdir()
    base = ["--db", f"sqlite:///{tmp_path / 's.sqlite'}", "--data-dir", str(tmp_path / "d")]
    old = os.getcwd()
    os.chdir(folder)
    try:
        ok = CliRunner().invoke(cli, [*base, "ingest", "../../.local/files"])
        bad = CliRunner().invoke(cli, [*base, "ingest", str(tmp_path / "nothing")])
        journal = tmp_path / "j.jsonl"
        export = CliRunner().invoke(cli, [*base, "journal", "export", "-o", str(journal)])
        other = ["--db", f"sqlite:///{tmp_path / 'o.sqlite'}", "--data-dir", str(tmp_path / "e")]
        replay = CliRunner().invoke(
            cli, [*other, "journal", "replay", str(journal), "--files", "../../nothing"]
        )
        replayed = CliRunner().invoke(
            cli, [*other, "journal", "replay", str(journal), "--files", "../../.local"]
        )
    finally:
        os.chdir(old)
    assert ok.exit_code == 0, ok.output
    assert "stored" in ok.output and "as snapshot 1" in ok.output
    assert bad.exit_code == 1 and "nothing" in bad.output
    assert export.exit_code == 0, export.output
    assert replay.exit_code == 1 and "nothing" in replay.output, replay.output
    assert replayed.exit_code == 0, replayed.output
