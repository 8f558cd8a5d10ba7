"""Syncing: fetch each RIR's latest extended statistics file, check its md5, and ingest it.

Each registry is fetched, checked and stored on its own: a registry that fails (bad status,
broken connection, truncated body, checksum mismatch, a file ingest refuses) becomes a failed
:class:`SyncResult` and the others go on, because one RIR's outage should not hold back the
other four. A file is stored in one transaction (see :mod:`rirport.services.registry.ingest`), so a
failure leaves the store as it was for that registry.

The body is streamed to a temporary file beside its final place while its md5 is computed, so
the check costs no extra pass and a partial download is never mistaken for a complete one. A
file that was checked and stored is kept as
``<download_dir>/<registry>/delegated-<registry>-extended-<YYYYMMDD>``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx

from rirport.config import Settings, urls_under
from rirport.domain.enums import REGISTRIES, Registry
from rirport.errors import DownloadError, RirportError
from rirport.formats.source import source_from_bytes
from rirport.services.registry.ingest import (
    IngestResult,
    already_stored,
    prepare_source,
    store_prepared,
)
from rirport.store.unit import Store

SyncOutcome = Literal["ingested", "unchanged", "failed"]

#: Called as bytes arrive: ``(registry, bytes received so far, Content-Length or None)``.
ProgressCallback = Callable[[Registry, int, int | None], None]

_CHUNK = 64 * 1024
_HEX = r"(?P<hex>[0-9a-fA-F]{32})"
#: ``MD5 (delegated-arin-extended-20181013) = <hex>`` (BSD ``md5``; also ``MD5(name)= <hex>``).
_BSD_MD5 = re.compile(r"MD5\s*\((?P<name>[^)]*)\)\s*=\s*" + _HEX)
#: ``<hex>  delegated-lacnic-extended-20181012`` (GNU ``md5sum``; ``*`` marks binary mode),
#: or the hex digest alone.
_GNU_MD5 = re.compile(_HEX + r"(?:\s+\*?(?P<name>\S.*))?")


@dataclass
class SyncResult:
    """What happened to one registry."""

    registry: Registry
    url: str
    outcome: SyncOutcome
    size: int = 0
    """Bytes of the file received (0 when the download failed before the body)."""
    md5: str | None = None
    """The md5 of the body received (on a checksum mismatch, the wrong one)."""
    ingest: IngestResult | None = None
    error: str | None = None
    path: Path | None = None
    """Where the checked file was kept."""

    @property
    def ok(self) -> bool:
        return self.outcome != "failed"

    @property
    def message(self) -> str:
        """One line for people: what was stored, or why not."""
        if self.ingest is None:
            return f"{self.registry}: failed: {self.error}"
        if self.outcome == "unchanged":
            return (
                f"{self.registry}: unchanged, {self.ingest.snapshot_date} already stored as "
                f"snapshot {self.ingest.snapshot_id} ({self.size} bytes, md5 {self.md5})"
            )
        text = (
            f"{self.registry}: ingested {self.ingest.snapshot_date}, {self.ingest.records} "
            f"records as snapshot {self.ingest.snapshot_id} ({self.size} bytes, "
            f"md5 {self.md5})"
        )
        if self.ingest.slotted_before is not None:
            text += f", slotted in before {self.ingest.slotted_before} as history"
        if self.ingest.events is not None:
            text += f", {self.ingest.events} event(s)"
        return "\n".join([text, *(f"  warning: {w}" for w in self.ingest.warnings)])


@dataclass(frozen=True)
class Download:
    """A body saved whole to a temporary file, with its size and md5 (not yet checked)."""

    path: Path
    size: int
    md5: str


def sync(
    store: Store,
    settings: Settings,
    registries: Iterable[Registry] | None = None,
    *,
    client: httpx.Client | None = None,
    progress: ProgressCallback | None = None,
    record_events: bool = True,
) -> list[SyncResult]:
    """Fetch, check and ingest the latest file of each registry (default: all five).

    Never raises for one registry's failure: read ``outcome`` and ``error`` of each result.
    A ``client`` given is used as is (its own settings, e.g. proxies) but every request still
    gets ``settings.http_timeout``; without one, a client is opened and closed here.
    ``record_events``: store each new file's change events in its transaction (as ingest).
    """
    return list(
        iter_sync(
            store,
            settings,
            registries,
            client=client,
            progress=progress,
            record_events=record_events,
        )
    )


def iter_sync(
    store: Store,
    settings: Settings,
    registries: Iterable[Registry] | None = None,
    *,
    client: httpx.Client | None = None,
    progress: ProgressCallback | None = None,
    record_events: bool = True,
) -> Iterator[SyncResult]:
    """As :func:`sync`, yielding each registry's result as soon as it is known (for the CLI)."""
    wanted = list(REGISTRIES if registries is None else registries)
    own = client is None
    http = httpx.Client(follow_redirects=True) if client is None else client
    try:
        for registry in wanted:
            yield sync_registry(store, settings, registry, http, progress, record_events)
    finally:
        if own:
            http.close()


