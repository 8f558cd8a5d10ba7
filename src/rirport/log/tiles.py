"""Tiles and entry bundles (C2SP tlog-tiles): the tree as static, cacheable files.

Tile ``L/N`` holds the 256 hashes at tree height 8·L with indices N·256 … N·256 + 255 (level
0: leaf hashes); a partial tile ``L/N.p/W`` holds the first W of them, for the right edge of a
checkpointed size. Entry bundle ``entries/N`` holds entries N·256 … as big-endian uint16
length-prefixed byte strings. N is written in three-digit path elements, all but the last
prefixed with ``x`` (1234067 → ``x001/x234/067``).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from rirport.errors import VerificationError
from rirport.log.merkle import HASH_SIZE, NodeSource

WIDTH = 256
HEIGHT = 8
MAX_ENTRY = 0xFFFF


def encode_index(index: int) -> str:
    """N as tlog-tiles path elements."""
    if index < 0:
        raise ValueError("negative tile index")
    digits = f"{index:03d}"
    while len(digits) % 3:
        digits = "0" + digits
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*(f"x{g}" for g in groups[:-1]), groups[-1]])


@dataclass(frozen=True)
class TileRef:
    """A tile (``level`` ≥ 0) or an entry bundle (``level`` None) and its width."""

    level: int | None
    index: int
    width: int = WIDTH

    @property
    def partial(self) -> bool:
        return self.width < WIDTH

    def path(self) -> str:
        where = "entries" if self.level is None else str(self.level)
        suffix = f".p/{self.width}" if self.partial else ""
        return f"tile/{where}/{encode_index(self.index)}{suffix}"


def parse_path(path: str) -> TileRef:
    """Read ``tile/<L>/<N>[.p/<W>]`` or ``tile/entries/<N>[.p/<W>]`` (leading ``tile/``
    optional).

    Raises:
        VerificationError: the path is not one (the part that is wrong said).
    """
    parts = path.strip("/").split("/")
    if parts and parts[0] == "tile":
        parts = parts[1:]
    if len(parts) < 2:
        raise VerificationError(f"not a tile path: {path!r}")
    where, rest = parts[0], parts[1:]
    width = WIDTH
    if len(rest) >= 2 and rest[-2].endswith(".p"):
        if not rest[-1].isdigit() or rest[-1].startswith("0") or not 1 <= int(rest[-1]) < WIDTH:
            raise VerificationError(f"bad partial width in tile path {path!r}")
        width = int(rest[-1])
        rest = [*rest[:-2], rest[-2][:-2]]
    if not all(len(p) == 4 and p[0] == "x" and p[1:].isdigit() for p in rest[:-1]) or not (
        len(rest[-1]) == 3 and rest[-1].isdigit()
    ):
        raise VerificationError(f"bad tile index in path {path!r}")
    index = int("".join(p.lstrip("x") for p in rest))
    if encode_index(index) != "/".join(rest):
        raise VerificationError(f"tile index not in canonical form in {path!r}")
    if where == "entries":
        return TileRef(None, index, width)
    if not where.isdigit() or (where != "0" and where.startswith("0")) or int(where) > 63:
        raise VerificationError(f"bad tile level in path {path!r}")
    return TileRef(int(where), index, width)


def tiles_for_size(size: int) -> Iterator[TileRef]:
    """Every hash tile and entry bundle a tree of ``size`` is published as (full ones and the
    partial right edge at each level)."""
    level = 0
    while True:
        span = WIDTH**level
        count = size // span
        if count == 0:
            break
        full, rest = divmod(count, WIDTH)
        for n in range(full):
            yield TileRef(level, n)
            if level == 0:
                yield TileRef(None, n)
        if rest:
            yield TileRef(level, full, rest)
            if level == 0:
                yield TileRef(None, full, rest)
        level += 1


def tile_hashes(source: NodeSource, ref: TileRef) -> bytes:
    """The bytes of a hash tile."""
    assert ref.level is not None
    height = HEIGHT * ref.level
    start = ref.index * WIDTH
    return b"".join(source.node(height, start + i) for i in range(ref.width))


def encode_bundle(entries: Sequence[bytes]) -> bytes:
    out = bytearray()
    for entry in entries:
        if len(entry) > MAX_ENTRY:
            raise ValueError(f"an entry of {len(entry)} bytes does not fit a bundle")
        out += struct.pack(">H", len(entry)) + entry
    return bytes(out)


def decode_bundle(data: bytes, expected: int, what: str = "entry bundle") -> list[bytes]:
    """The entries of a bundle, which must hold exactly ``expected`` of them.

    Raises:
        VerificationError: truncated, too long, or a different count.
    """
    entries: list[bytes] = []
    at = 0
    while at < len(data):
        if at + 2 > len(data):
            raise VerificationError(f"{what} is truncated (a length prefix is cut)")
        (length,) = struct.unpack_from(">H", data, at)
        at += 2
        if at + length > len(data):
            raise VerificationError(
                f"{what} is truncated (entry {len(entries)} needs {length} bytes, "
                f"{len(data) - at} left)"
            )
        entries.append(data[at : at + length])
        at += length
    if len(entries) != expected:
        raise VerificationError(f"{what} holds {len(entries)} entries, not {expected}")
    return entries


def split_hashes(data: bytes, expected: int, what: str = "hash tile") -> list[bytes]:
    if len(data) != expected * HASH_SIZE:
        raise VerificationError(
            f"{what} has {len(data)} bytes, not {expected * HASH_SIZE} (truncated or wrong)"
        )
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]
