"""Following another instance's log: ``rirport mirror follow URL --key VKEY``.

One pass (:func:`follow_once`):

1. fetch ``/log/checkpoint`` and verify it by the publisher's key (its origin is the key's
   name); with a witness policy, the newest checkpoint with k cosignatures is taken instead
   when that one has none yet (:func:`witnessed`, ``/log/checkpoint/cosigned``);
2. against the last checkpoint this store verified for that origin: a smaller size, or the
   same size with another root, or a consistency proof (``/log/proof/consistency``) that does
   not join them, stops with an error quoting both checkpoints (a split view or a rewrite:
   evidence anyone can check with the key);
3. fetch the entries this store lacks as entry bundles (``/log/tile/entries/...``) and check
   them against the tree: this store's own leaves, then the fetched ones, must make the
   signed root;
4. fetch each statistics file a new ingest entry names (``/log/file/<sha256>``, checked by
   its sha256; IANA files come from ``--files``);
5. replay the entries through :func:`rirport.services.audit.replay.replay`, each in its own
   transaction (the services' own), so a pass killed at any point leaves a valid prefix and
   the next pass resumes from this store's journal: no entry is ever applied twice;
6. the store's state root must then be the signed one; the checkpoint is recorded
   (``log_peer``), and ``/log/mirror`` and the RDAP notices name it.

Nothing is applied unless steps 1–4 pass.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from tenacity import (
    retry,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from rirport.errors import DownloadError, NotWitnessedError, SplitViewError, VerificationError
from rirport.log import merkle
from rirport.log.checkpoint import Checkpoint, open_checkpoint, parse_text
from rirport.log.note import Verifier, split_note
from rirport.log.tiles import WIDTH, TileRef, decode_bundle
from rirport.log.tree import SparseNodes, right_edge
from rirport.services.audit import journal
from rirport.services.audit.replay import ReplayReport, replay
from rirport.services.transparency import state
from rirport.services.transparency.readonly import STARTED, following
from rirport.services.transparency.takeover import check_succession
from rirport.store.repos.log import PeerRow
from rirport.store.unit import Store

if TYPE_CHECKING:
    from rirport.services.transparency.witness import WitnessPolicy

ROLE = "mirror"
TIMEOUT = 20.0


@dataclass
class MirrorReport:
    origin: str
    before: int
    after: int
    applied: int
    checkpoint: str
    replay: ReplayReport | None = None
    waiting: str = ""
    """Why a newer checkpoint was not applied (it lacks the witnesses' cosignatures)."""

    def text(self) -> str:
        if self.after == self.before:
            done = f"{self.origin}: up to date at size {self.after} ({self.checkpoint})"
        else:
            done = (
                f"{self.origin}: applied {self.applied} entries, size {self.before} -> "
                f"{self.after}; at checkpoint {self.checkpoint}"
            )
        return done + (f"\n  waiting: {self.waiting}" if self.waiting else "")


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, httpx.TransportError):
        return True
    return isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code in (
        429,
        502,
        503,
        504,
    )