def sync_registry(
    store: Store,
    settings: Settings,
    registry: Registry,
    client: httpx.Client,
    progress: ProgressCallback | None = None,
    record_events: bool = True,
) -> SyncResult:
    """Fetch, check and ingest one registry's file; any rirport error becomes a failed result.

    Only :class:`~rirport.errors.RirportError` (and :class:`OSError` from writing the download)
    is caught: anything else is a bug and should not be reported as the registry's fault.
    """
    url = settings.sync_urls.get(registry)
    if not url:
        return SyncResult(registry, "", "failed", error="no sync URL configured")
    download: Download | None = None
    try:
        expected = fetch_md5(client, url + ".md5", settings.http_timeout)
        folder = settings.download_dir / registry.value
        download = fetch_to_file(
            client, url, folder, settings.http_timeout, _bind(progress, registry)
        )
        verify_md5(registry, url, expected, download.md5)
        result = ingest_download(store, registry, url, download.path.read_bytes(), record_events)
        kept = _keep(download.path, folder / kept_name(registry, result.snapshot_date))
    except (RirportError, OSError) as exc:
        if download is not None:
            download.path.unlink(missing_ok=True)
        return SyncResult(
            registry,
            url,
            "failed",
            size=download.size if download else 0,
            md5=download.md5 if download else None,
            error=_describe(exc),
        )
    return SyncResult(registry, url, result.outcome, download.size, download.md5, result, path=kept)


def verify_md5(registry: Registry, url: str, expected: str, actual: str) -> None:
    """Refuse a file whose md5 is not the published one (a corrupt or half-updated mirror).

    Raises:
        DownloadError: naming the registry and both digests.
    """
    if actual != expected:
        raise DownloadError(
            f"checksum mismatch for {registry}: {url}.md5 says {expected}, "
            f"the file received from {url} has md5 {actual}; nothing was stored"
        )


def ingest_download(
    store: Store, registry: Registry, url: str, raw: bytes, record_events: bool = True
) -> IngestResult:
    """Ingest a checked download as :func:`~rirport.services.registry.ingest.ingest_bytes` does,
    with
    two differences that matter for a job run daily against ``-latest`` URLs:

    * a file already stored is recognised by its hash before it is parsed, so a sync with
      nothing new costs the downloads only;
    * the file must be the registry's own: a mirror serving one RIR's file under another's URL
      would otherwise be reported (and kept on disk) under the wrong name.

    Raises:
        ParseError, FileRejectedError: the body is not an acceptable statistics file.
        DownloadError: the file is another registry's.
        ConflictError: a different file for the same registry and date is already stored.
    """
    source = source_from_bytes(raw, url)
    known = already_stored(store, source, registry.value)
    if known is not None:
        return known
    prepared = prepare_source(source, source_url=url, check_name=False)
    found = prepared.stats.header.registry
    if found != registry.value:
        raise DownloadError(f"{url}: this is a {found} file, not {registry}; nothing was stored")
    return store_prepared(store, prepared, record_events=record_events)


def kept_name(registry: Registry, snapshot_date: dt.date) -> str:
    """The dated name a checked file is kept under, as the RIRs name their archived files."""
    return f"delegated-{registry.value}-extended-{snapshot_date:%Y%m%d}"


def fetch_md5(client: httpx.Client, url: str, timeout: float) -> str:
    """The md5 published at ``url`` (lower-case hex).

    Raises:
        DownloadError: the request failed, or the body is no md5 line.
    """
    try:
        response = client.get(url, timeout=timeout)
    except httpx.HTTPError as exc:
        raise DownloadError(_transport_message(url, exc, timeout)) from exc
    _check_status(response, url)
    return parse_md5(response.content, url)


def parse_md5(body: bytes, url: str) -> str:
    """Read the hex digest from a ``.md5`` file in BSD, GNU or bare layout.

    The file name in the line is not compared: the RIRs name the dated file there, not the
    ``-latest`` name it is served under.

    Raises:
        DownloadError: the first line is no md5 line (an HTML error page, say).
    """
    text = body.decode("utf-8", errors="replace").strip()
    first = text.splitlines()[0].strip() if text else ""
    if not first:
        raise DownloadError(f"{url}: empty md5 file")
    match = _BSD_MD5.fullmatch(first) or _GNU_MD5.fullmatch(first)
    if match is None:
        raise DownloadError(f"{url}: not an md5 checksum file (first line: {first[:80]!r})")
    return match["hex"].lower()


