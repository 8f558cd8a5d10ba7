"""Ingesting statistics files: read, validate, and store each file in one transaction.

A file with any bad line is refused whole (every error listed, capped) unless the caller asks
to skip bad lines; a file whose version line or summaries disagree with its records, or that is
truncated, is always refused. Re-ingesting a file already stored changes nothing and says so.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Literal

from rirport.domain.events import Event
from rirport.domain.narrowed import Previous
from rirport.domain.table import DelegationTable
from rirport.errors import (
    ConflictError,
    FileRejectedError,
    InputError,
    ParseError,
    StorageError,
)
from rirport.formats.source import SourceFile, read_source, source_from_bytes
from rirport.formats.statsfile import StatsFile, name_mismatches, read_stats
from rirport.query.integrity import repeated_in_file
from rirport.services.audit import journal
from rirport.services.monitoring import events
from rirport.services.registry import versioning
from rirport.services.registry.collection import paused_collection
from rirport.services.transparency.state import ingest_hint as state_hint
from rirport.store.bulk import DelegationRows, delegation_rows
from rirport.store.head import FileLines
from rirport.store.repos.snapshots import SnapshotRow
from rirport.store.unit import Store, UnitOfWork

MAX_LISTED_ERRORS = 20
DEFAULT_ACTOR = "rirport"
PREFETCH = 2
Outcome = Literal["ingested", "unchanged"]


@dataclass
class IngestResult:
    """What happened to one file."""

    source: str
    outcome: Outcome
    snapshot_id: int
    registry: str
    snapshot_date: dt.date
    records: int
    skipped: list[ParseError] = field(default_factory=list)
    events: int | None = None
    """Change events recorded by this ingest (None: not computed, ``--no-events``)."""
    slotted_before: dt.date | None = None
    """The date of the registry's next newer snapshot, when this file is older than it."""
    warnings: list[str] = field(default_factory=list)
    """Gaps around the new snapshot, a header trusted over the file's name."""

    @property
    def message(self) -> str:
        if self.outcome == "unchanged":
            return (
                f"{self.source}: already stored as snapshot {self.snapshot_id} "
                f"({self.registry} {self.snapshot_date}); nothing changed"
            )
        text = (
            f"{self.source}: stored {self.records} records as snapshot {self.snapshot_id} "
            f"({self.registry} {self.snapshot_date})"
        )
        if self.slotted_before is not None:
            text += f", slotted in before {self.slotted_before} as history"
        if self.events is not None:
            text += f", {self.events} event(s)"
        if self.skipped:
            text += f", skipped {len(self.skipped)} bad line(s)"
        return text


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, and the files inside folders named (recursively, sorted).

    Inside a folder, entries whose own name starts with "." are skipped (and what is under
    a hidden folder); the path as given is never judged by its components, so ``..``,
    ``./x`` and ``~/.local/...`` work. A path that yields no file at all is an error: a
    command given paths that store nothing should say so rather than succeed quietly.

    Raises:
        ParseError: a path does not exist, or is a folder holding no (visible) file.
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            inside = sorted(
                p for p in path.rglob("*") if p.is_file() and not _hidden(p.relative_to(path))
            )
            if not inside:
                raise ParseError(str(path), None, "folder holds no file (hidden files skipped)")
            found += inside
        elif path.exists():
            found.append(path)
        else:
            raise ParseError(str(path), None, "no such file or folder")
    return found


def _hidden(relative: Path) -> bool:
    """Whether an entry found inside a folder is hidden by its own name or a parent's."""
    return any(part.startswith(".") for part in relative.parts)


@dataclass
class PreparedFile:
    """A file read, validated and turned into rows, not yet stored."""

    source: SourceFile
    stats: StatsFile
    rows: DelegationRows
    source_url: str | None = None
    warnings: list[str] = field(default_factory=list)


