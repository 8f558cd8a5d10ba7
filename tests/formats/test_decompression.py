"""Compressed input is inflated in chunks up to a documented limit: an archive that expands
to gigabytes is refused with a clear error, not inflated into a MemoryError (issue 11 #31)."""

from __future__ import annotations

import bz2
import gzip
import lzma
from collections.abc import Callable
from pathlib import Path

import pytest

from rirport.errors import ParseError
from rirport.formats import source
from rirport.formats.source import read_source, source_from_bytes
from tests.paths import TEST_DATA

TEXT = (TEST_DATA / "excerpts" / "ripencc-2018-excerpt.txt").read_bytes()
PACKERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "xz": lzma.compress,
    "bzip2": bz2.compress,
}


def gzip_bomb(size: int) -> bytes:
    """``size`` zero bytes as a gzip file of 64 MiB members (members concatenated are one
    valid gzip file), built from a single compressed member."""
    member = gzip.compress(b"\0" * (64 << 20), compresslevel=1)
    return member * (size // (64 << 20))


@pytest.mark.parametrize("kind", PACKERS)
def test_each_format_inflates_to_the_same_content(kind: str) -> None:
    got = source_from_bytes(PACKERS[kind](TEXT), "f")
    assert got.data == TEXT and got.compression == kind
    assert got.content_sha256 == source_from_bytes(TEXT, "f").content_sha256


@pytest.mark.parametrize("kind", PACKERS)
def test_several_members_are_all_read(kind: str) -> None:
    half = len(TEXT) // 2
    packed = PACKERS[kind](TEXT[:half]) + PACKERS[kind](TEXT[half:])
    assert source_from_bytes(packed, "f").data == TEXT


def test_small_chunks_give_the_same_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source, "_CHUNK", 1000)
    for packer in PACKERS.values():
        assert source_from_bytes(packer(TEXT), "f").data == TEXT


@pytest.mark.parametrize("kind", PACKERS)
def test_truncated_data_is_corrupt(kind: str) -> None:
    packed = PACKERS[kind](TEXT)
    with pytest.raises(ParseError, match=f"^f: corrupt {kind} data"):
        source_from_bytes(packed[: len(packed) // 2], "f")


def test_a_gzip_bomb_is_refused_at_the_limit(tmp_path: Path) -> None:
    """A file of a few MB holding 3 GiB of zeros, as in the finding: refused while it
    inflates (never more than the limit in memory), naming the limit."""
    bomb = tmp_path / "delegated-ripencc-extended-latest.gz"
    bomb.write_bytes(gzip_bomb(3 << 30))
    assert bomb.stat().st_size < 20_000_000  # over 150 times smaller than its content
    with pytest.raises(ParseError) as caught:
        read_source(bomb)
    message = str(caught.value)
    assert message.startswith(f"{bomb}: refused: its gzip data inflates past that")
    assert "at most 256 MiB" in message


@pytest.mark.parametrize("kind", PACKERS)
def test_the_limit_holds_for_every_format(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source, "MAX_CONTENT_BYTES", len(TEXT) - 1)
    with pytest.raises(ParseError, match=r"refused: its .* data inflates past that"):
        source_from_bytes(PACKERS[kind](TEXT), "f")
    monkeypatch.setattr(source, "MAX_CONTENT_BYTES", len(TEXT))
    assert source_from_bytes(PACKERS[kind](TEXT), "f").data == TEXT


def test_a_plain_file_over_the_limit_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(source, "MAX_CONTENT_BYTES", 100)
    path = tmp_path / "big.txt"
    path.write_bytes(TEXT)
    with pytest.raises(ParseError, match=f"refused: the file is {len(TEXT):,} bytes"):
        read_source(path)