def fetch_to_file(
    client: httpx.Client,
    url: str,
    folder: Path,
    timeout: float,
    progress: Callable[[int, int | None], None] | None = None,
) -> Download:
    """Stream ``url`` into a new temporary file in ``folder``, computing its md5 on the way.

    The temporary file is removed if the download fails, so a partial body is never left
    where it could be taken for a file.

    Raises:
        DownloadError: bad status, broken connection or truncated body.
        OSError: the file cannot be written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=folder, prefix=".partial-")
    path = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            size, md5 = _stream(client, url, timeout, out.write, progress)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Download(path, size, md5)


def _stream(
    client: httpx.Client,
    url: str,
    timeout: float,
    write: Callable[[bytes], object],
    progress: Callable[[int, int | None], None] | None,
) -> tuple[int, str]:
    """Write the body of ``url`` as it arrives; return its size and md5.

    Raises:
        DownloadError: bad status, broken connection, or fewer bytes than Content-Length.
    """
    digest = hashlib.md5(usedforsecurity=False)
    size = received = 0  # bytes of the file, bytes on the wire (differ if content-encoded)
    total: int | None = None
    try:
        with client.stream("GET", url, timeout=timeout) as response:
            _check_status(response, url)
            total = _content_length(response)
            for chunk in response.iter_bytes(_CHUNK):
                write(chunk)
                digest.update(chunk)
                size += len(chunk)
                received = response.num_bytes_downloaded
                if progress:
                    progress(received, total)
            _check_complete(url, response.num_bytes_downloaded, total)
    except httpx.HTTPError as exc:
        got = f"got {received} of {total} bytes" if total is not None else f"got {received} bytes"
        if isinstance(exc, httpx.TimeoutException):
            raise DownloadError(f"{url}: timed out after {timeout:g}s ({got})") from exc
        if total is not None and received < total:  # the server hung up mid-body
            raise DownloadError(f"{url}: truncated: {got}") from exc
        raise DownloadError(_transport_message(url, exc, timeout)) from exc
    return size, digest.hexdigest()


def _check_status(response: httpx.Response, url: str) -> None:
    """Refuse anything but 200: a redirect has been followed already, and 204/206 are not
    the whole file."""
    if response.status_code != 200:
        raise DownloadError(
            f"{url}: HTTP {response.status_code} {response.reason_phrase or ''}".rstrip()
        )


def _content_length(response: httpx.Response) -> int | None:
    """The announced size, or None when absent or unreadable (chunked transfers)."""
    value = response.headers.get("content-length")
    return int(value) if value and value.strip().isdigit() else None


def _check_complete(url: str, received: int, total: int | None) -> None:
    """Refuse a body shorter than announced, in case the transport did not notice."""
    if total is not None and received < total:
        raise DownloadError(f"{url}: truncated: got {received} of {total} bytes")


def _transport_message(url: str, exc: httpx.HTTPError, timeout: float) -> str:
    """Say what went wrong in words a person fixing a mirror or a network can act on."""
    if isinstance(exc, httpx.TimeoutException):
        return f"{url}: timed out after {timeout:g}s ({type(exc).__name__})"
    if isinstance(exc, httpx.ConnectError):
        return f"{url}: cannot connect: {exc}"
    return f"{url}: download failed: {type(exc).__name__}: {exc}"


def _describe(exc: Exception) -> str:
    """The error's message, naming the file-system operation when writing failed."""
    if isinstance(exc, OSError):
        return f"cannot save the download: {exc}"
    return str(exc)


def _keep(partial: Path, final: Path) -> Path:
    """Give a checked download its dated name (replacing an identical earlier copy)."""
    os.replace(partial, final)
    return final


def _bind(
    progress: ProgressCallback | None, registry: Registry
) -> Callable[[int, int | None], None] | None:
    """The progress callback with its registry filled in."""
    if progress is None:
        return None
    return lambda received, total: progress(registry, received, total)


__all__ = [
    "Download",
    "ProgressCallback",
    "SyncOutcome",
    "SyncResult",
    "fetch_md5",
    "fetch_to_file",
    "ingest_download",
    "iter_sync",
    "kept_name",
    "parse_md5",
    "sync",
    "sync_registry",
    "urls_under",
    "verify_md5",
]