class Publisher:
    """The publisher's log over HTTP: bounded time, a few jittered retries for what may pass
    (connection errors, 429, 502–504), a clear error for the rest."""

    def __init__(self, url: str, client: httpx.Client | None = None) -> None:
        self.url = url.rstrip("/")
        self.client = client or httpx.Client(timeout=TIMEOUT, follow_redirects=False)

    def get(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        where = f"{self.url}/log/{path}"
        try:
            return self._get(where, params)
        except httpx.TimeoutException as exc:
            raise DownloadError(f"{where}: the publisher did not answer in {TIMEOUT:g} s") from exc
        except httpx.HTTPStatusError as exc:
            raise DownloadError(
                f"{where}: HTTP {exc.response.status_code}: {exc.response.text[:200]}"
            ) from exc
        except httpx.HTTPError as exc:
            raise DownloadError(f"{where}: {exc}") from exc

    @retry(
        retry=retry_if_exception(_transient),
        stop=stop_after_attempt(3),
        wait=wait_exponential_jitter(multiplier=0.2, max=2),
        reraise=True,
    )
    def _get(self, where: str, params: dict[str, Any] | None) -> httpx.Response:
        response = self.client.get(where, params=params)
        response.raise_for_status()
        return response

    def checkpoint(self) -> str:
        response = self.get("checkpoint")
        kind = response.headers.get("content-type", "")
        if "html" in kind or response.text.lstrip().lower().startswith(("<!doctype", "<html")):
            raise VerificationError(
                f"{self.url}/log/checkpoint answered HTML ({kind}), not a checkpoint: is "
                "this a rirport log?"
            )
        return response.text

    def cosigned(self, names: list[str], k: int, after: int = 0) -> str | None:
        """``/log/checkpoint/cosigned``: the newest checkpoint past size ``after`` the
        publisher holds with cosignatures by ``k`` of the witnesses ``names``; None when it
        has none (404), or is a rirport from before that path."""
        where = f"{self.url}/log/checkpoint/cosigned"
        query: dict[str, str | int | list[str]] = {"witness": names, "k": k, "after": after}
        try:
            response = self.client.get(where, params=query)
        except httpx.TimeoutException as exc:
            raise DownloadError(f"{where}: the publisher did not answer in {TIMEOUT:g} s") from exc
        except httpx.HTTPError as exc:
            raise DownloadError(f"{where}: {exc}") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200 or "html" in response.headers.get("content-type", ""):
            raise DownloadError(f"{where}: HTTP {response.status_code}: {response.text[:200]}")
        return response.text

    def consistency(self, old: int, new: int) -> list[bytes]:
        body = self._json(self.get("proof/consistency", {"from": old, "to": new}))
        try:
            return [base64.b64decode(h, validate=True) for h in body["hashes"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise VerificationError(f"the consistency proof is not one: {exc!r}") from exc

    def entries(self, start: int, stop: int) -> Iterator[bytes]:
        """Entries start … stop − 1 from their bundles (full bundles where they are full)."""
        index = start // WIDTH
        while index * WIDTH < stop:
            width = min(WIDTH, stop - index * WIDTH)
            ref = TileRef(None, index, width)
            data = self.get(ref.path()).content
            bundle = decode_bundle(data, width, f"{self.url}/log/{ref.path()}")
            for offset, entry in enumerate(bundle):
                if start <= index * WIDTH + offset < stop:
                    yield entry
            index += 1

    def source_file(self, sha256: str) -> bytes:
        data = self.get(f"file/{sha256}").content
        if hashlib.sha256(data).hexdigest() != sha256:
            raise VerificationError(
                f"{self.url}/log/file/{sha256}: the file's sha256 is "
                f"{hashlib.sha256(data).hexdigest()}, not the one the signed entry names"
            )
        return data

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError as exc:
            raise VerificationError(f"{response.url}: not JSON ({exc})") from exc
        if not isinstance(body, dict):
            raise VerificationError(f"{response.url}: not a JSON object")
        return body


def _quote(label: str, note: str) -> str:
    return f"{label}:\n" + "\n".join(f"    {line}" for line in note.rstrip("\n").split("\n"))


def check_new(
    old: tuple[Checkpoint, str] | None, new: Checkpoint, note: str, publisher: Publisher
) -> None:
    """Refuse a checkpoint that does not extend the last verified one.

    Raises:
        SplitViewError: smaller, or same size and another root, or no consistency proof
            joins them (both checkpoints quoted).
    """
    if old is None:
        return
    before, before_note = old
    evidence = f"{_quote('verified before', before_note)}\n{_quote('now served', note)}"
    if new.size < before.size:
        raise SplitViewError(
            f"{new.origin}: the tree size went backwards ({before.size} -> {new.size}): "
            f"the log was rewritten\n{evidence}"
        )
    if new.size == before.size:
        if new.root != before.root:
            raise SplitViewError(
                f"{new.origin}: two checkpoints of size {new.size} with different roots "
                f"(a split view)\n{evidence}"
            )
        return
    proof = publisher.consistency(before.size, new.size)
    if not merkle.verify_consistency(before.size, new.size, proof, before.root, new.root):
        raise SplitViewError(
            f"{new.origin}: no consistency proof joins the checkpoint verified before to the "
            f"one served now (a rewrite or a split view)\n{evidence}"
        )


def witnessed(
    publisher: Publisher,
    key: Verifier,
    policy: WitnessPolicy,
    note: str,
    new: Checkpoint,
    old: tuple[Checkpoint, str] | None,
) -> tuple[str, Checkpoint, str]:
    """The checkpoint to apply under a k-of-n witness policy: the newest served when it has
    k cosignatures, else the newest the publisher holds that has them
    (``/log/checkpoint/cosigned``, verified the same way; the caller checks it extends what
    this store verified, as for any checkpoint); with why the newest waits.

    Raises:
        NotWitnessedError: no checkpoint past the one verified before has k cosignatures
            (what each witness lacks named, nothing applied).
    """
    try:
        policy.check(note, new)
        return note, new, ""
    except NotWitnessedError as lacking:
        why = lacking
    first = str(why).split("\n", 1)[0]
    names = sorted({w.name for w in policy.witnesses})
    # only at or past what this store verified: an older one would not be applied anyway
    found = publisher.cosigned(names, policy.required, old[0].size - 1 if old else 0)
    if found is None:
        raise why
    older = open_checkpoint(found, key)  # newer than ``new`` if a round ended meanwhile
    policy.check(found, older)
    if old is not None and older.size < old[0].size:
        raise NotWitnessedError(
            f"{first}; the newest with enough (size {older.size}) is "
            f"behind the one this store verified (size {old[0].size})"
        )
    return found, older, first.replace("; nothing applied", "")


def follow_once(
    store: Store,
    url: str,
    key: Verifier,
    files: tuple[Path, ...] = (),
    cache: Path | None = None,
    client: httpx.Client | None = None,
    witnesses: WitnessPolicy | None = None,
) -> MirrorReport:
    """One pass: catch up with the publisher's newest checkpoint (see the module doc).

    Raises:
        VerificationError, SplitViewError: the publisher's answers do not verify (nothing
            applied).
        DownloadError: the publisher failed or timed out (nothing applied).
    """
    publisher = Publisher(url, client)
    try:
        return _follow(store, publisher, url, key, files, cache, witnesses)
    finally:
        if client is None:
            publisher.client.close()


def _follow(
    store: Store,
    publisher: Publisher,
    url: str,
    key: Verifier,
    files: tuple[Path, ...],
    cache: Path | None,
    witnesses: WitnessPolicy | None = None,
) -> MirrorReport:
    note = publisher.checkpoint()
    new = open_checkpoint(note, key)
    with store.read() as uow:
        peer = uow.log.peer(ROLE, new.origin)
        have = uow.journal.count()
    old = (open_checkpoint(peer.note, key), peer.note) if peer else None
    waiting = ""
    if witnesses is not None:  # k of n cosigned, or nothing is applied
        note, new, waiting = witnessed(publisher, key, witnesses, note, new, old)
    check_new(old, new, note, publisher)
    check_succession(new, key, lambda i: next(publisher.entries(i, i + 1)), publisher.consistency)
    if have > new.size:
        raise SplitViewError(
            f"{new.origin}: this store holds {have} entries, the publisher's checkpoint only "
            f"{new.size}: the log was cut\n{_quote('now served', note)}"
        )
    fetched = list(publisher.entries(have, new.size))
    _check_against_tree(store, have, fetched, new, note)
    report = MirrorReport(new.origin, have, new.size, 0, new.describe(), waiting=waiting)
    if fetched:
        with tempfile.TemporaryDirectory() as tmp:
            folder = cache or Path(tmp)
            needed = _fetch_files(publisher, fetched, folder)
            path = Path(tmp) / "entries.ndjson"
            _write_journal(store, fetched, path)
            with following():
                result = replay(store, path, (*files, *needed))
        report.replay, report.applied = result, result.applied
        if not result.ok:
            raise VerificationError(
                f"{new.origin}: the replay did not reproduce the publisher's entries "
                f"({'; '.join(str(f) for f in result.findings) or 'head differs'})"
            )
    with store.read() as uow:
        mine = state.root_matching(uow, new.state_root)
    if new.state_root and mine != new.state_root:
        raise VerificationError(
            f"{new.origin}: after replaying to size {new.size} this store's state root is "
            f"{mine}, the publisher signed {new.state_root}\n{_quote('checkpoint', note)}"
        )
    _record(store, peer, new, note, url)
    return report


def _check_against_tree(
    store: Store, have: int, fetched: list[bytes], new: Checkpoint, note: str
) -> None:
    if len(fetched) != new.size - have:
        raise VerificationError(
            f"{new.origin}: got {len(fetched)} entries, the checkpoint needs {new.size - have}"
        )
    with store.read() as uow:
        known = uow.log.nodes(right_edge(have))
    tree = SparseNodes(have, known)
    for entry in fetched:
        tree.append(merkle.leaf_hash(entry))
    if tree.root() != new.root:
        raise SplitViewError(
            f"{new.origin}: this store's {have} entries and the {len(fetched)} fetched do not "
            f"make the signed root: an entry does not match the tree\n"
            f"{_quote('checkpoint', note)}"
        )


def _fetch_files(publisher: Publisher, fetched: list[bytes], folder: Path) -> list[Path]:
    paths = []
    for raw in fetched:
        entry = json.loads(raw)
        if entry.get("action") != "ingest":
            continue
        digest = str(entry["payload"]["sha256"])
        target = folder / digest / Path(str(entry["payload"]["file"])).name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.tmp")
            tmp.write_bytes(publisher.source_file(digest))
            tmp.replace(target)
        paths.append(target)
    return paths


def _write_journal(store: Store, fetched: list[bytes], path: Path) -> None:
    """This store's journal then the fetched entries: the file replay continues."""
    with path.open("w", encoding="utf-8") as out:
        journal.export(store, out)
        for entry in fetched:
            out.write(entry.decode() + "\n")


def _record(store: Store, peer: PeerRow | None, new: Checkpoint, note: str, url: str) -> None:
    row = PeerRow(
        ROLE,
        new.origin,
        new.size,
        note,
        url,
        dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    with store.transaction() as uow:
        if not uow.log.set_peer(row, expected_size=peer.size if peer else None):
            raise SplitViewError(
                f"{new.origin}: another mirror pass recorded a checkpoint meanwhile; run again"
            )


def mirror_status(store: Store) -> dict[str, Any]:
    """Whom this store mirrors and at which checkpoint (empty ``mirrors`` for a publisher)."""
    with store.read() as uow:
        peers = uow.log.peers(ROLE)
    return {
        "mirrors": [
            {
                "origin": p.origin,
                "publisher": p.source,
                "size": p.size,
                "checkpoint": p.note,
                "verified_at": p.verified_at,
            }
            for p in peers
        ]
    }


@dataclass(frozen=True)
class MirrorBanner:
    """What the pages of a mirror say on top: whom it mirrors and at which checkpoint.

    ``size``, ``root`` (the checkpoint's base64 root hash, as its third line reads) and
    ``verified_at`` are None while the first pass of ``mirror follow`` has not finished."""

    origin: str
    publisher: str
    size: int | None = None
    root: str | None = None
    verified_at: str | None = None

    @property
    def link(self) -> str | None:
        """The publisher's address when it is a web address a page may link to."""
        return self.publisher if self.publisher.startswith(("https://", "http://")) else None


def banners(store: Store) -> tuple[MirrorBanner, ...]:
    """One banner per publisher this store follows (none for a publisher)."""
    with store.read() as uow:
        peers = uow.log.peers(ROLE)
        started = "" if peers else (uow.meta.get(STARTED) or "")
    if not peers:
        origin, _, url = started.partition(" ")
        return (MirrorBanner(origin, url),) if origin else ()
    return tuple(
        MirrorBanner(p.origin, p.source, p.size, _root(p.note), p.verified_at) for p in peers
    )


def _root(note: str) -> str | None:
    try:
        return base64.b64encode(parse_text(split_note(note)[0]).root).decode()
    except VerificationError:
        return None


def notice(store: Store) -> dict[str, Any] | None:
    """The RDAP notice of a mirror: who published the data and at which checkpoint."""
    peers = mirror_status(store)["mirrors"]
    if not peers:
        return None
    lines = [
        f"This server mirrors {p['origin']} from {p['publisher']}, verified at tree size "
        f"{p['size']} ({p['verified_at']}); changes are made at the publisher."
        for p in peers
    ]
    return {"title": "Mirror", "description": lines}
