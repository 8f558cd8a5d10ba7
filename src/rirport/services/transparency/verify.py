"""``rirport log verify``: trust nothing stored, recompute everything.

The tree is rebuilt from the journal's entries (their export lines), the stored tree nodes are
compared with it, every stored checkpoint must verify by the store's key and carry the root
the rebuilt tree has at its size, and the newest checkpoint's state root must be the one
recomputed from the data tables. So a journal entry edited, removed or appended behind the
log's back, a forged checkpoint, or an edit to a delegation row each shows as a problem.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from rirport.errors import VerificationError
from rirport.log.checkpoint import open_checkpoint
from rirport.log.note import Verifier
from rirport.log.tree import Tree
from rirport.services.transparency import state
from rirport.services.transparency.keys import store_vkey
from rirport.services.transparency.log import leaf_of
from rirport.store.unit import Store


@dataclass
class LogVerification:
    entries: int = 0
    checkpoints: int = 0
    root: str = ""
    state_root: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "checkpoints": self.checkpoints,
            "root": self.root,
            "state_root": self.state_root,
            "problems": self.problems,
        }


def verify_log(store: Store, verifier: Verifier | None = None, limit: int = 50) -> LogVerification:
    """Check the store's log against its journal and its data (``verifier``: the key the
    checkpoints must be signed by; default the one the store records)."""
    report = LogVerification()
    key = verifier or store_vkey(store)
    tree = Tree()
    with store.read() as uow:
        tree.extend(leaf_of(row) for row in uow.log.journal_after(0))
        stored_size = uow.log.size()
        stored = {(lv, i): h for lv, i, h in uow.log.nodes_from([])}
        checkpoints = uow.log.checkpoints()
        version = state.version_at(uow, checkpoints[-1].size) if checkpoints else 2
        recomputed = state.root_of(uow, version)  # v1: signed before the upgrade to v2
    report.entries, report.checkpoints = tree.size, len(checkpoints)
    report.root = base64.b64encode(tree.root()).decode()
    report.state_root = recomputed
    problems = report.problems
    if stored_size != tree.size:
        problems.append(
            f"the log's tree has {stored_size} entries, the journal {tree.size}: entries were "
            "added or removed behind the log's back"
        )
    for (level, index), digest in sorted(stored.items()):
        if index < tree.count(level) and tree.node(level, index) != digest:
            problems.append(
                f"stored tree node ({level}, {index}) differs from the one the journal "
                f"gives (entries {index << level}..{((index + 1) << level) - 1} were edited)"
            )
            break
    if key is None and checkpoints:
        problems.append("the store has checkpoints but no recorded log key")
    for row in checkpoints:
        if len(problems) >= limit:
            break
        _check_checkpoint(row.note, row.size, key, tree, problems)
    if (
        checkpoints
        and checkpoints[-1].size == tree.size
        and checkpoints[-1].state_root != recomputed
    ):
        problems.append(
            f"the state root recomputed from the data tables ({recomputed}) is not the one "
            f"signed at size {tree.size} ({checkpoints[-1].state_root}): the data was changed "
            "without a journal entry"
        )
    return report


def _check_checkpoint(
    note: str, size: int, key: Verifier | None, tree: Tree, problems: list[str]
) -> None:
    if key is None:
        return
    try:
        point = open_checkpoint(note, key)
    except VerificationError as exc:
        problems.append(f"checkpoint at size {size}: {exc}")
        return
    if point.size != size:
        problems.append(f"checkpoint stored at size {size} says size {point.size}")
    elif point.size > tree.size:
        problems.append(
            f"checkpoint at size {size} covers entries the journal no longer has "
            f"({tree.size}): entries were removed"
        )
    elif tree.root(point.size) != point.root:
        problems.append(
            f"checkpoint at size {size}: its root is not the journal's "
            "(an entry it covers was edited, removed or reordered)"
        )
