"""Syncing the archive: every dated file of each RIR over a span of days, in date order.

The plan comes from the registries' folder listings (:mod:`rirport.archive.layouts`): one
file per registry and day, the extended one where both formats exist. Days the store already
holds are not fetched again, so a sync that stopped (or skipped files) resumes by running it
again. Downloads run a bounded number at once, each retried with jittered exponential
back-off on the failures that pass (dropped connections, timeouts, 5xx), streamed to a hidden
temporary file and checked against its published ``.md5``; ingest then takes the files
strictly in date order, one transaction each, through the ingest service. A file that fails
in any way is skipped with the reason, never half-stored, and the sync goes on with the
next; the report lists every skipped file and every day the archive has no file for.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Literal, Protocol, TypeVar

import httpx
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from rirport.archive.layouts import LAYOUTS, ArchiveFile, files_in, listing_names, missing_days
from rirport.archive.layouts import one_per_day as _one_per_day
from rirport.config import Settings
from rirport.domain.enums import REGISTRIES, Registry
from rirport.errors import DownloadError, ParseError, RirportError
from rirport.formats.source import check_text, source_from_bytes
from rirport.services.registry.ingest import IngestResult, prepare_source, store_prepared
from rirport.services.registry.sync import parse_md5
from rirport.store.unit import Store

_T = TypeVar("_T")
ArchiveOutcome = Literal["ingested", "unchanged", "stored-before", "skipped"]
DEFAULT_JOBS = 4
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class RetryPolicy:
    """How often a failure that may pass is tried again, and how long to wait between
    tries: random in ``[0, min(wait_max, wait_first x 2^n)]`` (full jitter, so several
    syncs hitting one server do not retry in step)."""

    attempts: int = 5
    wait_first: float = 1.0
    wait_max: float = 30.0


@dataclass
class FileResult:
    """What happened to one archived file."""

    file: ArchiveFile
    outcome: ArchiveOutcome
    size: int = 0
    checksum: Literal["verified", "none published"] | None = None
    ingest: IngestResult | None = None
    error: str | None = None

    @property
    def message(self) -> str:
        where = f"{self.file.registry} {self.file.date} ({self.file.name})"
        if self.outcome == "skipped":
            return f"{where}: skipped: {self.error}"
        if self.outcome == "stored-before":
            return f"{where}: already stored, not fetched"
        assert self.ingest is not None
        return f"{where}: {self.ingest.message}; checksum {self.checksum}"


@dataclass
class ArchivePlan:
    """The files to fetch, the days without one, and the folders that could not be read."""

    files: list[ArchiveFile] = field(default_factory=list)
    missing: dict[Registry, list[dt.date]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    listed: dict[Registry, list[str]] = field(default_factory=dict)
    """The folders listed for each registry (to name them when nothing was found)."""

    def found(self, registry: Registry) -> int:
        return sum(f.registry == registry for f in self.files)


@dataclass
class ArchiveReport:
    plan: ArchivePlan
    results: list[FileResult] = field(default_factory=list)

    @property
    def skipped(self) -> list[FileResult]:
        return [r for r in self.results if r.outcome == "skipped"]

    @property
    def ok(self) -> bool:
        """Nothing skipped and every folder read (days the archive lacks do not count: the
        RIRs' archives have real gaps, and a re-run cannot fill them)."""
        return not self.skipped and not self.plan.problems

    def count(self, outcome: ArchiveOutcome) -> int:
        return sum(r.outcome == outcome for r in self.results)


class ArchiveProgress(Protocol):
    """What a progress display is told (called from the calling thread, except ``received``,
    which download threads call)."""

    def planned(self, files: int) -> None: ...

    def received(self, nbytes: int) -> None: ...

    def finished(self, result: FileResult) -> None: ...


def sync_archive(
    store: Store,
    settings: Settings,
    registries: Iterable[Registry] | None = None,
    *,
    start: dt.date,
    end: dt.date | None = None,
    client: httpx.Client | None = None,
    jobs: int = DEFAULT_JOBS,
    retry: RetryPolicy | None = None,
    progress: ArchiveProgress | None = None,
    record_events: bool = True,
) -> ArchiveReport:
    """Fetch, check and ingest every dated file from ``start`` to ``end`` (default today).

    Each registry's archive is found under the folder of its sync URL (so ``--base-url`` and
    ``RIRPORT_SYNC_URL_<RIR>`` mirrors serve the archive too). Never raises for one file or
    folder: read the report.
    """
    wanted = list(REGISTRIES if registries is None else registries)
    last = end or dt.date.today()
    policy = retry or RetryPolicy()
    own = client is None
    http = client or httpx.Client(
        follow_redirects=True, limits=httpx.Limits(max_connections=max(jobs, 1))
    )
    try:
        plan = plan_archive(http, settings, wanted, start, last, policy)
        report = ArchiveReport(plan)
        stored = _stored_days(store)
        todo = [f for f in plan.files if (f.registry.value, f.date) not in stored]
        report.results += [
            FileResult(f, "stored-before")
            for f in plan.files
            if (f.registry.value, f.date) in stored
        ]
        if progress:
            progress.planned(len(todo))
        fetcher = _Fetcher(http, settings, policy, progress)
        for file, fetched in _fetch_in_order(fetcher, todo, jobs):
            result = _ingest(store, file, fetched, record_events)
            report.results.append(result)
            if progress:
                progress.finished(result)
    finally:
        if own:
            http.close()
    return report


# --- planning -------------------------------------------------------------------------------


def plan_archive(
    client: httpx.Client,
    settings: Settings,
    registries: Iterable[Registry],
    start: dt.date,
    end: dt.date,
    retry: RetryPolicy,
) -> ArchivePlan:
    """List each registry's folders for the years of ``start .. end`` and choose one file a
    day, in date order (registries in their usual order within a day)."""
    plan = ArchivePlan()
    order = {r: i for i, r in enumerate(REGISTRIES)}
    for registry in registries:
        found: list[ArchiveFile] = []
        try:
            base = archive_base(settings, registry)
        except DownloadError as exc:
            plan.problems.append(str(exc))
            continue
        folders = LAYOUTS[registry].folders(base, _years(start, end))
        plan.listed[registry] = folders
        for folder in folders:
            try:
                names = _list_folder(client, folder, settings.http_timeout, retry)
            except DownloadError as exc:
                plan.problems.append(f"{registry}: cannot list {folder}: {exc}")
                continue
            found += files_in(registry, folder, names)
        days = {d: f for d, f in _one_per_day(found).items() if start <= d <= end}
        plan.files += days.values()
        plan.missing[registry] = missing_days(days, start, end)
    plan.files.sort(key=lambda f: (f.date, order[f.registry]))
    return plan


def archive_base(settings: Settings, registry: Registry) -> str:
    """The registry's statistics folder: the folder of its ``-latest`` sync URL."""
    url = settings.sync_urls.get(registry)
    if not url:
        raise DownloadError(f"{registry}: no sync URL configured")
    return url.rsplit("/", 1)[0] + "/"


def _years(start: dt.date, end: dt.date) -> range:
    return range(start.year, end.year + 1)


def _list_folder(client: httpx.Client, url: str, timeout: float, retry: RetryPolicy) -> list[str]:
    """The names in a folder listing; none when the folder does not exist (404)."""

    def once() -> list[str]:
        response = _get(client, url, timeout)
        if response.status_code == 404:
            return []
        _require_ok(response, url)
        return listing_names(response.text)

    return _retrying(retry, url, once)


def _stored_days(store: Store) -> set[tuple[str, dt.date]]:
    with store.transaction() as uow:
        return {(s.registry, s.snapshot_date) for s in uow.snapshots.all()}


# --- fetching -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Fetched:
    """A downloaded file (path, size, md5 of its bytes) and the digest published for it."""

    path: Path
    size: int
    md5: str
    expected: str | None


class _TransientError(Exception):
    """A failure worth trying again; carries the message for when tries run out."""


class _Fetcher:
    def __init__(
        self,
        client: httpx.Client,
        settings: Settings,
        retry: RetryPolicy,
        progress: ArchiveProgress | None,
    ) -> None:
        self.client, self.settings, self.retry, self.progress = client, settings, retry, progress

    def __call__(self, file: ArchiveFile) -> _Fetched:
        """Fetch the ``.md5`` (if published) and the file; a bad file digest is refused here.

        Raises:
            DownloadError: after the retries, or at once for a failure that will not pass.
            OSError: the download folder cannot be written.
        """
        timeout = self.settings.http_timeout
        expected = None
        if file.md5_url:
            url = file.md5_url
            body = _retrying(self.retry, url, lambda: _small(self.client, url, timeout))
            expected = parse_md5(body, url)
        folder = self.settings.download_dir / file.registry.value / "archive"
        folder.mkdir(parents=True, exist_ok=True)
        path, size, md5 = _retrying(
            self.retry, file.url, lambda: self._stream(file.url, folder, timeout)
        )
        if file.md5_of == "file" and expected is not None and md5 != expected:
            page = _html_page(path, file.url)
            path.unlink(missing_ok=True)
            raise DownloadError(page or _mismatch(file, expected, md5))
        return _Fetched(path, size, md5, expected)

    def _stream(self, url: str, folder: Path, timeout: float) -> tuple[Path, int, str]:
        handle, name = tempfile.mkstemp(dir=folder, prefix=".partial-")
        path = Path(name)
        digest = hashlib.md5(usedforsecurity=False)
        size = 0
        try:
            with (
                os.fdopen(handle, "wb") as out,
                self.client.stream("GET", url, timeout=timeout) as r,
            ):
                _require_ok(r, url)
                total = _content_length(r)
                for chunk in r.iter_bytes(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                    if self.progress:
                        self.progress.received(len(chunk))
                if total is not None and r.num_bytes_downloaded < total:
                    got = r.num_bytes_downloaded
                    raise _TransientError(f"{url}: truncated: got {got} of {total} bytes")
        except httpx.TransportError as exc:
            path.unlink(missing_ok=True)
            raise _TransientError(f"{url}: {_transport(exc, size, timeout)}") from exc
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path, size, digest.hexdigest()


def _fetch_in_order(
    fetch: Callable[[ArchiveFile], _Fetched], files: list[ArchiveFile], jobs: int
) -> Iterator[tuple[ArchiveFile, _Fetched | Exception]]:
    """Each file with its download (or why it failed), in the order given, while up to
    ``jobs`` downloads run at once and no more than ``2 x jobs`` wait finished on disk."""

    def guarded(file: ArchiveFile) -> _Fetched | Exception:
        try:
            return fetch(file)
        except (RirportError, OSError) as exc:
            return exc

    queue = iter(files)
    with ThreadPoolExecutor(max_workers=max(jobs, 1), thread_name_prefix="archive") as pool:
        ahead: deque[tuple[ArchiveFile, Future[_Fetched | Exception]]] = deque(
            (f, pool.submit(guarded, f)) for f in islice(queue, 2 * max(jobs, 1))
        )
        try:
            while ahead:
                file, future = ahead.popleft()
                following = next(queue, None)
                if following is not None:
                    ahead.append((following, pool.submit(guarded, following)))
                yield file, future.result()
        finally:  # stopped early (Ctrl-C): drop what was fetched and not ingested
            for _, future in ahead:
                future.cancel()
            for _, future in ahead:
                if not future.cancelled():
                    done = future.result()
                    if isinstance(done, _Fetched):
                        done.path.unlink(missing_ok=True)


def _retrying(retry: RetryPolicy, url: str, call: Callable[[], _T]) -> _T:
    """``call()`` retried on :class:`_TransientError` by ``retry``; its last message, with the
    count of tries, as a :class:`DownloadError` when they run out."""
    attempts = Retrying(
        stop=stop_after_attempt(max(retry.attempts, 1)),
        wait=wait_random_exponential(multiplier=retry.wait_first, max=retry.wait_max),
        retry=retry_if_exception_type(_TransientError),
        reraise=True,
    )
    try:
        return attempts(call)
    except _TransientError as exc:
        raise DownloadError(f"{exc} (gave up after {retry.attempts} tries)") from exc


def _get(client: httpx.Client, url: str, timeout: float) -> httpx.Response:
    try:
        return client.get(url, timeout=timeout)
    except httpx.TransportError as exc:
        raise _TransientError(f"{url}: {_transport(exc, 0, timeout)}") from exc


def _small(client: httpx.Client, url: str, timeout: float) -> bytes:
    response = _get(client, url, timeout)
    _require_ok(response, url)
    return response.content


def _require_ok(response: httpx.Response, url: str) -> None:
    """200 or an error: 5xx and 429 may pass (retried), any other status will not."""
    status = response.status_code
    if status == 200:
        return
    message = f"{url}: HTTP {status} {response.reason_phrase or ''}".rstrip()
    if status >= 500 or status == 429:
        raise _TransientError(message)
    raise DownloadError(message)


def _content_length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length")
    return int(value) if value and value.strip().isdigit() else None


def _transport(exc: httpx.TransportError, received: int, timeout: float) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out after {timeout:g}s (got {received} bytes)"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect: {exc}"
    return f"connection broken after {received} bytes ({type(exc).__name__}: {exc})"


def _html_page(path: Path, url: str) -> str | None:
    """Say so when a body that failed its checksum is an HTML page (the server's error page,
    not a damaged file: a different thing to fix)."""
    with path.open("rb") as body:
        head = body.read(1024)
    try:
        check_text(head.decode("utf-8", errors="replace").encode(), url)
    except ParseError as exc:
        if "HTML" in exc.reason:
            return f"{exc}; its checksum does not match either"
    return None


def _mismatch(file: ArchiveFile, expected: str, actual: str) -> str:
    what = "file" if file.md5_of == "file" else "decompressed content"
    return (
        f"checksum mismatch: {file.md5_url} says {expected}, the {what} received from "
        f"{file.url} has md5 {actual}"
    )


# --- ingesting ------------------------------------------------------------------------------


def _ingest(
    store: Store, file: ArchiveFile, fetched: _Fetched | Exception, record_events: bool
) -> FileResult:
    """Check what a download claims to be and store it (one transaction), or say why not.
    The download is kept under its archive name once stored, deleted otherwise."""
    if isinstance(fetched, Exception):
        return FileResult(file, "skipped", error=_describe(fetched))
    checksum: Literal["verified", "none published"] = (
        "verified" if fetched.expected else "none published"
    )
    try:
        source = source_from_bytes(fetched.path.read_bytes(), file.name)
        if file.md5_of == "content" and fetched.expected is not None:
            content_md5 = hashlib.md5(source.data, usedforsecurity=False).hexdigest()
            if content_md5 != fetched.expected:
                raise DownloadError(_mismatch(file, fetched.expected, content_md5))
        prepared = prepare_source(source, source_url=file.url, check_name=False)
        _check_claims(file, prepared.stats.header.registry, prepared.stats.header.snapshot_date())
        result = store_prepared(store, prepared, record_events=record_events)
        os.replace(fetched.path, fetched.path.with_name(file.name))
    except (RirportError, OSError) as exc:
        fetched.path.unlink(missing_ok=True)
        return FileResult(file, "skipped", fetched.size, checksum, error=_describe(exc, file))
    return FileResult(file, result.outcome, fetched.size, checksum, result)


def _check_claims(file: ArchiveFile, registry: str, date: dt.date) -> None:
    """The file must be the registry's and the day's its name says.

    Raises:
        DownloadError: another registry's file, or a date other than the name's (earlier:
            the archive's dates go backwards here, a stale copy under a new name).
    """
    if registry != file.registry.value:
        raise DownloadError(
            f"{file.url}: this is a {registry} file in {file.registry}'s archive; not stored"
        )
    if date < file.date:
        raise DownloadError(
            f"{file.url}: the date goes backwards: named for {file.date}, but its version line "
            f"says {date} (a stale copy under a new name?); not stored"
        )
    if date > file.date:
        raise DownloadError(
            f"{file.url}: named for {file.date}, but its version line says {date}; not stored"
        )


def _describe(exc: Exception, file: ArchiveFile | None = None) -> str:
    if isinstance(exc, OSError):
        return f"cannot save the download: {exc}"
    text = str(exc)
    if file is not None and file.url not in text:
        return f"{file.url}: {text}"
    return text


__all__ = [
    "DEFAULT_JOBS",
    "ArchiveOutcome",
    "ArchivePlan",
    "ArchiveProgress",
    "ArchiveReport",
    "FileResult",
    "RetryPolicy",
    "archive_base",
    "plan_archive",
    "sync_archive",
]