@paused_collection
def prepare_source(
    source: SourceFile,
    *,
    skip_bad_lines: bool = False,
    source_url: str | None = None,
    trust_header: bool = False,
    check_name: bool = True,
) -> PreparedFile:
    """Read and validate a file and build its rows; touches no database.

    A version line whose registry or date disagrees with the file's name (or the registry
    folder it is in) refuses the file, unless ``trust_header`` (then it is a warning);
    ``check_name=False`` skips that check (sync checks the registry against its URL itself).

    Raises:
        ParseError: the file cannot be read as a statistics file at all.
        FileRejectedError: the file has errors.
    """
    stats = read_stats(source.data, source.name, checked=True)  # read_source checked it
    mismatches = name_mismatches(stats, source.name) if check_name else []
    if not trust_header:
        stats.file_errors += [
            ParseError(
                m.source,
                m.line,
                f"{m.reason} (--trust-header to store it as the version line says)",
            )
            for m in mismatches
        ]
    ensure_acceptable(stats, skip_bad_lines)
    lines = _file_lines(source, stats)  # texts decoded for the rows stored
    rows = delegation_rows(stats.table, lines, lines.prints())
    warnings = [f"{m}; stored as the version line says" for m in mismatches]
    warnings += repeated_in_file(stats.table, source.name)  # as `check` will say later
    return PreparedFile(source, stats, rows, source_url, warnings)


def _file_lines(source: SourceFile, stats: StatsFile) -> FileLines:
    """The lines of the file's records, located from its parse when it kept them."""
    spans = stats.spans
    if spans is None:
        return FileLines.of(source.data, stats.table.line)
    return FileLines.of_spans(spans.data, spans.starts, spans.ends, stats.table.line)


@paused_collection
def store_prepared(
    store: Store,
    prepared: PreparedFile,
    actor: str = DEFAULT_ACTOR,
    *,
    created_at: str | None = None,
    record_events: bool = True,
) -> IngestResult:
    """Store a prepared file in one transaction (or find it already stored), journaled
    (``created_at``: the journal entry's time, for replay only), with the change events it
    brings and their webhook deliveries
    (:func:`~rirport.services.monitoring.events.events_for_ingest`)
    unless ``record_events`` is false (bulk loads of history). A file older than the
    registry's newest snapshot slots in as history; a gap of more than a month to a
    neighbouring snapshot is a warning. Both are said in the result and the journal entry.

    Raises:
        ConflictError: a different file for the same registry and date is already stored.
    """
    stats, source = prepared.stats, prepared.source
    with store.transaction() as uow:
        existing = uow.snapshots.find_content(stats.header.registry, source.content_sha256)
        if existing is not None:
            return IngestResult(
                source.name,
                "unchanged",
                existing.id,
                existing.registry,
                existing.snapshot_date,
                existing.records,
            )
        _refuse_conflicting(uow, stats, source)
        snapshot_id = uow.snapshots.add(snapshot_values(stats, source, prepared.source_url))
        snap = uow.snapshots.get(snapshot_id)
        assert snap is not None
        stored = versioning.store_versions(uow, snap, prepared.rows, stats.table)
        place = versioning.placement(uow, snap)
        warnings = prepared.warnings + place.warnings()
        found = (
            events.events_for_ingest(uow, snap, stats.table, _previous(stats, stored))
            if record_events
            else None
        )
        if place.slotted_before is None:  # the new current snapshot: its records, for the log
            uow.state_hints[f"delegations {snap.registry}"] = state_hint(
                prepared.rows, stored.kept, stored.gone
            )
        journal.append(
            uow,
            actor,
            "ingest",
            _payload(prepared, snap, place, warnings, found),
            created_at=created_at,
        )
    store.refresh_statistics("delegation", stored.fresh)  # the next transfer plans with them
    return IngestResult(
        source.name,
        "ingested",
        snapshot_id,
        stats.header.registry,
        stats.header.snapshot_date(),
        len(stats.table),
        stats.errors,
        None if found is None else len(found),
        place.slotted_before,
        warnings,
    )


def _previous(stats: StatsFile, stored: versioning.Stored) -> Previous | None:
    """The registry's previous file, rebuilt from this one and the rows it lacks (an
    append over a kept head state only: after a transfer, its retired rows are not there)."""
    if stored.kept is None or stored.gone is None:
        return None
    return Previous(stats.table, stored.kept, stored.gone)


