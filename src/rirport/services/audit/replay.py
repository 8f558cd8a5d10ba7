"""Replaying an exported journal into another store: the same changes, checked again.

Another instance (a fresh SQLite or PostgreSQL database, or one whose journal is a prefix of
the file) applies the file entry by entry through the same services that wrote it: ingest and
IANA entries from the files given (found by the sha256 their payload records), transfer
requests through :func:`~rirport.services.transfers.lifecycle.build_request` and
:func:`~rirport.services.transfers.lifecycle.request_transfer`, steps through
:func:`~rirport.services.transfers.lifecycle.advance`, holds through
:mod:`~rirport.services.transfers.holds`.
Every policy decision and invariant is so computed again, on this instance's data and policy
catalogue. Each replayed entry keeps the original serial, time and actor, so when the services
produce the same payload the entry has the same hash; where they do not (a decision changed
because the catalogue did, a file was given under another name), the entry is a finding.

Nothing is applied unless the file's chain verifies, the store's journal is a prefix of it and
every file needed was found. Each entry is then its own transaction (the services open their
own, exactly as for a normal write), so a replay stopped by an entry that can no longer be
applied leaves the store holding a valid prefix of the file, from which a later replay goes on.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rirport.domain.enums import Registry
from rirport.domain.query import parse_resource
from rirport.domain.transfer import TransferKind
from rirport.errors import (
    ConflictError,
    InputError,
    ParseError,
    RirportError,
    VerificationError,
)
from rirport.formats.source import read_source, source_from_bytes
from rirport.log import merkle
from rirport.log.checkpoint import Checkpoint, open_checkpoint
from rirport.log.entries import entry_line
from rirport.log.note import Verifier
from rirport.log.tree import Tree
from rirport.policy.loader import load_regime
from rirport.query.iana import IanaBlocks, load_iana
from rirport.query.view import CurrentView, load_current
from rirport.services.audit import journal
from rirport.services.audit.rebuild import rebuild
from rirport.services.registry.iana import ingest_iana
from rirport.services.registry.ingest import expand_paths, prepare_source, store_prepared
from rirport.services.transfers.holds import add_hold, lift_hold
from rirport.services.transfers.lifecycle import STEPS, advance, build_request, request_transfer
from rirport.services.transparency import state as tstate
from rirport.store.repos.journal import JournalRow
from rirport.store.unit import Store

FILE_ACTIONS = ("ingest", "iana")
SERVICE_ACTIONS = (*FILE_ACTIONS, "transfer", "hold")
"""The actions replay re-runs through the services (every decision computed again); every
other entry is rebuilt by :mod:`rirport.services.audit.rebuild` or kept verbatim, and what it
cannot rebuild (secrets) is said in :attr:`ReplayReport.notes`."""
MAX_DIFFERENCES = 5


@dataclass(frozen=True)
class Finding:
    """An entry the replay did not reproduce: its payload differs, or it could not be
    applied at all (then the replay stopped there)."""

    serial: int
    action: str
    message: str

    def __str__(self) -> str:
        return f"serial {self.serial} ({self.action}): {self.message}"


@dataclass
class ReplayReport:
    """What a replay did, and whether it reproduced the file."""

    file: str
    entries: int
    """Entries in the file."""
    already: int
    """Entries the store held before (a prefix of the file)."""
    applied: int = 0
    file_head: str = journal.GENESIS
    replay_head: str = journal.GENESIS
    findings: list[Finding] = field(default_factory=list)
    stopped_at: int | None = None
    """The serial of the entry that could not be applied (nothing after it was)."""
    notes: list[Finding] = field(default_factory=list)
    """What entries applied could not carry over (secrets the journal never holds, events it
    only counts): said, not failures."""
    checkpoint: str | None = None
    """The signed checkpoint the file was checked against (its description), if any."""

    @property
    def ok(self) -> bool:
        return (
            not self.findings and self.stopped_at is None and (self.file_head == self.replay_head)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "file": self.file,
            "entries": self.entries,
            "already": self.already,
            "applied": self.applied,
            "file_head": self.file_head,
            "replay_head": self.replay_head,
            "stopped_at": self.stopped_at,
            "checkpoint": self.checkpoint,
            "findings": [
                {"serial": f.serial, "action": f.action, "message": f.message}
                for f in self.findings
            ],
            "not_rebuilt": [
                {"serial": f.serial, "action": f.action, "message": f.message} for f in self.notes
            ],
        }


def replay(
    store: Store,
    path: Path,
    files: Iterable[str | Path] = (),
    regimes: Mapping[str, str] | None = None,
    signed: SignedHead | None = None,
) -> ReplayReport:
    """Apply the entries of an exported journal that ``store`` does not hold yet.

    ``files``: files or folders holding the statistics and IANA files the ingest entries
    name. ``regimes``: a file for each regime name that is not built in. ``signed``: a
    checkpoint and the key it must be signed by: then only the entries it covers are
    accepted (their tree root must be the signed one, or nothing is applied), and the state
    root replayed must be the signed one.

    Raises:
        ParseError: a line of the file is not a journal entry.
        InputError: the file's chain does not verify, a file is missing, or a regime is
            unknown (nothing changed).
        ConflictError: the store's journal is not a prefix of the file (nothing changed).
        VerificationError: ``signed`` does not verify or does not cover the file (nothing
            changed).
    """
    rows = [JournalRow(*t) for t in journal.read_export(path)]
    _verify_file(path, rows)
    point = covered(path, rows, signed) if signed else None
    if point is not None:
        rows = rows[: point.size]
    _check_payloads(rows)
    already = _stored_prefix(store, rows)
    todo = rows[already:]
    sources = resolve_files(todo, expand_paths(files))
    chosen = dict(regimes or {})
    _check_regimes(todo, chosen)
    report = ReplayReport(
        str(path), len(rows), already, file_head=rows[-1].hash if rows else journal.GENESIS
    )
    _apply_all(_Replayer(store, rows, sources, chosen), todo, report)
    report.replay_head = journal.verify(store).last_hash
    if point is not None:
        report.checkpoint = point.describe()
        _check_state(store, point, report)
    return report


@dataclass(frozen=True)
class SignedHead:
    """A signed checkpoint (note text) and the verifier key it must be signed by."""

    note: str
    key: Verifier


def covered(path: Path, rows: Sequence[JournalRow], signed: SignedHead) -> Checkpoint:
    """The checkpoint, verified, after checking that the file's first ``size`` entries make
    its root (entries past it are not accepted: ``replay`` drops them).

    Raises:
        VerificationError: bad signature or key, or the file's entries are not the ones the
            checkpoint signed (rewritten, rehashed, or fewer).
    """
    point = open_checkpoint(signed.note, signed.key)
    if point.size > len(rows):
        raise VerificationError(
            f"{path}: the checkpoint covers {point.size} entries, the file has only "
            f"{len(rows)}; nothing was changed"
        )
    tree = Tree()
    tree.extend(merkle.leaf_hash(entry_line(*r.fields()).encode()) for r in rows[: point.size])
    if tree.root() != point.root:
        raise VerificationError(
            f"{path}: its first {point.size} entries do not make the root signed in the "
            f"checkpoint ({point.describe()}): the file was rewritten; nothing was changed"
        )
    return point


def _check_state(store: Store, point: Checkpoint, report: ReplayReport) -> None:
    with store.read() as uow:
        size = uow.journal.count()
        mine = tstate.root_matching(uow, point.state_root)
    if size == point.size and point.state_root and mine != point.state_root:
        report.findings.append(
            Finding(
                point.size,
                "state",
                f"the state root replayed ({mine}) is not the one signed "
                f"({point.state_root}): this store does not hold the publisher's data",
            )
        )


def _apply_all(replayer: _Replayer, todo: Sequence[JournalRow], report: ReplayReport) -> None:
    for row in todo:
        try:
            if row.action not in SERVICE_ACTIONS:
                notes = rebuild(replayer.store, row, replayer.resolve)
                report.notes.extend(Finding(row.serial, row.action, n) for n in notes)
                report.applied += 1
                continue
            written = replayer.apply(row)
        except RirportError as exc:
            report.findings.append(
                Finding(
                    row.serial,
                    row.action,
                    f"not re-applied: {exc}; "
                    "the replay stopped here (the entries before it "
                    "are stored)",
                )
            )
            report.stopped_at = row.serial
            return
        report.applied += 1
        if written.payload != row.payload:
            report.findings.append(
                Finding(
                    row.serial,
                    row.action,
                    "payload differs: "
                    + "; ".join(differences(json.loads(row.payload), json.loads(written.payload))),
                )
            )


# -- before anything is applied ----------------------------------------------------------------
def _verify_file(path: Path, rows: Sequence[JournalRow]) -> None:
    checked = journal.verify_rows(r.fields() for r in rows)
    if not checked.ok:
        raise InputError(
            f"{path}: refusing to replay a broken journal ({len(checked.problems)}"
            f" problem(s), first: {checked.problems[0]}); nothing was changed"
        )


def _check_payloads(rows: Sequence[JournalRow]) -> None:
    """Each payload is an object, and what finding files and matching ids relies on is
    there (a chain can verify and still not be one rirport wrote)."""
    for row in rows:
        payload = json.loads(row.payload)
        if not isinstance(payload, dict):
            raise InputError(
                f"entry {row.serial}: the payload is not a JSON object; nothing was changed"
            )
        needed = {"ingest": ("sha256", "file"), "iana": ("sha256", "file")}.get(row.action, ())
        lacking = [key for key in needed if not isinstance(payload.get(key), str)]
        if lacking:
            raise InputError(
                f"entry {row.serial} ({row.action}): the payload has no "
                f"{' or '.join(lacking)}; nothing was changed"
            )
        _created_key(row)


def _stored_prefix(store: Store, rows: Sequence[JournalRow]) -> int:
    """How many of ``rows`` the store already holds, all of them exactly as in the file.

    Raises:
        ConflictError: the store's journal is not a prefix of the file, or the store has
            writes its journal does not show.
    """
    with store.transaction() as uow:
        stored = [JournalRow(*r) for chunk in uow.journal.chunks() for r in chunk]
        generation = uow.meta.generation()
    if len(stored) > len(rows):
        raise ConflictError(
            f"the store's journal has {len(stored)} entries, the file only "
            f"{len(rows)}: the store is not a prefix of the file; replay into an "
            "empty store"
        )
    for mine, theirs in zip(stored, rows, strict=False):
        if mine != theirs:
            raise ConflictError(
                f"the store's journal differs from the file at serial "
                f"{theirs.serial} (store: {mine.action} {mine.hash[:12]}…, "
                f"file: {theirs.action} {theirs.hash[:12]}…): replay continues "
                "only a store whose journal is a prefix of the file; nothing "
                "was changed"
            )
    if generation != len(stored):
        raise ConflictError(
            f"the store's write generation is {generation} but its journal has "
            f"{len(stored)} entries: it holds changes its journal does not "
            "show, so replayed serials would not match; replay into an empty "
            "store"
        )
    return len(stored)


def resolve_files(todo: Sequence[JournalRow], paths: Sequence[Path]) -> dict[int, Path]:
    """The file for each ingest and IANA entry, by the sha256 its payload records (of the
    content for statistics files, which may be given compressed; of the file for IANA's).
    Among files with that content, the one with the recorded name is preferred.

    Raises:
        InputError: an entry's file is not among ``paths`` (every such entry named).
    """
    wanted = {r.serial: json.loads(r.payload) for r in todo if r.action in FILE_ACTIONS}
    if not wanted:
        return {}
    found = _index(paths, {p["sha256"] for p in wanted.values()})
    resolved, missing = {}, []
    for serial, payload in wanted.items():
        candidates = found.get(payload["sha256"], [])
        if not candidates:
            missing.append(
                f"entry {serial} needs {payload['file']} (sha256 {payload['sha256'][:12]}…)"
            )
            continue
        named = [p for p in candidates if p.name == payload["file"]]
        resolved[serial] = (named or candidates)[0]
    if missing:
        raise InputError(
            f"{'; '.join(missing)}: no file given with --files has that content "
            f"({len(paths)} file(s) looked at); nothing was changed"
        )
    return resolved


def _index(paths: Sequence[Path], wanted: set[str]) -> dict[str, list[Path]]:
    """Files by the hashes of their bytes and of their decompressed content."""
    found: dict[str, list[Path]] = {}
    for path in paths:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ParseError(str(path), None, f"cannot read file: {exc.strerror or exc}") from exc
        digests = {hashlib.sha256(raw).hexdigest()}
        # not a text file a statistics file could be (an IANA XML file, say): its bytes only
        with contextlib.suppress(ParseError):
            digests.add(source_from_bytes(raw, str(path)).content_sha256)
        for digest in digests & wanted:
            found.setdefault(digest, []).append(path)
    return found


def _check_regimes(todo: Sequence[JournalRow], regimes: dict[str, str]) -> None:
    for row in todo:
        payload = json.loads(row.payload)
        if row.action == "transfer" and payload.get("step") == "request":
            name = str(payload.get("regime"))
            try:
                load_regime(regimes.get(name, name))
            except RirportError as exc:
                raise InputError(
                    f"entry {row.serial} was decided under regime {name!r}, which "
                    f"cannot be loaded here ({exc}): give its file as "
                    f"--regime {name}=PATH; nothing was changed"
                ) from exc


# -- applying --------------------------------------------------------------------------------
class _Replayer:
    """Re-runs entries through the services, keeping the view and IANA blocks until a
    replayed entry changes them."""

    def __init__(
        self,
        store: Store,
        rows: Sequence[JournalRow],
        sources: dict[int, Path],
        regimes: dict[str, str],
    ) -> None:
        self.store, self.sources, self.regimes = store, sources, regimes
        self._created = {key: r.serial for r in rows if (key := _created_key(r)) is not None}
        self._view: CurrentView | None = None
        self._iana: IanaBlocks | None = None

    def apply(self, row: JournalRow) -> JournalRow:
        """Re-apply one entry and return the entry it wrote.

        Raises:
            RirportError: the services refused it, or wrote no entry (the store already
                held the content).
        """
        handlers: dict[str, Callable[[JournalRow, dict[str, Any]], None]] = {
            "ingest": self._ingest,
            "iana": self._iana_file,
            "transfer": self._transfer,
            "hold": self._hold,
        }
        handler = handlers.get(row.action)
        if handler is None:
            raise InputError(f"unknown action {row.action!r}")
        try:
            handler(row, json.loads(row.payload))
        except (KeyError, ValueError, TypeError) as exc:
            raise InputError(f"payload is not one this version writes ({exc!r})") from exc
        with self.store.transaction() as uow:
            written = uow.journal.get(row.serial)
        if written is None:
            raise ConflictError("the services wrote no journal entry for it")
        return written

    def resolve(self, kind: str, file_id: int) -> int:
        """This store's id of the account or token the file calls ``file_id``: the one made
        by the same serial."""
        serial = self._created.get((kind, file_id))
        if serial is None:
            raise InputError(f"{kind} #{file_id} was never created in the file")
        with self.store.read() as uow:
            if kind == "account":
                found = [a.id for a in uow.accounts.all() if a.created_serial == serial]
            else:
                found = [t.id for t in uow.accounts.tokens() if t.created_serial == serial]
        if not found:
            raise ConflictError(
                f"{kind} #{file_id} (created by entry {serial}) is not in the store"
            )
        return found[0]

    def view(self) -> CurrentView:
        if self._view is None:
            self._view = load_current(self.store)
        return self._view

    def iana(self) -> IanaBlocks:
        if self._iana is None:
            self._iana = load_iana(self.store)
        return self._iana

    def _ingest(self, row: JournalRow, payload: dict[str, Any]) -> None:
        prepared = prepare_source(
            read_source(self.sources[row.serial]),
            skip_bad_lines=bool(payload["skipped_lines"]),
            source_url=payload.get("source_url"),
            trust_header=True,
        )
        result = store_prepared(
            self.store,
            prepared,
            row.actor,
            created_at=row.created_at,
            record_events="events" in payload,
        )
        if result.outcome == "unchanged":
            raise ConflictError(
                f"{result.source}: the store already holds this content as "
                f"snapshot {result.snapshot_id}"
            )
        self._view = None

    def _iana_file(self, row: JournalRow, payload: dict[str, Any]) -> None:
        result = ingest_iana(
            self.store, self.sources[row.serial], actor=row.actor, created_at=row.created_at
        )
        if result.outcome == "unchanged":
            raise ConflictError(f"{result.file_name}: the store already holds this IANA file")
        self._iana = None

    def _transfer(self, row: JournalRow, payload: dict[str, Any]) -> None:
        step = str(payload["step"])
        if step == "request":
            self._request(row, payload)
            return
        if step not in STEPS:
            raise InputError(f"unknown transfer step {step!r}")
        advance(
            self.store,
            self.view(),
            self._stored_id("transfer", payload),
            step,
            row.actor,
            self.iana(),
            conditions_met=bool(payload["conditions_met"]) and step in ("accept", "complete"),
            reason=payload.get("reason") or "",
            created_at=row.created_at,
        )
        if step == "complete":
            self._view = None

    def _request(self, row: JournalRow, payload: dict[str, Any]) -> None:
        asked = payload["request"]
        view = self.view()
        request = build_request(
            view,
            parse_resource(asked["resource"]),
            Registry(asked["recipient"]),
            asked["recipient_holder"],
            TransferKind(asked["kind"]),
            dt.date.fromisoformat(asked["date"]),
            asked["source_holder"],
        )
        name = str(payload["regime"])
        request_transfer(
            self.store,
            view,
            request,
            self.regimes.get(name, name),
            row.actor,
            self.iana(),
            created_at=row.created_at,
        )

    def _hold(self, row: JournalRow, payload: dict[str, Any]) -> None:
        if payload["step"] == "add":
            until = payload.get("until")
            add_hold(
                self.store,
                parse_resource(payload["resource"]),
                payload["kind"],
                payload["reason"],
                row.actor,
                dt.date.fromisoformat(payload["since"]),
                dt.date.fromisoformat(until) if until else None,
                payload.get("reference"),
                created_at=row.created_at,
            )
        elif payload["step"] == "lift":
            lift_hold(
                self.store,
                self._stored_id("hold", payload),
                row.actor,
                payload.get("reason") or "",
                created_at=row.created_at,
            )
        else:
            raise InputError(f"unknown hold step {payload['step']!r}")

    def _stored_id(self, kind: str, payload: dict[str, Any]) -> int:
        """This store's id of the transfer or hold the file calls ``payload[kind]``: the one
        created by the same serial (ids themselves may differ between databases)."""
        serial = self._created.get((kind, int(payload[kind])))
        if serial is None:
            raise InputError(f"{kind} #{payload[kind]} was never created in the file")
        with self.store.transaction() as uow:
            made = uow.transfers.all() if kind == "transfer" else uow.holds.all()
        found = [m.id for m in made if m.created_serial == serial]
        if not found:
            raise ConflictError(
                f"{kind} #{payload[kind]} (created by entry {serial}) is not in the store"
            )
        return found[0]


def _created_key(row: JournalRow) -> tuple[str, int] | None:
    """("transfer", id) for a request, ("hold", id) for a hold added, else None.

    Raises:
        InputError: such an entry without its id.
    """
    payload = json.loads(row.payload)
    kind = row.action
    made = {"account-create": "account", "token-create": "token"}.get(kind)
    if made is not None:
        value = payload.get(made) if isinstance(payload, dict) else None
        return (made, value) if isinstance(value, int) else None
    if (kind, payload.get("step")) not in (("transfer", "request"), ("hold", "add")):
        return None
    if not isinstance(payload.get(kind), int):
        raise InputError(
            f"entry {row.serial} ({kind} {payload['step']}): the payload has no "
            f"{kind} id; nothing was changed"
        )
    return kind, int(payload[kind])


def differences(theirs: Any, mine: Any) -> list[str]:
    """Where two payloads differ, each path with both values (shortened): the shallowest
    first (``state`` before ``decision.outcome`` before a rule's message), at most a few."""
    found = sorted(_paths(theirs, mine, ""), key=lambda p: p[0].count(".") + p[0].count("["))
    listed = [
        f"{path or 'payload'}: file {_short(a)}, replay {_short(b)}"
        for path, a, b in found[:MAX_DIFFERENCES]
    ]
    if len(found) > MAX_DIFFERENCES:
        listed.append(f"and {len(found) - MAX_DIFFERENCES} more")
    return listed


def _paths(theirs: Any, mine: Any, where: str) -> list[tuple[str, Any, Any]]:
    if isinstance(theirs, dict) and isinstance(mine, dict):
        return [
            d
            for key in sorted(set(theirs) | set(mine))
            for d in _paths(theirs.get(key), mine.get(key), f"{where}.{key}".lstrip("."))
        ]
    if isinstance(theirs, list) and isinstance(mine, list) and len(theirs) == len(mine):
        return [
            d
            for i, (a, b) in enumerate(zip(theirs, mine, strict=True))
            for d in _paths(a, b, f"{where}[{i}]")
        ]
    return [] if theirs == mine else [(where, theirs, mine)]


def _short(value: Any, width: int = 80) -> str:
    text = journal.canonical(value)
    return text if len(text) <= width else text[: width - 1] + "…"
