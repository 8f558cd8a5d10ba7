"""Each RIR's archive layout, read from folder listings rather than guessed URL by URL.

The five registries keep their dated files in different folders, under names of one shape
(``delegated-<rir>[-extended]-<YYYYMMDD>[.gz|.bz2]``) with a ``.md5`` beside many of them.
Which years sit in which folder, and when each switched compression or from the standard to
the extended format, is not fully documented (``docs/sync.md`` lists what is confirmed and
what is assumed). So a layout here says only *which folders to list* for a year; the files
themselves, their compression and their checksum files are taken from what each listing
shows. One probe per folder instead of several per day, and a registry that moved files or
changed compression is still read right.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Literal
from urllib.parse import unquote, urljoin, urlsplit

from rirport.domain.enums import Registry

Compression = Literal["gzip", "bzip2", "xz"] | None
ChecksumOf = Literal["file", "content"]

_SUFFIX: dict[str, Compression] = {"": None, ".gz": "gzip", ".bz2": "bzip2", ".xz": "xz"}
_NAME = re.compile(
    r"delegated-(?P<registry>[a-z]+)(?P<extended>-extended)?-(?P<date>\d{8})"
    r"(?P<suffix>\.gz|\.bz2|\.xz)?"
)


@dataclass(frozen=True)
class Layout:
    """Where one registry keeps its dated files, relative to its statistics folder (the
    folder of its ``-latest`` file): ``year_folders`` formatted with ``{year}``, and
    ``root_too`` when recent files sit in the statistics folder itself."""

    registry: Registry
    year_folders: tuple[str, ...]
    root_too: bool = False

    def folders(self, base: str, years: Iterable[int]) -> list[str]:
        """The folder URLs (ending in ``/``) to list for ``years``, root last."""
        root = base.rstrip("/") + "/"
        found = [urljoin(root, f.format(year=y)) for y in years for f in self.year_folders]
        return [*found, root] if self.root_too else found


#: What is known of each registry's layout (sources and certainty in docs/sync.md).
LAYOUTS: dict[Registry, Layout] = {
    Registry.AFRINIC: Layout(Registry.AFRINIC, ("{year}/",)),
    Registry.APNIC: Layout(Registry.APNIC, ("{year}/",)),
    Registry.ARIN: Layout(Registry.ARIN, ("archive/{year}/",), root_too=True),
    Registry.LACNIC: Layout(Registry.LACNIC, ("archive/{year}/",), root_too=True),
    Registry.RIPENCC: Layout(Registry.RIPENCC, ("{year}/",)),
}


@dataclass(frozen=True)
class ArchiveFile:
    """One dated file found in a listing, and the checksum file published for it (if any)."""

    registry: Registry
    date: dt.date
    extended: bool
    name: str
    url: str
    compression: Compression
    md5_url: str | None = None
    md5_of: ChecksumOf | None = None
    """"file": the ``.md5`` is of the bytes served; "content": of the decompressed file (a
    ``.md5`` named after the uncompressed name)."""

    @property
    def kind(self) -> str:
        return "extended" if self.extended else "standard"


def listing_names(html: str) -> list[str]:
    """The file names a folder listing links to (Apache, nginx and FTP-gateway indexes all
    link each entry by ``href``); folders, sorting links and other hosts left out."""
    collector = _Links()
    collector.feed(html)
    names = []
    for href in collector.hrefs:
        parts = urlsplit(href)
        if parts.query or parts.fragment or href.endswith("/"):
            continue
        name = unquote(parts.path.rsplit("/", 1)[-1])
        if name:
            names.append(name)
    return sorted(set(names))


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href" and v]


def files_in(registry: Registry, folder: str, names: Sequence[str]) -> list[ArchiveFile]:
    """The registry's dated files among ``names`` (a listing of ``folder``), each with the
    ``.md5`` beside it: one named after the file itself, else after its uncompressed name."""
    present = set(names)
    found = []
    for name in names:
        match = _NAME.fullmatch(name)
        if match is None or match["registry"] != registry.value:
            continue
        try:
            date = dt.datetime.strptime(match["date"], "%Y%m%d").date()
        except ValueError:
            continue
        suffix = match["suffix"] or ""
        plain = name.removesuffix(suffix)
        md5_url, md5_of = None, None
        if f"{name}.md5" in present:
            md5_url, md5_of = urljoin(folder, f"{name}.md5"), "file"
        elif suffix and f"{plain}.md5" in present:
            md5_url, md5_of = urljoin(folder, f"{plain}.md5"), "content"
        found.append(
            ArchiveFile(
                registry,
                date,
                bool(match["extended"]),
                name,
                urljoin(folder, name),
                _SUFFIX[suffix],
                md5_url,
                md5_of,  # type: ignore[arg-type]
            )
        )
    return found


def one_per_day(files: Iterable[ArchiveFile]) -> dict[dt.date, ArchiveFile]:
    """The file that stands for each day: the extended one where both formats exist (it has
    every record of the standard one and more), then one with a checksum, then uncompressed
    over compressed (the same file listed twice: a copy in the root and in a year folder)."""
    chosen: dict[dt.date, ArchiveFile] = {}
    for f in files:
        best = chosen.get(f.date)
        if best is None or _rank(f) < _rank(best):
            chosen[f.date] = f
    return dict(sorted(chosen.items()))


def _rank(f: ArchiveFile) -> tuple[bool, bool, bool, str]:
    return (not f.extended, f.md5_url is None, f.compression is not None, f.url)


def missing_days(dates: Iterable[dt.date], start: dt.date, end: dt.date) -> list[dt.date]:
    """Days in ``start .. end`` with no file, counted only between the registry's first and
    last file in that span (before its first file it had not started publishing; after its
    last, the day is not over or the file not yet archived)."""
    present = sorted(d for d in dates if start <= d <= end)
    if not present:
        return []
    have = set(present)
    span = (present[-1] - present[0]).days
    every = (present[0] + dt.timedelta(days=i) for i in range(span + 1))
    return [d for d in every if d not in have]


def day_ranges(days: Sequence[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive days folded into (first, last) ranges, for reports people can read."""
    ranges: list[tuple[dt.date, dt.date]] = []
    for day in sorted(days):
        if ranges and day - ranges[-1][1] == dt.timedelta(days=1):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


__all__ = [
    "LAYOUTS",
    "ArchiveFile",
    "Layout",
    "day_ranges",
    "files_in",
    "listing_names",
    "missing_days",
    "one_per_day",
]
