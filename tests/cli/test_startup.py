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


def test_a_lookup_without_variables_imports_no_pydantic(filled_store_with_cache: Path) -> None:
    """The settings are the declared defaults and the options: nothing to validate."""
    url = f"sqlite:///{filled_store_with_cache / 'rirport.sqlite'}"
    code = (
        "import sys\nfrom rirport.cli.main import main\n"
        f"sys.argv = ['rirport', '--db', {url!r}, '--data-dir', {str(filled_store_with_cache)!r},"
        " 'lookup', '193.0.0.1', '--format', 'json']\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert exc.code == 0, exc.code\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RIRPORT_")}
    loaded = _modules_after(code, env)
    assert "numpy" in loaded  # it did look up
    assert "pydantic" not in loaded
