"""The table :func:`rirport.cli.output.print_table` prints when its output is not a terminal,
drawn without importing Rich (a fifth of a one-address lookup's start-up).

Off a terminal the table is plain text at a fixed width of 150 columns: no colours, no
terminal size. For that case this module lays it out as Rich 15 does (its measurement, the
shrinking of the widest columns until the table fits, word wrapping with long words folded,
the centred title) and answers None for anything it does not reproduce, so the caller uses
Rich: characters outside printable ASCII and the Latin letters (wide and combining ones),
``[`` and ``\\`` (markup), titles that need wrapping, headers that would wrap, a stream Rich
would treat as a terminal or one that cannot take the box characters. A test renders many real
lookups both ways and compares the bytes, so a change of Rich's layout fails there, not in
front of users.
"""

from __future__ import annotations

import itertools
import os
import re
import sys
from collections.abc import Mapping, Sequence
from typing import IO

WIDTH = 150
"""The width Rich is given off a terminal (:func:`rirport.cli.output.print_table`)."""

_WORD = re.compile(r"\s*\S+\s*")  # rich._wrap.re_word
_PAD = 1  # each cell's padding on either side
_SINGLE_CELLS = re.compile(r"[\x20-\x5a\x5d-\x7e\xa1-\xac\xae-\u02ff]*")
"""Text drawn here: characters one cell wide that Rich measures without its Unicode tables
(printable ASCII and Latin letters, as in "TR (Türkiye)"), without ``[`` or ``\\``
(markup)."""


def rich_sees_a_terminal(stream: IO[str], environ: Mapping[str, str] = os.environ) -> bool:
    """Whether Rich's ``Console(file=stream).is_terminal`` is true (a test holds the two to
    one answer): ``TTY_COMPATIBLE`` decides, else ``FORCE_COLOR``, else ``isatty``."""
    compatible = environ.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "1"
    force = environ.get("FORCE_COLOR")
    if force is not None:
        return force != ""
    isatty = getattr(stream, "isatty", None)
    try:
        return False if isatty is None else bool(isatty())
    except ValueError:  # a closed stream
        return False


def usable(stream: IO[str], environ: Mapping[str, str] = os.environ) -> bool:
    """Whether Rich would print to ``stream`` as plain text with its Unicode box: not a
    terminal, an encoding of the UTF family, not Windows' legacy console, not IPython."""
    encoding = (getattr(stream, "encoding", "utf-8") or "utf-8").lower()
    return (
        not rich_sees_a_terminal(stream, environ)
        and encoding.startswith("utf")
        and sys.platform != "win32"
        and "IPython" not in sys.modules
    )


def _plain(text: str) -> bool:
    return _SINGLE_CELLS.fullmatch(text) is not None


def render(
    rows: Sequence[Sequence[str]], columns: Sequence[str], title: str | None = None
) -> str | None:
    """The text Rich prints for ``Table(title=title)`` with ``columns`` (folding overflow) and
    ``rows`` on a 150-column console that is not a terminal, or None when it is not sure to
    be the same."""
    texts = [title or "", *columns, *(cell for row in rows for cell in row)]
    if not columns or not all(_plain(text) for text in texts):
        return None
    cells = [[name, *(row[i] for row in rows)] for i, name in enumerate(columns)]
    extra = 2 + len(columns) - 1  # the outer edges and the dividers
    widths = _widths(cells, WIDTH - extra)
    if widths is None:
        return None
    table_width = sum(widths) + extra
    out: list[str] = []
    if title:
        if title != " ".join(title.split()) or len(title) > table_width:
            return None  # Rich would wrap or respace it
        left = (table_width - len(title)) // 2
        out.append(" " * left + title + " " * (table_width - len(title) - left))
    out.append("┏" + "┳".join("━" * w for w in widths) + "┓")
    header = [_lines(name, w) for name, w in zip(columns, widths, strict=True)]
    if any(len(lines) > 1 for lines in header):
        return None  # a header that wraps is aligned to the bottom: not drawn here
    out.append("┃" + "┃".join(lines[0] for lines in header) + "┃")
    out.append("┡" + "╇".join("━" * w for w in widths) + "┩")
    for row in rows:
        parts = [_lines(cell, w) for cell, w in zip(row, widths, strict=True)]
        height = max(len(p) for p in parts)
        for n in range(height):
            line = [p[n] if n < len(p) else " " * w for p, w in zip(parts, widths, strict=True)]
            out.append("│" + "│".join(line) + "│")
    out.append("└" + "┴".join("─" * w for w in widths) + "┘")
    return "\n".join(out) + "\n"


