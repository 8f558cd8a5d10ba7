"""The journal: every change to the registry, hash-chained, verifiable and exportable.

Each write transaction (an ingest, an IANA file, each transfer step, a legal hold) appends one
entry in the same transaction: serial, time, actor, action, a JSON payload saying what changed,
and the hash of the previous entry. The entry's own hash covers all of these as stored, so
verifying needs no re-serialisation:

    hash = sha256("serial\\ncreated_at\\nactor\\naction\\nprev_hash\\npayload")

An edited entry fails its own hash; a removed one leaves a gap in the serials and breaks the
next entry's link; reordered entries break the links. Each entry is also a leaf of the
transparency log, added (and a checkpoint signed) in the same transaction
(:mod:`rirport.services.transparency.log`). Exported NDJSON carries the same fields (payload
as a JSON object, re-serialised canonically when checked; each line canonical JSON), so
another instance can verify the file on its own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from rirport.errors import ParseError
from rirport.log.entries import entry_line
from rirport.services.transparency import log as transparency
from rirport.services.transparency.readonly import check_writable
from rirport.store.batch import Batch
from rirport.store.repos.journal import JournalRow
from rirport.store.unit import Store, UnitOfWork

GENESIS = "0" * 64
BOOKKEEPING = frozenset(
    {
        "account-create",
        "account-disable",
        "account-enable",
        "account-link",
        "account-password",
        "account-tier",
        "account-unlink",
        "token-create",
        "token-revoke",
        "watch-add",
        "watch-remove",
        "webhook-delivery",
    }
)
"""Journaled actions that change no registry data: they do not move the data generation, so
no server process reloads its index for them (any other action does)."""


def canonical(payload: Any) -> str:
    """The one JSON text of a payload: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(
    serial: int, created_at: str, actor: str, action: str, prev_hash: str, payload: str
) -> str:
    text = f"{serial}\n{created_at}\n{actor}\n{action}\n{prev_hash}\n{payload}"
    return hashlib.sha256(text.encode()).hexdigest()


def append(
    uow: UnitOfWork,
    actor: str,
    action: str,
    payload: dict[str, Any],
    serial: int | None = None,
    created_at: str | None = None,
    batch: Batch | None = None,
) -> JournalRow:
    """Write this transaction's entry (``serial`` from ``uow.journal.reserve()`` when the
    change needed it earlier, else reserved now). ``batch``: statements of the change
    queued already (a transfer step's row update), sent with the entry's.

    ``created_at`` is for replay only (:mod:`rirport.services.audit.replay`): an entry re-applied
    from another instance's journal keeps its original time, so identical changes give
    identical hashes. Left out, the entry is stamped now, as every normal write is.
    """
    number = uow.journal.reserve() if serial is None else serial
    if uow.journal.known_writable:  # answered with the reservation (PostgreSQL)
        uow.found_writable = True
    check_writable(uow, action)  # a mirror's data changes only by following its
    # publisher (refused before anything of the entry is written; the transaction rolls back)
    created = created_at or dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    prev = uow.journal.last_hash(number) or GENESIS
    text = canonical(payload)
    row = JournalRow(
        number,
        created,
        actor,
        action,
        text,
        prev,
        entry_hash(number, created, actor, action, prev, text),
    )
    if batch is None:  # PostgreSQL: the entry goes with its log rows, as one
        batch = Batch(uow.connection)
    uow.journal.write(row, data_changed=action not in BOOKKEEPING, batch=batch)
    transparency.on_append(uow, row, batch)
    return row


@dataclass
class Verification:
    """The outcome of checking a journal: how many entries, and each problem found."""

    entries: int = 0
    problems: list[str] = field(default_factory=list)
    last_serial: int = 0
    last_hash: str = GENESIS

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "last_serial": self.last_serial,
            "last_hash": self.last_hash,
            "problems": self.problems,
        }


