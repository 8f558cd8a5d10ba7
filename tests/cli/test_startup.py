"""Commands import only what they use: ``rirport --version`` loads no database, table,
terminal or hashing library, and importing the password module hashes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import rirport
from rirport.store.unit import Store
from tests.paths import ROOT

HEAVY = ("sqlalchemy", "alembic", "pyarrow", "rich", "argon2", "numpy", "fastapi", "starlette")


def _modules_after(code: str, env: dict[str, str] | None = None) -> set[str]:
    """Top-level packages imported by a fresh interpreter running ``code``."""
    script = (
        f"{code}\nimport sys\n"
        "print('\\nmodules:', ' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=env,
    )
    return set(done.stdout.rsplit("\nmodules:", 1)[1].split())


def test_version_imports_nothing_heavy() -> None:
    code = (
        "import sys\nfrom rirport.cli.main import cli\n"
        "try:\n    cli(['--version'])\nexcept SystemExit as exc:\n    assert exc.code == 0\n"
    )
    loaded = _modules_after(code)
    assert "click" in loaded
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_version_is_the_packages() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rirport", "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip().endswith(f"rirport, version {rirport.__version__}")
    from importlib.metadata import version

    assert version("rirport") == rirport.__version__


def test_help_still_lists_every_command() -> None:
    from rirport.cli.main import COMMANDS

    done = subprocess.run(
        [sys.executable, "-m", "rirport", "--help"], capture_output=True, text=True, check=True
    )
    commands = done.stdout.split("Commands:")[1].splitlines()
    assert {line.split()[0] for line in commands if line.strip()} == set(COMMANDS)


def test_importing_the_password_module_hashes_nothing() -> None:
    code = (
        "import argon2\ncalls = []\noriginal = argon2.PasswordHasher.hash\n"
        "def counted(self, p, **k):\n    calls.append(p)\n    return original(self, p, **k)\n"
        "argon2.PasswordHasher.hash = counted\n"
        "import rirport.accounts.passwords as pw\nassert calls == [], calls\n"
        "assert not pw.verify_password(None, 'whatever password')\nassert len(calls) == 1\n"
    )
    _modules_after(code)


def test_head_revision_is_alembics() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from rirport.store.engine import MIGRATIONS, head_revision

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()


def test_a_store_at_the_newest_revision_opens_without_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    Store(url).close()  # created and migrated: alembic ran
    loaded = _modules_after(f"from rirport.store.unit import Store\nStore({url!r}).close()")
    assert "sqlalchemy" in loaded
    assert "alembic" not in loaded


@pytest.fixture
def filled_store_with_cache(tmp_path: Path) -> Path:
    """A data folder holding a store with the RIPE NCC excerpt and its view cache written."""
    from rirport.query.view import load_current
    from rirport.services.registry.ingest import ingest_path

    store = Store(f"sqlite:///{tmp_path / 'rirport.sqlite'}")
    try:
        ingest_path(store, ROOT / "tests" / "data" / "excerpts" / "ripencc-2018-excerpt.txt")
        load_current(store, tmp_path / "cache")
    finally:
        store.close()
    return tmp_path


def _lookup_modules(folder: Path, *args: str) -> tuple[set[str], str]:
    """The top-level packages a ``rirport lookup`` of the store in ``folder`` imported, run
    as the console script runs it (no ``RIRPORT_*`` variable set), and what it printed."""
    url = f"sqlite:///{folder / 'rirport.sqlite'}"
    argv = ["rirport", "--db", url, "--data-dir", str(folder), "lookup", *args]
    code = (
        f"import sys\nfrom rirport.cli.main import main\nsys.argv = {argv!r}\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
    )
    script = (
        f"{code}\nimport sys\n"
        "print('\\nmodules:', ' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RIRPORT_")}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env
    )
    printed, modules = done.stdout.rsplit("\nmodules:", 1)
    return set(modules.split()), printed


def test_a_lookup_without_variables_imports_no_pydantic(filled_store_with_cache: Path) -> None:
    """The settings are the declared defaults and the options: nothing to validate."""
    loaded, printed = _lookup_modules(filled_store_with_cache, "2.0.0.0/8", "--format", "json")
    assert '"2.16.0.0"' in printed
    assert "numpy" in loaded  # a prefix: the index answered
    assert "pydantic" not in loaded


@pytest.mark.parametrize("query", ["2.16.0.1", "AS7", "2001:610::1", "10.0.0.1"])
def test_a_point_lookup_from_the_cache_imports_neither_numpy_nor_rich(
    filled_store_with_cache: Path, query: str
) -> None:
    """One address or AS number is read from the mapped cache with the standard library, and
    the table (stdout is a pipe here) drawn without Rich."""
    loaded, printed = _lookup_modules(filled_store_with_cache, query)
    assert f"{query}: " in printed and "┏" in printed
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
    assert "pydantic" not in loaded


def test_without_its_cache_a_point_lookup_takes_the_index(filled_store_with_cache: Path) -> None:
    import shutil

    shutil.rmtree(filled_store_with_cache / "cache")
    loaded, printed = _lookup_modules(filled_store_with_cache, "2.16.0.1", "--format", "json")
    assert '"2.16.0.0"' in printed
    assert "numpy" in loaded and "sqlalchemy" in loaded  # read from the store and cached
    loaded, _ = _lookup_modules(filled_store_with_cache, "2.16.0.1", "--format", "json")
    assert "numpy" not in loaded  # the cache it wrote answers the next one
