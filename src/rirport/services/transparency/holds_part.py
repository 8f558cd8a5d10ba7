"""The ``holds`` part of the state root kept in memory between a process's signed writes.

A hold write (added or lifted) changes the ``holds`` part, so its checkpoint needs the part's
digest anew: SHA-256 over the lines of every hold in force (:mod:`rirport.log.state`). Reading
those lines back cost a query in each such write (a round trip on PostgreSQL, about a tenth
of what the log adds to a small write, measured by ``bench/log_append.py``). Instead the
lines of the holds in force, by hold id, ride along with the other digests the last signed
write left (``Computed.holds`` in :attr:`LogTail.state <rirport.store.repos.log.LogTail>`,
valid only while the journal's head is the entry that write made), and the hold service says
what its transaction changed (:func:`note_added`, :func:`note_lifted`, with the very values it
wrote): the new lines are the kept ones with that change applied. Whenever either is missing
(a fresh process, an unsigned write since, another process's write, a change the kept lines
cannot explain) the lines are read from the table as before. Only the order of the work
changes: the digest is of the same lines, and ``rirport log verify`` still recomputes every
part from the tables alone, so a table that disagrees with what was signed still shows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from rirport.log.state import field_line
from rirport.store.unit import UnitOfWork

PART = "holds"


@dataclass
class HoldsHint:
    """What this transaction did to the holds table (``uow.state_hints["holds"]``)."""

    added: dict[int, str] = field(default_factory=dict)
    lifted: set[int] = field(default_factory=set)


def hold_line(
    resource: str,
    kind: str,
    reason: str,
    reference: str | None,
    since: dt.date | str,
    until: dt.date | str | None,
) -> str:
    """A hold's line in the ``holds`` part (dates as ISO text, as the tables give them)."""
    return field_line(resource, kind, reason, reference, since, until)


def _hint(uow: UnitOfWork) -> HoldsHint:
    found = uow.state_hints.get(PART)
    if not isinstance(found, HoldsHint):
        found = uow.state_hints[PART] = HoldsHint()
    return found


def note_added(uow: UnitOfWork, hold_id: int, line: str) -> None:
    """The hold ``hold_id`` was inserted in force with ``line`` (:func:`hold_line`)."""
    _hint(uow).added[hold_id] = line


def note_lifted(uow: UnitOfWork, hold_id: int) -> None:
    """The hold ``hold_id``, in force before, was lifted."""
    _hint(uow).lifted.add(hold_id)


def lines_after(uow: UnitOfWork, kept: dict[int, str] | None) -> dict[int, str] | None:
    """The lines of the holds in force after this transaction, by id, from ``kept`` (those
    before it) and what the hold service noted; None when they cannot be known that way."""
    hint = uow.state_hints.get(PART)
    if kept is None or not isinstance(hint, HoldsHint):
        return None
    if any(i in kept for i in hint.added) or any(i not in kept for i in hint.lifted):
        return None  # not the change of the holds the kept lines describe
    after = {i: line for i, line in kept.items() if i not in hint.lifted}
    after.update(hint.added)
    return after


def read(uow: UnitOfWork) -> dict[int, str]:
    """The lines of the holds in force, by id, from the table."""
    return {int(r[0]): field_line(*r[1:]) for r in uow.log.hold_lines()}
