"""Country names read from pycountry's data file are pycountry's names."""

from __future__ import annotations

import pycountry

from rirport.present import country
from rirport.present.countries import SPECIAL, _display_names, country_name


def test_every_name_is_pycountrys() -> None:
    codes = [c.alpha_2 for c in pycountry.countries]
    assert len(codes) > 240 and set(_display_names()) == set(codes)
    for code in codes:
        found = pycountry.countries.get(alpha_2=code)
        assert found is not None
        expected = str(getattr(found, "common_name", None) or found.name)
        assert country_name(code) == expected
        assert country_name(code.lower()) == expected


def test_special_unknown_and_empty_codes() -> None:
    for code, name in SPECIAL.items():
        assert country_name(code) == name
    assert country_name("XX") == "XX"
    assert country_name("") == "none"
    assert country_name("USA") == "USA"
    assert country("US") == "US (United States)"
    assert country("TW") == "TW (Taiwan)"
