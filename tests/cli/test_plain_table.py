"""The lookup table drawn without Rich (:mod:`rirport.cli.plain_table`) is, byte for byte,
the one Rich draws, over many real lookups; and it is drawn only where Rich would draw plain
text."""

from __future__ import annotations

import io
import ipaddress
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console

from rirport.cli import plain_table
from rirport.cli.lookup import TABLE_COLUMNS, _for_people
from rirport.cli.main import cli
from rirport.cli.output import print_table
from rirport.query.lookup import Lookup
from rirport.query.view import load_current
from rirport.services.registry.ingest import ingest_bytes
from rirport.store.unit import Store
from tests.excerpts import thinned

REGISTRIES = ("afrinic", "apnic", "arin", "lacnic", "ripencc")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data folder: every 401st record of the five real 2018 files, the cache written."""
    path = tmp_path_factory.mktemp("plain")
    store = Store(f"sqlite:///{path / 'rirport.sqlite'}")
    for registry in REGISTRIES:
        ingest_bytes(store, thinned(registry, 401, ("193.0.0.0", "3333")), registry)
    load_current(store, path / "cache")
    store.close()
    yield path


def _queries(folder: Path) -> list[str]:
    """One address or AS number in every delegation, a /8 or a run of AS numbers around
    every tenth (tables of several rows), and misses."""
    store = Store(f"sqlite:///{folder / 'rirport.sqlite'}")
    try:
        table = load_current(store).table
    finally:
        store.close()
    queries = ["10.0.0.1", "AS0", "2001:db8::1", "193.0.0.0/8", "AS1-AS70000", "holder:none"]
    for i in range(len(table)):
        row, last = table.row(i), table.last_int(i)
        if row.type.value == "asn":
            queries.append(f"AS{last}")
            if i % 10 == 0:
                queries.append(f"AS{last}-AS{last + 3000}")
        elif row.type.value == "ipv4":
            queries.append(str(ipaddress.IPv4Address(last)))
            if i % 10 == 0:
                queries.append(f"{last >> 24}.0.0.0/8")
        else:
            queries.append(str(ipaddress.IPv6Address(last)))
    return queries


def _table(folder: Path, query: str) -> str:
    url = f"sqlite:///{folder / 'rirport.sqlite'}"
    done = CliRunner().invoke(cli, ["--db", url, "--data-dir", str(folder), "lookup", query])
    assert done.exit_code == 0, done.output
    return done.stdout


def _printed(capsys: pytest.CaptureFixture[str], rows: list[dict[str, Any]], title: str) -> str:
    print_table(rows, TABLE_COLUMNS, title)
    return capsys.readouterr().out


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tables :func:`plain_table.render` drew (Rich's terminal switches unset)."""
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)
    render = plain_table.render
    drawn: list[str] = []

    def recording(*args: Any) -> str | None:
        text = render(*args)
        drawn.extend([text] if text is not None else [])
        return text

    monkeypatch.setattr(plain_table, "render", recording)
    return drawn


def test_the_lookup_table_is_the_one_rich_draws(
    folder: Path,
    recorded: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = Store(f"sqlite:///{folder / 'rirport.sqlite'}")
    try:
        lookup = Lookup(load_current(store))
    finally:
        store.close()
    queries = _queries(folder)
    assert len(queries) > 1000
    answers = []
    for query in queries:
        rows = [_for_people(m.to_json()) for m in lookup.find(query)]
        answers.append((rows, f"{query}: {len(rows)} match(es)"))
    plain = [_printed(capsys, rows, title) for rows, title in answers]
    assert len(recorded) > 0.95 * len(queries)  # nearly all were drawn without Rich
    assert any("Türkiye" in text for text in recorded)  # Latin letters beyond ASCII
    assert any(text.count("\n") > 12 for text in recorded)  # several rows
    monkeypatch.setattr(plain_table, "render", lambda *args: None)  # Rich draws every one
    for (rows, title), text in zip(answers, plain, strict=True):
        assert text == _printed(capsys, rows, title), title


def test_the_command_prints_what_rich_printed(
    folder: Path, recorded: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole way, for a few: the point lookups read from the cache, title and all."""
    queries = _queries(folder)[::25]
    plain = [_table(folder, q) for q in queries]
    assert len(recorded) == len(queries)
    monkeypatch.setattr(plain_table, "render", lambda *args: None)
    for query, text in zip(queries, plain, strict=True):
        assert text == _table(folder, query), query


@pytest.mark.parametrize(
    ("title", "cell"),
    [
        ("ok", "[red]x"),  # markup
        ("ok", "back\\slash"),
        ("ok", "日本"),  # two cells wide
        ("ok", "e\u0301"),  # a combining accent
        ("ok", "tab\there"),
        ("a  spaced title", "x"),  # Rich respaces it
        ("t" * 200, "x"),  # longer than the table: Rich wraps it
    ],
)
def test_what_it_does_not_draw_is_left_to_rich(title: str, cell: str) -> None:
    assert plain_table.render([[cell, "y"]], ["a", "b"], title) is None
    assert plain_table.render([["x", "y"]], ["a", "b"], "ok") is not None


def test_a_title_or_cell_with_markup_prints_as_it_is(
    recorded: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Rich draws these (the plain renderer declines markup), as text, brackets and all."""
    print_table([{"a": "[red]x", "b": "y" * 40}], ["a", "b"], "[bold]policy[/bold] \\[v1]")
    out = capsys.readouterr().out
    assert recorded == []
    assert "[bold]policy[/bold] \\[v1]" in out and "[red]x" in out


class _Stream(io.StringIO):
    def __init__(self, tty: bool | None, encoding: str = "utf-8") -> None:
        super().__init__()
        self.tty, self._encoding = tty, encoding

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._encoding

    def isatty(self) -> bool:
        if self.tty is None:
            raise ValueError("I/O operation on closed file")
        return self.tty


ENVIRONMENTS: list[dict[str, str]] = [
    {},
    {"FORCE_COLOR": "1"},
    {"FORCE_COLOR": ""},
    {"TTY_COMPATIBLE": "0", "FORCE_COLOR": "1"},
    {"TTY_COMPATIBLE": "1"},
    {"TTY_COMPATIBLE": "2"},
    {"NO_COLOR": "1", "COLUMNS": "40", "TERM": "dumb"},
]


@pytest.mark.parametrize("environ", ENVIRONMENTS)
@pytest.mark.parametrize("tty", [True, False, None])
def test_it_sees_a_terminal_where_rich_does(environ: dict[str, str], tty: bool | None) -> None:
    stream = _Stream(tty)
    rich_says = Console(file=stream, _environ=environ).is_terminal
    assert plain_table.rich_sees_a_terminal(stream, environ) == rich_says
    assert plain_table.usable(stream, environ) == (not rich_says)


def test_a_stream_without_utf8_gets_richs_ascii_box() -> None:
    assert not plain_table.usable(_Stream(False, "latin-1"), {})
    assert plain_table.usable(_Stream(False, "UTF-8"), {})


def test_a_real_terminal_is_left_to_rich() -> None:
    leader, follower = os.openpty()
    try:
        with open(follower, "w", encoding="utf-8", closefd=False) as tty:
            assert not plain_table.usable(tty, {})
    finally:
        os.close(leader)
        os.close(follower)
