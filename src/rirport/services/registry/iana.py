"""IANA registries in the store: ingest a newer copy, or fall back on the bundled one.

The cross-registry check needs IANA's top level (which /8, IPv6 block or AS-number block went
to which RIR). The package ships copies (``rirport/data/iana``, see PROVENANCE.md) so the check
works on a fresh store; ``rirport ingest`` of a newer IANA file replaces the copy in use for
that source, and every answer says which copy it used.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

from rirport.domain.enums import Registry
from rirport.domain.iana import ASN_BOOTSTRAP, IPV4_SPACE, IPV6_UNICAST, IanaBlock
from rirport.domain.resources import ResourceRange
from rirport.errors import ParseError
from rirport.formats.iana import detect_iana, read_iana
from rirport.services.audit import journal
from rirport.store.keys import key_of, number_of
from rirport.store.repos.iana import IanaRow
from rirport.store.unit import Store

Outcome = Literal["ingested", "unchanged"]
Origin = Literal["stored", "bundled"]

#: Source → file name under ``rirport/data/iana``.
BUNDLED_FILES: dict[str, str] = {
    IPV4_SPACE: "ipv4-address-space.csv",
    IPV6_UNICAST: "ipv6-unicast-address-assignments.csv",
    ASN_BOOTSTRAP: "asn.json",
}


@dataclass(frozen=True)
class IanaIngestResult:
    """What happened to one IANA file."""

    source: str
    file_name: str
    sha256: str
    outcome: Outcome
    blocks: int

    @property
    def message(self) -> str:
        if self.outcome == "unchanged":
            return (
                f"{self.file_name}: IANA {self.source} with this sha256 "
                f"({self.sha256[:12]}…) is already stored; nothing changed"
            )
        return f"{self.file_name}: stored {self.blocks} IANA {self.source} blocks"


@dataclass(frozen=True)
class IanaOrigin:
    """Where the blocks of one source came from."""

    source: str
    origin: Origin
    file_name: str
    sha256: str | None
    """Of the stored file; None for a bundled copy (PROVENANCE.md lists theirs)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "origin": self.origin,
            "file": self.file_name,
            "sha256": self.sha256,
        }


class IanaBlocks(list[IanaBlock]):
    """The blocks of every source, and for each source whether they are stored or bundled.

    A list, so it goes wherever a ``list[IanaBlock]`` does (such as the integrity check).
    """

    def __init__(self, blocks: list[IanaBlock], origins: dict[str, IanaOrigin]) -> None:
        super().__init__(blocks)
        self.origins = origins


def ingest_iana(
    store: Store,
    path_or_bytes: str | Path | bytes,
    name: str | None = None,
    actor: str = "rirport",
    *,
    created_at: str | None = None,
) -> IanaIngestResult:
    """Read an IANA registry or RDAP bootstrap file and store its blocks in one transaction
    (``created_at``: the journal entry's time, for replay only).

    The stored blocks of that source are replaced; the same content (by sha256) a second time
    changes nothing and says so.

    Raises:
        ParseError: not an IANA file, malformed, unreadable, or without a single block.
    """
    data, label = _read(path_or_bytes, name)
    blocks = read_iana(data, label)
    if not blocks:
        raise ParseError(label, None, "no blocks: refusing to replace the stored ones with nothing")
    source, sha256 = blocks[0].source, hashlib.sha256(data).hexdigest()
    file_name = Path(label).name
    with store.transaction() as uow:
        if uow.iana.sources().get(source) == sha256:
            return IanaIngestResult(source, file_name, sha256, "unchanged", len(blocks))
        uow.iana.replace(source, file_name, sha256, [to_row(b) for b in blocks])
        journal.append(
            uow,
            actor,
            "iana",
            {"source": source, "file": file_name, "sha256": sha256, "blocks": len(blocks)},
            created_at=created_at,
        )
    return IanaIngestResult(source, file_name, sha256, "ingested", len(blocks))


def is_iana_file(path: str | Path) -> bool:
    """True when a file on disk is one :func:`ingest_iana` reads (for routing in ingest).

    Reads only the first 4 KiB unless the file looks like JSON (a bootstrap file must be
    parsed whole to be told from other JSON), so routing costs nothing for statistics files.
    """
    try:
        with Path(path).open("rb") as handle:
            head = handle.read(4096)
            if head.lstrip().startswith(b"{"):
                head += handle.read()
    except OSError:
        return False
    return detect_iana(str(path), head) is not None


def load_iana(store: Store) -> IanaBlocks:
    """Stored blocks of each stored source, bundled blocks of the sources not stored."""
    with store.transaction() as uow:
        rows = uow.iana.blocks()
        stored = uow.iana.sources()
        names = uow.iana.file_names()
    blocks = [from_row(r) for r in rows]
    origins = {s: IanaOrigin(s, "stored", names.get(s, ""), sha) for s, sha in stored.items()}
    for source, file_name in BUNDLED_FILES.items():
        if source not in stored:
            blocks += bundled_iana(source)
            origins[source] = IanaOrigin(source, "bundled", file_name, None)
    return IanaBlocks(blocks, dict(sorted(origins.items())))


@functools.cache
def bundled_iana(source: str) -> tuple[IanaBlock, ...]:
    """The blocks of the copy of ``source`` shipped with the package (read once).

    Raises:
        KeyError: no copy of that source is bundled.
    """
    file_name = BUNDLED_FILES[source]
    data = files("rirport").joinpath("data").joinpath("iana").joinpath(file_name).read_bytes()
    return tuple(read_iana(data, f"rirport/data/iana/{file_name}"))


def to_row(block: IanaBlock) -> IanaRow:
    rtype = block.resource.type
    return IanaRow(
        source=block.source,
        lo=key_of(rtype, block.resource.first),
        hi=key_of(rtype, block.resource.last),
        prefix=block.prefix,
        designation=block.designation,
        registry=block.registry.value if block.registry else None,
        status=block.status,
        date=block.date,
        note=block.note,
    )


def from_row(row: IanaRow) -> IanaBlock:
    rtype, first = number_of(row.lo)
    _, last = number_of(row.hi)
    return IanaBlock(
        source=row.source,
        resource=ResourceRange(rtype, first, last),
        prefix=row.prefix,
        designation=row.designation,
        registry=Registry(row.registry) if row.registry else None,
        status=row.status,
        date=row.date,
        note=row.note,
    )


def _read(path_or_bytes: str | Path | bytes, name: str | None) -> tuple[bytes, str]:
    if isinstance(path_or_bytes, bytes):
        return path_or_bytes, name or "<bytes>"
    label = name or str(path_or_bytes)
    try:
        return Path(path_or_bytes).read_bytes(), label
    except OSError as exc:
        raise ParseError(label, None, f"cannot read file: {exc.strerror or exc}") from exc
