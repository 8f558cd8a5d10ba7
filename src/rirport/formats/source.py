"""Opening input files: decompression, and refusing what is not text before parsing it."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
import zlib
from dataclasses import dataclass
from pathlib import Path

from rirport.errors import ParseError

_MAGIC = {b"\x1f\x8b": "gzip", b"\xfd7zXZ\x00": "xz", b"BZh": "bzip2"}


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
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ParseError(label, None, f"cannot read file: {exc.strerror or exc}") from exc
    return source_from_bytes(raw, label)


def source_from_bytes(raw: bytes, name: str) -> SourceFile:
    """As :func:`read_source`, for bytes already in memory (downloads, bundled data)."""
    compression = next((kind for magic, kind in _MAGIC.items() if raw.startswith(magic)), None)
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
    try:
        if kind == "gzip":
            return gzip.decompress(raw)
        if kind == "xz":
            return lzma.decompress(raw)
        return bz2.decompress(raw)
    except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError) as exc:
        raise ParseError(name, None, f"corrupt {kind} data ({exc})") from exc


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
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ParseError(name, line, f"not UTF-8 text (byte 0x{data[exc.start]:02x})") from None
