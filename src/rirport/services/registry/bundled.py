"""The real statistics files shipped inside the package, so a fresh install runs offline."""

from __future__ import annotations

import functools
import hashlib
import json
import lzma
from dataclasses import dataclass
from importlib import resources

from rirport.errors import RirportError
from rirport.formats.source import SourceFile, source_from_bytes

PACKAGE_DIR = "delegated"


@dataclass(frozen=True)
class BundledFile:
    """One bundled file and where it was copied from."""

    file: str
    compressed: str
    sha256: str
    origin: str
    header: str

    def read(self) -> SourceFile:
        """The decompressed file, checked against its recorded sha256.

        Raises:
            RirportError: the bundled copy is damaged.
        """
        raw = (resources.files("rirport.data") / PACKAGE_DIR / self.compressed).read_bytes()
        data = lzma.decompress(raw)
        if hashlib.sha256(data).hexdigest() != self.sha256:
            raise RirportError(f"bundled file {self.compressed} is damaged (sha256 mismatch)")
        return source_from_bytes(data, self.file)

    @property
    def url(self) -> str:
        return f"package:rirport/data/{PACKAGE_DIR}/{self.compressed}"


@functools.cache
def bundled_files() -> tuple[BundledFile, ...]:
    """The bundled files listed in ``provenance.json``, smallest first."""
    text = (resources.files("rirport.data") / PACKAGE_DIR / "provenance.json").read_text()
    entries = json.loads(text)["files"]
    files = [
        BundledFile(e["file"], e["compressed"], e["sha256"], e["origin"], e["header"])
        for e in entries
    ]
    return tuple(sorted(files, key=lambda f: f.file))
