"""Country names as the statistics files use them: ISO 3166 alpha-2 codes (names and numeric
codes from ``pycountry``, the Debian iso-codes data), plus the RIRs' own ``EU``, ``AP`` and
``ZZ``. The one place rirport names a country, for the terminal and the pages alike.

A name is resolved exactly (code, common, official or ISO name, case-insensitive); a near
miss is left to :func:`suggest` (what the search page offers), never guessed.
"""

from __future__ import annotations

from functools import cache

import pycountry

SPECIAL = {
    "EU": "European Union (a RIPE NCC code)",
    "AP": "Asia-Pacific (an APNIC code)",
    "ZZ": "Unknown or unstated",
}


@cache
def _names() -> dict[str, str]:
    """Lower-case spellings → alpha-2 code."""
    out: dict[str, str] = {}
    for c in pycountry.countries:
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
    found = pycountry.countries.get(alpha_2=cc) if len(cc) == 2 else None
    if found is None:
        return cc or "none"
    return str(getattr(found, "common_name", None) or found.name)


def numeric(cc: str) -> str | None:
    """ISO 3166-1 numeric code (``ZA`` → ``710``): how world maps name countries."""
    found = pycountry.countries.get(alpha_2=cc) if len(cc) == 2 else None
    return None if found is None else str(found.numeric)


def known(cc: str) -> bool:
    return cc in SPECIAL or (len(cc) == 2 and pycountry.countries.get(alpha_2=cc) is not None)


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
