"""What a view cache folder is called, what its ``meta.json`` must say, and which arrays it
holds: shared by the numpy side that writes and maps it (:mod:`rirport.query.view`) and the
standard-library reader of one point lookup (:mod:`rirport.query.mapped`), so both trust
exactly the same caches. Importing this costs no numpy."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

from rirport import __version__
from rirport.store.peek import StoreHead

CACHE_FORMAT = 3

TABLE_COLUMNS = (
    "registry",
    "cc",
    "type",
    "start",
    "value",
    "date",
    "undated_zeros",
    "status",
    "opaque_id",
    "has_opaque",
    "first_hi",
    "first_lo",
    "last_hi",
    "last_lo",
    "line",
)
"""The :class:`~rirport.domain.table.DelegationTable` columns, one ``<name>.npy`` each (a
test holds this to the dataclass's fields)."""

INDEX_ARRAYS = ("bounds", "best", "ptr", "covering", "by_first", "first_sorted", "row_ids")
"""The :class:`~rirport.index.ranges.RangeIndex` arrays, one ``<type>.<name>.npy`` each per
resource type (a test holds this to the dataclass's fields)."""


def cache_path(cache_dir: Path, identity: str, head: StoreHead, name: str = "current") -> Path:
    """The folder of the view ``name`` of the store ``identity`` at ``head``."""
    tag = hashlib.sha256(identity.encode()).hexdigest()[:16]
    return cache_dir / f"{name}-{tag}-g{head.generation}-v{CACHE_FORMAT}"


def cache_meta(identity: str, head: StoreHead) -> dict[str, Any]:
    """What a cache must have been written for: this format and version of rirport, this
    store, this head."""
    return {
        "format": CACHE_FORMAT,
        "rirport": __version__,
        "identity": identity,
        "head": dataclasses.asdict(head),
    }


def written_for(meta: dict[str, Any], identity: str, head: StoreHead) -> bool:
    """Whether a cache's ``meta.json`` says it holds ``identity`` at ``head`` (not another
    store's that sat at this URL at this generation, nor another version's)."""
    return {k: meta.get(k) for k in ("format", "rirport", "identity", "head")} == cache_meta(
        identity, head
    )
