"""IANA registries in the store: ingest a newer copy of a source.

The cross-registry check needs IANA's top level (which /8, IPv6 block or AS-number block went
to which RIR). The package ships copies; ``rirport ingest`` of a newer IANA file replaces the
copy in use for that source. Reading them back (stored or bundled) is
:mod:`rirport.query.iana`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rirport.domain.iana import IanaBlock
from rirport.errors import ParseError
from rirport.formats.iana import detect_iana, read_iana
from rirport.services.audit import journal
from rirport.store.keys import key_of
from rirport.store.repos.iana import IanaRow
from rirport.store.unit import Store

Outcome = Literal["ingested", "unchanged"]


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


def _read(path_or_bytes: str | Path | bytes, name: str | None) -> tuple[bytes, str]:
    if isinstance(path_or_bytes, bytes):
        return path_or_bytes, name or "<bytes>"
    label = name or str(path_or_bytes)
    try:
        return Path(path_or_bytes).read_bytes(), label
    except OSError as exc:
        raise ParseError(label, None, f"cannot read file: {exc.strerror or exc}") from exc
