"""Country names as the statistics files use them: ISO 3166 alpha-2 codes (names and numeric
codes from ``pycountry``, the Debian iso-codes data), plus the RIRs' own ``EU``, ``AP`` and
``ZZ``. The one place rirport names a country, for the terminal and the pages alike.

A name is resolved exactly (code, common, official or ISO name, case-insensitive); a near
miss is left to :func:`suggest` (what the search page offers), never guessed.

:func:`country_name` (what a lookup's table prints) reads pycountry's ISO 3166-1 file itself
rather than importing pycountry, whose import reads the package metadata (about 15 ms of the
20 ms ``rirport lookup`` spent on it); the other functions import pycountry when first called.
"""

from __future__ import annotations

import importlib.util
import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pycountry

SPECIAL = {
    "EU": "European Union (a RIPE NCC code)",
    "AP": "Asia-Pacific (an APNIC code)",
    "ZZ": "Unknown or unstated",
}


@cache
def _display_names() -> dict[str, str]:
    """Alpha-2 code → common name (else ISO name), from pycountry's data file when it is where
    pycountry keeps it (``databases/iso3166-1.json`` in the package), else from pycountry."""
    spec = importlib.util.find_spec("pycountry")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "databases" / "iso3166-1.json"
        if path.is_file():
            entries = json.loads(path.read_text(encoding="utf-8"))["3166-1"]
            return {e["alpha_2"].upper(): str(e.get("common_name") or e["name"]) for e in entries}
    return {c.alpha_2: str(getattr(c, "common_name", None) or c.name) for c in _countries()}


def _countries() -> pycountry.ExistingCountries:
    import pycountry

    return pycountry.countries


@cache
def _names() -> dict[str, str]:
    """Lower-case spellings → alpha-2 code."""
    out: dict[str, str] = {}
    for c in _countries():
        for attr in ("name", "common_name", "official_name"):
            value = getattr(c, attr, None)
            if value:
                out.setdefault(value.lower(), c.alpha_2)
    for code, name in SPECIAL.items():
        out.setdefault(name.lower(), code)
    return out


def country_name(cc: str) -> str:
    """The country's common name (the code itself when no name is known)."""
    if cc in SPECIAL:
        return SPECIAL[cc]
    name = _display_names().get(cc.upper()) if len(cc) == 2 else None
    return name or cc or "none"


def numeric(cc: str) -> str | None:
    """ISO 3166-1 numeric code (``ZA`` → ``710``): how world maps name countries."""
    found = _countries().get(alpha_2=cc) if len(cc) == 2 else None
    return None if found is None else str(found.numeric)


def known(cc: str) -> bool:
    return cc in SPECIAL or (len(cc) == 2 and _countries().get(alpha_2=cc) is not None)


def find_country(text: str) -> str | None:
    """The alpha-2 code ``text`` names exactly (a code or a name), else None."""
    cleaned = text.strip()
    if len(cleaned) == 2 and cleaned.isalpha() and known(cleaned.upper()):
        return cleaned.upper()
    return _names().get(cleaned.lower())


def suggest(text: str, limit: int = 5) -> list[str]:
    """Codes of countries whose name starts with (then contains) ``text``."""
    needle = text.strip().lower()
    if len(needle) < 2:
        return []
    names = _names()
    starts = [code for name, code in names.items() if name.startswith(needle)]
    inside = [code for name, code in names.items() if needle in name and code not in starts]
    return list(dict.fromkeys(starts + inside))[:limit]