def verify_rows(
    rows: Iterable[tuple[Any, ...]], limit: int = 100, known_head: str | None = None
) -> Verification:
    """Check serials, links and hashes of entries in serial order (tuples in
    :class:`JournalRow` field order). Stops listing after ``limit`` problems.

    A chain cut short at its end is still a valid chain; ``known_head``, a head hash
    recorded earlier (printed by every verify and export), must then still be in it.
    """
    result = Verification()
    expected_serial, prev = 1, GENESIS
    head_seen = known_head is None
    sha256 = hashlib.sha256
    count = 0
    for serial, created, actor, action, payload, prev_hash, stored_hash in rows:
        count += 1
        # the common case inline (this loop is the whole cost of verifying)
        if (
            serial == expected_serial
            and prev_hash == prev
            and sha256(
                f"{serial}\n{created}\n{actor}\n{action}\n{prev_hash}\n{payload}".encode()
            ).hexdigest()
            == stored_hash
        ):
            expected_serial, prev = serial + 1, stored_hash
            head_seen = head_seen or stored_hash == known_head
            continue
        head_seen = head_seen or stored_hash == known_head
        problem = _check(
            int(serial),
            expected_serial,
            prev,
            created,
            actor,
            action,
            payload,
            prev_hash,
            stored_hash,
        )
        if problem and len(result.problems) < limit:
            result.problems.append(problem)
        expected_serial, prev = int(serial) + 1, stored_hash
    result.entries = count
    if count:
        result.last_serial, result.last_hash = expected_serial - 1, prev
    if not head_seen:
        result.problems.append(
            f"the known head {known_head} is not in the journal: entries "
            "were removed from its end or the chain was rewritten"
        )
    return result


def _check(
    serial: int,
    expected: int,
    prev: str,
    created: str,
    actor: str,
    action: str,
    payload: str,
    prev_hash: str,
    stored_hash: str,
) -> str | None:
    if serial != expected:
        gone = (
            f"entries {expected}-{serial - 1} are missing"
            if serial > expected
            else f"entry {serial} is out of order (after {expected - 1})"
        )
        return f"serial {serial}: {gone} (removed or reordered)"
    if prev_hash != prev:
        return f"serial {serial}: does not link to the entry before it (reordered or replaced)"
    if entry_hash(serial, created, actor, action, prev_hash, payload) != stored_hash:
        return f"serial {serial}: content does not match its hash (edited)"
    return None


def verify(store: Store, known_head: str | None = None) -> Verification:
    """Verify the store's journal (see :func:`verify_rows`)."""
    with store.read() as uow:
        return verify_rows(
            (row for chunk in uow.journal.chunks() for row in chunk), known_head=known_head
        )


def export(store: Store, out: TextIO) -> int:
    """Write the journal as NDJSON, one entry a line, in serial order; returns the count.

    Each line is the entry's canonical JSON (:func:`rirport.log.entries.entry_line`): the
    exact bytes the transparency log hashes as the entry.
    """
    count = 0
    with store.read() as uow:
        for chunk in uow.journal.chunks():
            for row in chunk:
                out.write(entry_line(*row) + "\n")
                count += 1
    return count


def read_export(path: Path) -> Iterator[tuple[Any, ...]]:
    """Entries of an exported journal as verification tuples.

    Raises:
        ParseError: a line is not a journal entry (``file:line: reason``).
    """
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                yield (
                    int(entry["serial"]),
                    str(entry["created_at"]),
                    str(entry["actor"]),
                    str(entry["action"]),
                    canonical(entry["payload"]),
                    str(entry["prev_hash"]),
                    str(entry["hash"]),
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise ParseError(str(path), number, f"not a journal entry ({exc})") from None


def verify_file(path: Path, known_head: str | None = None) -> Verification:
    """Verify an exported journal on its own (no store needed)."""
    return verify_rows(read_export(path), known_head=known_head)


def entries(store: Store, action: str | None = None) -> list[JournalRow]:
    """Entries (optionally of one action), for display."""
    with store.read() as uow:
        rows = [JournalRow(*r) for chunk in uow.journal.chunks() for r in chunk]
    return [r for r in rows if action is None or r.action == action]
