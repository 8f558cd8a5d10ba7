"""``rirport export``: statistics files, the NRO combined file, CSV, JSON, NDJSON, Parquet."""

from __future__ import annotations

import io
import os
import secrets
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import click

from rirport.cli.context import AppContext, pass_app
from rirport.domain.enums import Registry
from rirport.errors import InputError
from rirport.query.view import CurrentView
from rirport.services.registry.export import (
    FORMATS,
    iter_combined,
    iter_snapshot,
    narrow_view,
    snapshot_view,
    write_parquet,
    write_table,
)

Writer = Callable[[TextIO], None]


def _parse_registry(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> Registry | None:
    """Accept the spellings :meth:`Registry.parse` does; a bad name is a usage error."""
    if value is None:
        return None
    try:
        return Registry.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    required=True,
    help="stats: one registry's statistics file as published; combined: the NRO "
    "combined layout; csv/json/ndjson/parquet: one row per delegation.",
)
@click.option(
    "--registry",
    callback=_parse_registry,
    metavar="RIR",
    help="Only this registry (its current snapshot).",
)
@click.option(
    "--snapshot",
    "snapshot_id",
    type=click.IntRange(min=1),
    metavar="ID",
    help="A stored snapshot by id, current or not (see `rirport ingest`).",
)
@click.option(
    "--as-published",
    is_flag=True,
    help="With --format stats: the file as it was "
    "ingested, not the registry as it stands after transfers.",
)
@click.option(
    "--output",
    "-o",
    default="-",
    show_default=True,
    metavar="FILE",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Write here (atomically: a temporary file, then a rename); '-' is stdout.",
)
@pass_app
def command(
    app: AppContext,
    fmt: str,
    registry: Registry | None,
    snapshot_id: int | None,
    as_published: bool,
    output: Path,
) -> None:
    """Export the store: the current view of every registry (newest snapshot of each), one
    registry, or one snapshot.

    `--format stats` regenerates a registry's statistics file as it stands after transfers
    (`--as-published`: as ingested); for an unchanged file it is byte-identical to the
    original. It needs --registry or --snapshot. `--format parquet`
    needs --output.
    """
    to_stdout = str(output) == "-"
    if fmt == "stats":
        if registry is None and snapshot_id is None:
            raise click.UsageError(
                "--format stats writes one registry's file: give --registry or --snapshot"
            )
        chunks = iter_snapshot(
            app.store, snapshot_id, registry, "original" if as_published else "current"
        )
        _write_text(output, lambda out: out.writelines(chunks))
        return
    if fmt == "parquet" and to_stdout:
        raise click.UsageError("Parquet is a binary file format: give --output FILE")
    view = _selection(app, registry, snapshot_id)
    if fmt == "parquet":
        with _atomic_path(output) as tmp:
            write_parquet(view, tmp)
        _report(output)
    elif fmt == "combined":
        lines = iter_combined(view)
        _write_text(output, lambda out: out.writelines(lines))
    else:
        _write_text(output, lambda out: write_table(view, fmt, out))


def _selection(app: AppContext, registry: Registry | None, snapshot_id: int | None) -> CurrentView:
    """The rows to export: one snapshot, or the current view narrowed to a registry."""
    if snapshot_id is not None:
        return snapshot_view(app.store, snapshot_id, registry)
    return narrow_view(app.current_view(), registry)


def _write_text(output: Path, write: Writer) -> None:
    """Run ``write`` on UTF-8 text with ``\\n`` line ends, to stdout or atomically to a file."""
    if str(output) == "-":
        _write_stdout(write)
        return
    with _atomic_path(output) as tmp, tmp.open("w", encoding="utf-8", newline="") as out:
        write(out)
    _report(output)


def _write_stdout(write: Writer) -> None:
    """Write UTF-8 with ``\\n`` line ends to stdout's bytes whatever the terminal's encoding
    (a statistics file must come out as it went in); a stdout without a byte buffer gets the
    text as it is."""
    binary = getattr(sys.stdout, "buffer", None)
    if binary is None:
        write(sys.stdout)
        return
    sys.stdout.flush()
    stream = io.TextIOWrapper(binary, encoding="utf-8", newline="")
    try:
        write(stream)
        stream.flush()
    finally:
        stream.detach()


@contextmanager
def _atomic_path(target: Path) -> Iterator[Path]:
    """A fresh temporary path beside ``target``, renamed onto it when the block succeeds and
    removed when it fails: readers never see a half-written export, and a failed export
    leaves the previous file in place.

    The temporary file is created here (exclusive, so the umask applies as for any new file)
    and is a dot-file, so a folder watcher ignores it.

    Raises:
        InputError: the file cannot be created or written (no such folder, no permission,
            disk full).
    """
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        tmp.open("x").close()
    except OSError as exc:
        raise InputError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        yield tmp
        tmp.replace(target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write {target}: {exc.strerror or exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _report(output: Path) -> None:
    click.echo(f"wrote {output} ({output.stat().st_size:,} bytes)", err=True)