def _payload(
    prepared: PreparedFile,
    snap: SnapshotRow,
    place: versioning.Placement,
    warnings: list[str],
    found: list[Event] | None,
) -> dict[str, object]:
    """The journal entry of an ingest: keys beyond the first seven only when they apply, so
    a replay of an older journal reproduces its entries (``events``: recorded, and how many)."""
    stats, source = prepared.stats, prepared.source
    payload: dict[str, object] = {
        "snapshot": snap.id,
        "registry": snap.registry,
        "file": Path(source.name).name,
        "sha256": source.content_sha256,
        "snapshot_date": snap.snapshot_date.isoformat(),
        "records": len(stats.table),
        "skipped_lines": len(stats.errors),
        "source_url": prepared.source_url,
    }
    if place.slotted_before is not None:
        payload["slotted_before"] = place.slotted_before.isoformat()
    if warnings:
        payload["warnings"] = warnings
    if found is not None:
        payload["events"] = len(found)
    return payload


def ingest_path(
    store: Store,
    path: str | Path,
    *,
    skip_bad_lines: bool = False,
    source_url: str | None = None,
    actor: str = DEFAULT_ACTOR,
    options: IngestOptions | None = None,
) -> IngestResult:
    """Ingest one file from disk (plain, .gz, .xz or .bz2).

    Raises:
        ParseError: the file cannot be read as a statistics file at all.
        FileRejectedError: the file has errors; nothing was stored.
        ConflictError: a different file for the same registry and date is already stored.
    """
    return ingest_source(
        store,
        read_source(path),
        skip_bad_lines=skip_bad_lines,
        source_url=source_url,
        actor=actor,
        options=options,
    )


def ingest_bytes(
    store: Store,
    raw: bytes,
    name: str,
    *,
    skip_bad_lines: bool = False,
    source_url: str | None = None,
    actor: str = DEFAULT_ACTOR,
    options: IngestOptions | None = None,
) -> IngestResult:
    """As :func:`ingest_path`, for content already in memory (downloads, bundled data)."""
    return ingest_source(
        store,
        source_from_bytes(raw, name),
        skip_bad_lines=skip_bad_lines,
        source_url=source_url,
        actor=actor,
        options=options,
    )


@paused_collection
def ingest_source(
    store: Store,
    source: SourceFile,
    *,
    skip_bad_lines: bool = False,
    source_url: str | None = None,
    actor: str = DEFAULT_ACTOR,
    options: IngestOptions | None = None,
) -> IngestResult:
    """Validate and store a read file (see :func:`ingest_path`)."""
    opts = options or IngestOptions()
    prepared = prepare_source(
        source, skip_bad_lines=skip_bad_lines, source_url=source_url, trust_header=opts.trust_header
    )
    return store_prepared(store, prepared, actor, record_events=opts.events)


@dataclass(frozen=True)
class IngestOptions:
    """Choices of an ingest beyond bad lines: record change events (off for bulk loads of
    history), store a file whose version line disagrees with its name as the line says."""

    events: bool = True
    trust_header: bool = False


@dataclass(frozen=True)
class PendingFile:
    """A file to ingest: how to read it, and the URL it came from (if any)."""

    read: Callable[[], SourceFile]
    source_url: str | None = None


def ingest_many(
    store: Store,
    files: Iterable[PendingFile],
    *,
    skip_bad_lines: bool = False,
    actor: str = DEFAULT_ACTOR,
    options: IngestOptions | None = None,
) -> Iterator[IngestResult | InputError | ConflictError]:
    """Ingest files one transaction each, preparing the next file while this one is written.

    Reading and parsing happen in a worker thread (numpy releases the GIL for much of it),
    overlapping the database writes. A file that fails yields its error and the others go on.
    """
    opts = options or IngestOptions()

    def prepare(pending: PendingFile) -> PreparedFile | IngestResult | InputError:
        try:
            source = pending.read()
            known = _stored_or_none(store, source)
            if known is not None:  # skip parsing a file the store already holds
                return known
            return prepare_source(
                source,
                skip_bad_lines=skip_bad_lines,
                source_url=pending.source_url,
                trust_header=opts.trust_header,
            )
        except InputError as exc:
            return exc

    queue = iter(files)
    with ThreadPoolExecutor(max_workers=1) as pool:
        ahead = deque(pool.submit(prepare, item) for item in islice(queue, PREFETCH))
        while ahead:
            prepared = ahead.popleft().result()
            following = next(queue, None)
            if following is not None:  # keep at most PREFETCH files in memory
                ahead.append(pool.submit(prepare, following))
            if isinstance(prepared, InputError | IngestResult):
                yield prepared
                continue
            try:
                yield store_prepared(store, prepared, actor, record_events=opts.events)
            except ConflictError as exc:
                yield exc