def _measure(text: str, width: int) -> tuple[int, int]:
    """Rich's ``Measurement.get`` of a padded cell holding ``text`` within ``width``."""
    if width < 1:
        return 0, 0
    if width - 2 * _PAD < 1:
        low, high = width, width
    else:
        words = text.split()
        high = len(text)
        low = max(len(w) for w in words) if words else high
        low, high = _bounded(low, high, width)
        low, high = (0, 0) if high < 1 else (low, high)
        low, high = min(low + 2 * _PAD, width), min(high + 2 * _PAD, width)
    low, high = _bounded(low, high, width)
    return (0, 0) if high < 1 else (low, high)


def _bounded(low: int, high: int, width: int) -> tuple[int, int]:
    """``Measurement(low, high).normalize().with_maximum(width)``."""
    low = min(max(0, low), high)
    low, high = max(0, low), max(0, max(low, high))
    return min(low, width), min(high, width)


def _column(texts: list[str], width: int) -> tuple[int, int]:
    """Rich's ``Table._measure_column`` of a column of padded cells."""
    if width < 1:
        return 0, 0
    measured = [_measure(text, width) for text in texts]
    low = max(m[0] for m in measured) if measured else 1
    high = max(m[1] for m in measured) if measured else width
    return min(low, width), min(high, width)


def _widths(cells: list[list[str]], max_width: int) -> list[int] | None:
    """Rich's ``Table._calculate_column_widths`` (no expansion, every column wrappable)."""
    widths = [_column(texts, max_width)[1] or 1 for texts in cells]
    if sum(widths) > max_width:
        widths = _collapse(widths, max_width)
        if sum(widths) > max_width:
            widths = _ratio_reduce(sum(widths) - max_width, [1] * len(widths), widths, widths)
        widths = [_column(texts, w)[1] or 0 for texts, w in zip(cells, widths, strict=True)]
    return widths if all(w > 2 * _PAD for w in widths) else None


def _collapse(widths: list[int], max_width: int) -> list[int]:
    """Rich's ``Table._collapse_widths``: narrow the widest columns to the next widest, in
    steps, until the table fits."""
    total = sum(widths)
    excess = total - max_width
    while total and excess > 0:
        widest = max(widths)
        second = max((w if w != widest else 0) for w in widths)
        difference = widest - second
        ratios = [1 if w == widest else 0 for w in widths]
        if not any(ratios) or not difference:
            break
        widths = _ratio_reduce(excess, ratios, [min(excess, difference)] * len(widths), widths)
        total = sum(widths)
        excess = total - max_width
    return widths


def _ratio_reduce(
    total: int, ratios: list[int], maximums: list[int], values: list[int]
) -> list[int]:
    """``rich._ratio.ratio_reduce``."""
    ratios = [ratio if top else 0 for ratio, top in zip(ratios, maximums, strict=True)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return values[:]
    remaining = total
    result = []
    for ratio, top, value in zip(ratios, maximums, values, strict=True):
        if ratio and total_ratio > 0:
            distributed = min(top, round(ratio * remaining / total_ratio))
            result.append(value - distributed)
            remaining -= distributed
            total_ratio -= ratio
        else:
            result.append(value)
    return result


def _lines(text: str, width: int) -> list[str]:
    """A cell's lines at ``width`` (padding included): Rich's ``Text.wrap`` with folding
    overflow, left-justified."""
    inner = width - 2 * _PAD
    lines = []
    for piece in _divide(text, inner):
        if len(piece) > inner:  # Text.rstrip_end: trailing spaces past the width go
            spaces = len(piece) - len(piece.rstrip())
            piece = piece[: len(piece) - min(spaces, len(piece) - inner)]
        lines.append(" " * _PAD + piece[:inner].ljust(inner) + " " * _PAD)
    return lines


def _divide(text: str, width: int) -> list[str]:
    """``text`` cut where ``rich._wrap.divide_line`` (fold) cuts it."""
    breaks: list[int] = []
    offset = 0
    for match in _WORD.finditer(text):
        start, word = match.start(), match.group(0)
        length = len(word.rstrip())
        if width - offset >= length:
            offset += len(word)
        elif length > width:  # folded into pieces of the width
            chunks = [word[i : i + width] for i in range(0, len(word), width)]
            for n, chunk in enumerate(chunks):
                if start:
                    breaks.append(start)
                if n == len(chunks) - 1:
                    offset = len(chunk)
                else:
                    start += len(chunk)
        elif offset and start:
            breaks.append(start)
            offset = len(word)
    edges = [0, *breaks, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(edges)]
