"""The response encoder: orjson where it can, the standard encoder where it cannot, one JSON
value either way."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rirport.http.responses import JSON, RDAP_JSON, dumps, negotiate

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**130), max_value=2**130)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text() | st.integers(), inner, max_size=4)
    ),
    max_leaves=20,
)


def standard(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


@given(VALUES)
def test_dumps_gives_the_standard_encoders_value(value: Any) -> None:
    assert json.loads(dumps(value)) == json.loads(standard(value))


def test_what_orjson_refuses_goes_to_the_standard_encoder() -> None:
    ipv6_count = 2**96
    assert dumps({"addresses": ipv6_count}) == standard({"addresses": ipv6_count})
    assert dumps({3333: "AS"}) == b'{"3333":"AS"}'
    assert dumps({"name": "Réseaux IP Européens"}) == standard({"name": "Réseaux IP Européens"})


@pytest.mark.parametrize(
    ("accept", "rdap", "api"),
    [
        (None, RDAP_JSON, JSON),
        ("application/json;q=0", None, None),  # q=0: "not acceptable" (RFC 9110 §12.4.2)
        ("application/rdap+json;q=0, application/json", JSON, JSON),
        ("application/*;q=0", None, None),
        ("*/*;q=0, application/json", JSON, JSON),  # the specific range decides
        ("application/json;q=0.9, application/rdap+json;q=0.1", JSON, JSON),
        ("application/json, application/rdap+json", RDAP_JSON, JSON),  # a tie: RDAP's own
        ("text/html, */*;q=0.1", RDAP_JSON, JSON),
        ("APPLICATION/RDAP+JSON", RDAP_JSON, JSON),
        ("application/x-ndjson", None, JSON),
        ("text/html", None, None),
        ("not a media type", None, None),
        ("not a media type, application/json", JSON, JSON),  # unreadable ranges are ignored
    ],
)
def test_accept_quality_values(accept: str | None, rdap: str | None, api: str | None) -> None:
    assert negotiate(accept, rdap=True) == rdap
    assert negotiate(accept, rdap=False) == api
