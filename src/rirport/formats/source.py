"""Opening input files: decompression, and refusing what is not text before parsing it."""

from __future__ import annotations

import bz2
import hashlib
import lzma
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rirport.errors import ParseError

_MAGIC = {b"\x1f\x8b": "gzip", b"\xfd7zXZ\x00": "xz", b"BZh": "bzip2"}
MAX_CONTENT_BYTES = 256 * 1024 * 1024
"""The largest content read, compressed or not: 256 MiB, about twenty times the largest real
statistics file (RIPE NCC's extended file, 13 MB in 2018). Decompression streams and stops
there, so a small archive that inflates to gigabytes is refused, not inflated."""
_CHUNK = 4 * 1024 * 1024


@dataclass(frozen=True)
class SourceFile:
    """A file's text content with its provenance."""

    name: str
    """How messages name the file (the path as given)."""
    data: bytes
    """Decompressed content."""
    file_sha256: str
    """Hash of the bytes on disk (compressed if the file is)."""
    content_sha256: str
    """Hash of the decompressed content: the same file gzipped or not is the same snapshot."""
    compression: str | None


def read_source(path: str | Path, name: str | None = None) -> SourceFile:
    """Read a file, decompressing gzip/xz/bzip2 by their magic bytes.

    Raises:
        ParseError: unreadable, corrupt compressed data, empty, binary or HTML.
    """
    label = name or str(path)
    try:
        size = Path(path).stat().st_size
        if size > MAX_CONTENT_BYTES:
            raise _too_large(label, f"the file is {size:,} bytes")
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ParseError(label, None, f"cannot read file: {exc.strerror or exc}") from exc
    return source_from_bytes(raw, label)


def source_from_bytes(raw: bytes, name: str) -> SourceFile:
    """As :func:`read_source`, for bytes already in memory (downloads, bundled data)."""
    compression = next((kind for magic, kind in _MAGIC.items() if raw.startswith(magic)), None)
    if compression is None and len(raw) > MAX_CONTENT_BYTES:
        raise _too_large(name, f"it is {len(raw):,} bytes")
    data = _decompress(raw, compression, name) if compression else raw
    check_text(data, name)
    file_sha256 = hashlib.sha256(raw).hexdigest()
    return SourceFile(
        name=name,
        data=data,
        file_sha256=file_sha256,
        content_sha256=hashlib.sha256(data).hexdigest() if compression else file_sha256,
        compression=compression,
    )


def _decompress(raw: bytes, kind: str, name: str) -> bytes:
    """Inflate in chunks, every member or stream of the file, refusing content past
    :data:`MAX_CONTENT_BYTES` as soon as it gets there.

    Raises:
        ParseError: corrupt or truncated data, or content over the limit.
    """
    chunks: list[bytes] = []
    size = 0
    pending = raw
    try:
        while pending:
            decompressor = _decompressor(kind)
            for chunk in _stream(decompressor, pending):
                size += len(chunk)
                if size > MAX_CONTENT_BYTES:
                    raise _too_large(name, f"its {kind} data inflates past that")
                chunks.append(chunk)
            if not decompressor.eof:
                raise EOFError("compressed file ended before the end-of-stream marker")
            pending = decompressor.unused_data
            if not pending.strip(b"\0"):  # padding after the last member
                break
    except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError) as exc:
        raise ParseError(name, None, f"corrupt {kind} data ({exc})") from exc
    return b"".join(chunks)


def _decompressor(kind: str) -> Any:
    if kind == "gzip":
        return zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    if kind == "xz":
        return lzma.LZMADecompressor()
    return bz2.BZ2Decompressor()


def _stream(decompressor: Any, data: bytes) -> Iterator[bytes]:
    """The output of one member, at most :data:`_CHUNK` bytes at a time."""
    if isinstance(decompressor, bz2.BZ2Decompressor | lzma.LZMADecompressor):
        yield decompressor.decompress(data, _CHUNK)
        while not (decompressor.eof or decompressor.needs_input):
            yield decompressor.decompress(b"", _CHUNK)
        return
    while data and not decompressor.eof:  # zlib: the input it did not take yet is the tail
        chunk = decompressor.decompress(data, _CHUNK)
        yield chunk
        if not chunk and decompressor.unconsumed_tail == data:
            break  # no progress: the stream is damaged (eof stays false)
        data = decompressor.unconsumed_tail
    if not decompressor.eof:
        yield decompressor.flush()


def _too_large(name: str, what: str) -> ParseError:
    return ParseError(
        name,
        None,
        f"refused: {what}; rirport reads at most {MAX_CONTENT_BYTES // (1024 * 1024)} MiB of "
        "content a file (the largest real statistics file is about 13 MB)",
    )


def check_text(data: bytes, name: str) -> None:
    """Refuse empty, binary, HTML and non-UTF-8 content with a message that says which.

    Raises:
        ParseError: the content cannot be a statistics file.
    """
    if not data or data.isspace():  # isspace stops at the first other byte; strip copies
        raise ParseError(name, None, "file is empty")
    head = data[:1024].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")) or (
        head.startswith(b"<") and b"<html" in head
    ):
        raise ParseError(
            name,
            None,
            "this is an HTML/XML page (an error page from the server?), not a statistics file",
        )
    nul = data.find(b"\0")
    if nul >= 0:
        raise ParseError(
            name, data.count(b"\n", 0, nul) + 1, "binary data (NUL byte), not a statistics file"
        )
    if data.isascii():  # nearly every statistics file: valid UTF-8 without decoding it
        return
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ParseError(name, line, f"not UTF-8 text (byte 0x{data[exc.start]:02x})") from None
