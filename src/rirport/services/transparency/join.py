"""A new mirror joins from the publisher's signed snapshot (``GET /log/snapshot``) instead of
replaying every entry since serial 1; then :func:`rirport.services.transparency.mirror.
follow_once` goes on from the snapshot's checkpoint (consistency proofs, entries checked
against the tree, replay) as for any mirror."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from rirport.errors import DownloadError, NotWitnessedError, VerificationError
from rirport.log.checkpoint import Checkpoint, open_checkpoint
from rirport.log.note import Verifier
from rirport.services.transparency.mirror import TIMEOUT, Publisher, check_new
from rirport.services.transparency.snapshot import SnapshotInfo, load_snapshot
from rirport.store.unit import Store

if TYPE_CHECKING:
    from rirport.services.transparency.witness import WitnessPolicy

SNAPSHOT_TIMEOUT = 600.0
"""Seconds the whole snapshot may take to arrive (it can be large); the first byte still
has to come within the mirror's usual timeout."""


def is_empty(store: Store) -> bool:
    with store.read() as uow:
        return not (uow.journal.count() or uow.meta.generation())


def fetch_snapshot(url: str, target: Path, client: httpx.Client | None = None) -> None:
    """Stream ``URL/log/snapshot`` into ``target``.

    Raises:
        DownloadError: the publisher failed, answered an error or timed out.
        VerificationError: it answered something that is not a snapshot (HTML, say).
    """
    publisher = Publisher(url, client)
    where = f"{publisher.url}/log/snapshot"
    timeout = httpx.Timeout(SNAPSHOT_TIMEOUT, connect=TIMEOUT, read=TIMEOUT)
    try:
        with publisher.client.stream("GET", where, timeout=timeout) as response:
            if response.status_code != 200:
                response.read()
                raise DownloadError(f"{where}: HTTP {response.status_code}: {response.text[:200]}")
            kind = response.headers.get("content-type", "")
            if "html" in kind:
                raise VerificationError(f"{where} answered HTML ({kind}), not a snapshot")
            with target.open("wb") as out:
                for chunk in response.iter_raw():
                    out.write(chunk)
    except httpx.TimeoutException as exc:
        raise DownloadError(f"{where}: the publisher did not answer in time ({exc})") from exc
    except httpx.HTTPError as exc:
        raise DownloadError(f"{where}: {exc}") from exc
    finally:
        if client is None:
            publisher.client.close()


def join(
    store: Store,
    url: str,
    key: Verifier,
    client: httpx.Client | None = None,
    witnesses: WitnessPolicy | None = None,
) -> SnapshotInfo:
    """Fetch the publisher's snapshot and load it into the (empty) store, verified first
    (with ``witnesses``: its checkpoint witnessed, :func:`witnessed_by`)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "snapshot.ndjson.gz"
        fetch_snapshot(url, path, client)
        return join_file(
            store, path, key, url.rstrip("/"), witnesses, client, f"{url.rstrip('/')}/log/snapshot"
        )


def join_file(
    store: Store,
    path: Path,
    key: Verifier,
    source: str,
    witnesses: WitnessPolicy | None = None,
    client: httpx.Client | None = None,
    where: str | None = None,
) -> SnapshotInfo:
    """Load a snapshot file (``rirport log snapshot FILE`` on the publisher at ``source``)."""
    publisher = Publisher(source, client)
    try:
        accept = witnessed_by(publisher, key, witnesses) if witnesses else None
        with path.open("rb") as stream:
            return load_snapshot(store, stream, key, source, where or str(path), accept)
    finally:
        if client is None:
            publisher.client.close()


def witnessed_by(
    publisher: Publisher, key: Verifier, policy: WitnessPolicy
) -> Callable[[str, Checkpoint], None]:
    """The check of a snapshot's checkpoint under a k-of-n witness policy: it has k
    cosignatures, or a later checkpoint of the publisher has them
    (``/log/checkpoint/cosigned``) and a consistency proof joins the two (so the witnesses
    saw a tree that extends the snapshot's: under continuous writes, the snapshot's own
    checkpoint is rarely cosigned yet).

    Raises (from the check):
        NotWitnessedError: neither (what each witness lacks named).
        SplitViewError: the cosigned checkpoint does not extend the snapshot's.
    """

    def check(note: str, point: Checkpoint) -> None:
        try:
            policy.check(note, point)
            return
        except NotWitnessedError as lacking:
            why = lacking
        names = sorted({w.name for w in policy.witnesses})
        found = publisher.cosigned(names, policy.required, point.size - 1)
        if found is None:
            raise why
        later = open_checkpoint(found, key)
        policy.check(found, later)
        if later.size < point.size:
            raise NotWitnessedError(
                f"{why}\n(the newest checkpoint with enough cosignatures, size {later.size}, "
                f"is older than the snapshot's, size {point.size}: try again later)"
            )
        check_new((point, note), later, found, publisher)

    return check
