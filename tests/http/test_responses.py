"""The response encoder: orjson where it can, the standard encoder where it cannot, one JSON
value either way."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from rirport.http.responses import dumps

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