def _stored_or_none(store: Store, source: SourceFile) -> IngestResult | None:
    """:func:`already_stored` for the read-ahead thread: a store that cannot answer now
    means "parse it" (storing checks again in its own transaction), never the end of the run.
    """
    try:
        return already_stored(store, source)
    except StorageError:
        return None


def already_stored(
    store: Store, source: SourceFile, registry: str | None = None
) -> IngestResult | None:
    """The stored snapshot with this content (of ``registry``, or of any), as "unchanged".

    Lets callers skip parsing a file the store already holds (a read: it never waits for a
    write in progress).
    """
    with store.read() as uow:
        if registry is None:
            existing = uow.snapshots.find_sha(source.content_sha256)
        else:
            existing = uow.snapshots.find_content(registry, source.content_sha256)
    if existing is None:
        return None
    return IngestResult(
        source.name,
        "unchanged",
        existing.id,
        existing.registry,
        existing.snapshot_date,
        existing.records,
    )


def ensure_acceptable(stats: StatsFile, skip_bad_lines: bool) -> None:
    """Raise unless the file may be stored.

    Raises:
        FileRejectedError: file-level errors (always), or bad lines without ``skip_bad_lines``.
    """
    if stats.file_errors or (stats.errors and not skip_bad_lines):
        errors = stats.file_errors + stats.errors
        raise FileRejectedError(
            stats.source, errors[:MAX_LISTED_ERRORS], total=len(errors), cap=MAX_LISTED_ERRORS
        )


def _refuse_conflicting(uow: UnitOfWork, stats: StatsFile, source: SourceFile) -> None:
    """Two files claiming one registry and date with different content: keep the first,
    refuse the second naming both, so nobody has to guess which one the store holds."""
    date = stats.header.snapshot_date()
    for other in uow.snapshots.find_dated(stats.header.registry, date):
        raise ConflictError(
            f"{source.name}: {stats.header.registry} already has a different snapshot dated "
            f"{date}: snapshot {other.id} from {other.file_name} (content sha256 "
            f"{other.content_sha256[:12]}…), this file's content sha256 "
            f"{source.content_sha256[:12]}…; nothing was stored; check which file is right"
        )


def snapshot_values(
    stats: StatsFile, source: SourceFile, source_url: str | None
) -> dict[str, object]:
    header = stats.header
    return {
        "registry": header.registry,
        "snapshot_date": header.snapshot_date(),
        "file_name": Path(source.name).name,
        "source_url": source_url,
        "file_sha256": source.file_sha256,
        "content_sha256": source.content_sha256,
        "compression": source.compression,
        "extended": stats.extended,
        "version": header.version,
        "serial": header.serial,
        "start_date": header.start_date,
        "end_date": header.end_date,
        "utc_offset": header.utc_offset,
        "declared_records": header.records,
        "records": len(stats.table),
        "summary": [[t.value, n] for t, n in stats.summary],
        "preamble": stats.preamble,
        "skipped_lines": len(stats.errors),
        "skipped": [str(e) for e in stats.errors[:MAX_LISTED_ERRORS]],
        "ingested_at": dt.datetime.now(dt.UTC),
    }


def record_texts(data: bytes, table: DelegationTable) -> list[str]:
    """The source line of every row of ``table`` (numbered by ``table.line``)."""
    text = data.decode()
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    numbers = table.line
    if len(numbers) and numbers[-1] - numbers[0] == len(numbers) - 1:
        return lines[int(numbers[0]) - 1 : int(numbers[-1])]
    return [lines[i - 1] for i in numbers.tolist()]


__all__ = [
    "IngestOptions",
    "IngestResult",
    "PendingFile",
    "PreparedFile",
    "SnapshotRow",
    "already_stored",
    "expand_paths",
    "ingest_bytes",
    "ingest_many",
    "ingest_path",
    "ingest_source",
    "prepare_source",
    "store_prepared",
]
