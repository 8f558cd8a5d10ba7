"""A number of thousands of digits in a statistics file is a ``file:line`` error, never a
``ValueError`` from Python's integer conversion (issue 11 #32)."""

from __future__ import annotations

import pytest

from rirport.errors import ParseError
from rirport.formats.statsfile import read_stats

BIG = "9" * 5000
HEADER = "2.3|lacnic|20181012|1|19870101|20181012|-0300\n"


@pytest.mark.parametrize(
    ("line", "what"),
    [
        (f"lacnic|AR|ipv4|24.232.0.0|{BIG}|19970602|allocated|20118", "IPv4 count"),
        (f"lacnic|AR|asn|{BIG}|1|19970602|allocated|20118", "AS number"),
        (f"lacnic|AR|asn|1|{BIG}|19970602|allocated|20118", "ASN count"),
        (f"lacnic|AR|ipv6|2001:1280::|{BIG}|19970602|allocated|20118", "IPv6 prefix length"),
        (f"lacnic|*|ipv4|*|{BIG}|summary", "summary count"),
    ],
)
def test_a_huge_number_in_a_line_is_that_lines_error(line: str, what: str) -> None:
    stats = read_stats((HEADER + line + "\n").encode(), "big.txt")
    messages = [str(e) for e in stats.errors + stats.file_errors]
    assert f"big.txt:2: {what} has 5000 digits (at most 39 can be valid)" in messages


def test_a_huge_record_count_in_the_version_line_is_a_parse_error() -> None:
    data = f"2.3|lacnic|20181012|{BIG}|19870101|20181012|-0300\n".encode()
    with pytest.raises(ParseError, match=r"^big.txt:1: .*record count has 5000 digits"):
        read_stats(data, "big.txt")


def test_the_largest_valid_numbers_still_read() -> None:
    data = (
        b"2|arin|20181012|2|19870101|20181012|-0500\n"
        b"arin|*|asn|*|1|summary\narin|*|ipv6|*|1|summary\n"
        b"arin|US|asn|4294967294|1|20100101|allocated\n"
        b"arin|US|ipv6|2001:db8::|128|20100101|allocated\n"
    )
    stats = read_stats(data, "ok.txt")
    assert stats.errors == [] and stats.file_errors == [] and len(stats.table) == 2
