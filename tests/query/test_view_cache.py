"""The view cache: a command answers from it only while the store is in the state it was
written for; any write (an ingest, a transfer) moves the store's head and the next command
reads the new state; a cache of another store, or a damaged one, is never trusted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from rirport.cli.main import cli
from rirport.domain.enums import Registry
from rirport.query.lookup import Lookup
from rirport.query.view import cached_current, load_current
from rirport.services.registry.ingest import ingest_bytes
from rirport.store.peek import peek
from rirport.store.unit import Store
from tests.excerpts import excerpt, real_file
from tests.http.conftest import MOVED, move

RIPE = ("193.0.0.0", "193.0.16.0", "3333")


def _keep(index: int, fields: list[str]) -> bool:
    return index < 20 or fields[3] in RIPE


def _ingest(store: Store, registry: str, year: str) -> None:
    raw = excerpt(real_file(registry, year), _keep if registry == "ripencc" else 20)
    ingest_bytes(store, raw, f"{registry}-{year}-excerpt")


def _lookup(url: str, data_dir: Path, query: str) -> list[dict[str, Any]]:
    done = CliRunner().invoke(
        cli, ["--db", url, "--data-dir", str(data_dir), "lookup", query, "--format", "json"]
    )
    assert done.exit_code == 0, done.output
    answer: list[dict[str, Any]] = json.loads(done.output)
    return answer


def _truth(store: Store, query: str) -> list[dict[str, Any]]:
    """The answer read from the store itself (no cache)."""
    return [m.to_json() for m in Lookup(load_current(store)).find(query)]


@pytest.fixture
def store(tmp_path: Path) -> Any:
    opened = Store(f"sqlite:///{tmp_path / 'rirport.sqlite'}")
    yield opened
    opened.close()


def test_every_write_shows_in_the_next_lookup(store: Store, tmp_path: Path) -> None:
    url, cache = store.url, tmp_path / "cache"
    _ingest(store, "ripencc", "2017")
    assert cached_current(url, cache) is None  # nothing cached yet
    first = _lookup(url, tmp_path, "193.0.16.1")
    assert first == _truth(store, "193.0.16.1")
    cached = cached_current(url, cache)
    assert cached is not None  # the lookup wrote it; the next one reads only it
    assert _lookup(url, tmp_path, "193.0.16.1") == first

    _ingest(store, "ripencc", "2018")  # a new file
    assert cached_current(url, cache) is None  # the head moved: the old cache is not used
    second = _lookup(url, tmp_path, "193.0.16.1")
    assert second == _truth(store, "193.0.16.1")
    assert second[0]["source"]["file"] != first[0]["source"]["file"]

    _ingest(store, "arin", "2018")
    move(store, MOVED, Registry.ARIN)  # a completed transfer
    assert cached_current(url, cache) is None
    third = _lookup(url, tmp_path, "193.0.16.1")
    assert third == _truth(store, "193.0.16.1")
    assert third[0]["registry"] == "arin"
    assert _lookup(url, tmp_path, "193.0.16.1") == third
    assert len(list(cache.iterdir())) == 1  # older generations were dropped


def test_a_cache_of_another_store_at_the_same_place_is_not_used(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rirport.sqlite'}"
    cache = tmp_path / "cache"
    first = Store(url)
    _ingest(first, "ripencc", "2018")
    load_current(first, cache)
    generation = load_current(first, cache).generation
    first.close()
    (tmp_path / "rirport.sqlite").unlink()
    second = Store(url)  # a new store where the old one was, at the same generation
    try:
        _ingest(second, "afrinic", "2018")
        assert load_current(second).generation == generation
        assert cached_current(url, cache) is None
        assert [s.registry for s in load_current(second, cache).snapshots] == ["afrinic"]
        view = cached_current(url, cache)
        assert view is not None and [s.registry for s in view.snapshots] == ["afrinic"]
    finally:
        second.close()


@pytest.mark.parametrize("damage", ["truncate", "meta", "missing", "shape"])
def test_a_damaged_cache_is_rebuilt(store: Store, tmp_path: Path, damage: str) -> None:
    cache = tmp_path / "cache"
    _ingest(store, "ripencc", "2018")
    expected = _truth(store, "193.0.0.1")
    load_current(store, cache)
    (folder,) = cache.iterdir()
    column = folder / "first_lo.npy"
    if damage == "truncate":
        column.write_bytes(column.read_bytes()[:-8])
    elif damage == "meta":
        (folder / "meta.json").write_text("{not json")
    elif damage == "missing":
        (folder / "ipv4.bounds.npy").unlink()
    else:
        meta = json.loads((folder / "meta.json").read_text())
        meta["arrays"]["line"][1] += 1
        (folder / "meta.json").write_text(json.dumps(meta))
    assert cached_current(store.url, cache) is None
    assert not folder.exists()  # removed, not trusted
    assert _lookup(store.url, tmp_path, "193.0.0.1") == expected  # rebuilt from the store
    assert cached_current(store.url, cache) is not None


def test_the_cached_view_answers_as_the_store_does(store: Store, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    for registry in ("ripencc", "arin", "apnic"):
        _ingest(store, registry, "2018")
    fresh = Lookup(load_current(store))
    load_current(store, cache)
    view = cached_current(store.url, cache)
    assert view is not None and view.indexes is not None
    mapped = Lookup(view)
    for query in ("193.0.0.1", "193.0.0.0/8", "3333", "AS1-AS5000", "2001::/16", "0.0.0.0/0"):
        assert [m.to_json() for m in mapped.find(query)] == [
            m.to_json() for m in fresh.find(query)
        ], query


def test_peek_reads_the_head_the_store_reads(store: Store) -> None:
    assert peek(store.url) is not None
    _ingest(store, "ripencc", "2018")
    with store.read() as uow:
        head = uow.meta.head()
    assert peek(store.url) == head
    assert head.generation > 0 and len(head.journal_hash) == 64 and head.revision
    assert peek("postgresql://127.0.0.1/x") is None
    assert peek("sqlite:///" + str(Path(store.url[len("sqlite:///") :]).parent / "no")) is None


def test_a_lookup_from_the_cache_imports_no_database_layer(store: Store, tmp_path: Path) -> None:
    _ingest(store, "ripencc", "2018")
    load_current(store, tmp_path / "cache")
    argv = ["rirport", "--db", store.url, "--data-dir", str(tmp_path), "lookup", "193.0.0.1"]
    script = (
        f"import sys\nsys.argv = {argv!r}\nfrom rirport.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "print('MODULES', ' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    assert "193.0.0.0/20" in done.stdout
    loaded = set(done.stdout.split("MODULES", 1)[1].split())
    assert not loaded & {"sqlalchemy", "alembic", "pyarrow"}, loaded
