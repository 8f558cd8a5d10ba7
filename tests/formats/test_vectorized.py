"""The vectorised field readers against the reference reader and the standard library.

The contract (see :mod:`rirport.formats.vectorized`): a reader may reject a field the reference
accepts (the row then goes to the reference reader), but must never accept a field the
reference rejects, and must read the same value as ``ipaddress``/``int``/``datetime.date`` for
every field it accepts. The tests feed valid spellings, then random edits of them (characters
inserted, deleted, replaced), with bytes after each field's end that look like more field, as
they do inside a real line.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections import Counter
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rirport.domain.enums import Registry
from rirport.formats import vectorized as vec
from rirport.formats.records import RecordError, parse_date, parse_record
from rirport.formats.statsfile import read_record_lines, read_stats

EXCERPTS = Path(__file__).resolve().parent.parent / "data" / "excerpts"
FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FILE_RUNS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- building the readers' input --------------------------------------------------------------


def matrix(
    fields: list[bytes], width: int, zero: bool = True, after: bytes = b""
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int32]]:
    """The fields laid out in one buffer, each followed by ``after``, gathered ``width`` wide.

    ``after`` stands for the rest of a line: a reader that looks past a field's length sees it.
    """
    starts, chunks, pos = [], [], 0
    for text in fields:
        starts.append(pos)
        chunks.append(text + after)
        pos += len(text) + len(after)
    buf = np.frombuffer(b"".join(chunks) + b"\0" * (width + 8), dtype=np.uint8)
    lengths = np.array([len(t) for t in fields], dtype=np.int32)
    return vec.gather(buf, np.array(starts, dtype=np.int32), lengths, width, zero), lengths


def edit(draw: st.DrawFn, text: str, alphabet: str, max_edits: int = 3) -> str:
    """``text`` with up to ``max_edits`` characters inserted, deleted or replaced."""
    for _ in range(draw(st.integers(0, max_edits))):
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        ch = draw(st.sampled_from(alphabet))
        if op == "insert" or not text:
            pos = draw(st.integers(0, len(text)))
            text = text[:pos] + ch + text[pos:]
        else:
            pos = draw(st.integers(0, len(text) - 1))
            text = text[:pos] + (ch if op == "replace" else "") + text[pos + 1 :]
    return text


AFTER = st.sampled_from([b"", b"|", b"0", b"5|20110811|", b"1.2", b":ff", b"::1", b"7|a"])
NOISE = "0123456789.:abcdefABCDEFxg /-|%é١"

# -- IPv4 -------------------------------------------------------------------------------------


def ref_ipv4(text: str) -> int | None:
    try:
        return int(ipaddress.IPv4Address(text))
    except ValueError:
        return None


IPV4_SURGERY = [
    lambda t: "." + t,
    lambda t: t + ".",
    lambda t: t + ".5",
    lambda t: t.rsplit(".", 1)[0],
    lambda t: t.replace(".", "..", 1),
    lambda t: t + "0",
    lambda t: "1" + t,
    lambda t: t.replace(".", "", 1),
    lambda t: t[1:],
    lambda t: t[:-1],
]


@st.composite
def ipv4_texts(draw: st.DrawFn) -> str:
    number = draw(st.integers(0, 2**32 - 1) | st.sampled_from([0, 2**32 - 1, 0x01000000]))
    text = str(ipaddress.IPv4Address(number))
    if draw(st.booleans()):  # a leading zero in one octet
        octets = text.split(".")
        k = draw(st.integers(0, 3))
        octets[k] = "0" + octets[k]
        text = ".".join(octets)
    for _ in range(draw(st.integers(0, 2))):
        text = draw(st.sampled_from(IPV4_SURGERY))(text)
    return edit(draw, text, "0123456789.:/ x-1")


@FAST
@given(st.lists(ipv4_texts(), min_size=1, max_size=20), AFTER, st.booleans())
def test_parse_ipv4_never_accepts_what_ipaddress_rejects(
    texts: list[str], after: bytes, zero: bool
) -> None:
    chars, lengths = matrix([t.encode() for t in texts], 15, zero, after)
    value, ok = vec.parse_ipv4(chars, lengths)
    for text, v, good in zip(texts, value.tolist(), ok.tolist(), strict=True):
        expected = ref_ipv4(text)
        # dotted-quad IPv4 is read exactly: the fast path accepts precisely what ipaddress does
        assert good == (expected is not None), text
        if good:
            assert v == expected, text


@FAST
@given(st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=30), AFTER)
def test_parse_ipv4_reads_every_address(numbers: list[int], after: bytes) -> None:
    texts = [str(ipaddress.IPv4Address(n)).encode() for n in numbers]
    value, ok = vec.parse_ipv4(*matrix(texts, 15, False, after))
    assert ok.all()
    assert value.tolist() == numbers


@pytest.mark.parametrize(
    "text",
    [
        "1.2.3",
        "1.2.3.4.5",
        "256.0.0.0",
        "1.2.3.04",
        "01.2.3.4",
        "1..2.3",
        ".1.2.3",
        "1.2.3.4.",
        "1.2.3.-4",
        "1.2.3.4 ",
        " 1.2.3.4",
        "1.2.3.4/24",
        "1.2.3.1000",
        "1234.1.1.1",
        "١.2.3.4",
        "255.255.255.256",
        "",
        "1.2.3.4444444444",
    ],
)
def test_parse_ipv4_rejects(text: str) -> None:
    assert ref_ipv4(text) is None
    _value, ok = vec.parse_ipv4(*matrix([text.encode()], 15, False, b"0.5"))
    assert not ok[0]


# -- IPv6 -------------------------------------------------------------------------------------


def ref_ipv6(text: str) -> int | None:
    """The reference reader's rule: ``ipaddress`` without scope ids."""
    try:
        if "%" in text:
            return None
        return int(ipaddress.IPv6Address(text))
    except ValueError:
        return None


@st.composite
def ipv6_spellings(draw: st.DrawFn) -> tuple[str, int, bool]:
    """(text, value, plain): a valid spelling; ``plain`` when it has no IPv4 tail."""
    groups = draw(
        st.lists(
            st.sampled_from([0, 0, 1, 0xFFFF]) | st.integers(0, 0xFFFF), min_size=8, max_size=8
        )
    )
    gap = None
    if draw(st.booleans()):  # "::" standing for groups i..j-1 (at the start, middle or end)
        i = draw(st.integers(0, 7))
        gap = (i, draw(st.integers(i + 1, 8)))
        groups[gap[0] : gap[1]] = [0] * (gap[1] - gap[0])
    value = int("".join(f"{g:04x}" for g in groups), 16)
    upper = draw(st.booleans())

    def hexes(part: list[int]) -> list[str]:
        out = []
        for g in part:
            digits = f"{g:x}"
            digits = digits.rjust(draw(st.integers(len(digits), 4)), "0")
            out.append(digits.upper() if upper else digits)
        return out

    tail = gap is None or gap[1] <= 6
    ipv4_tail = tail and draw(st.booleans())
    words = hexes(groups)
    if ipv4_tail:
        words[6:8] = [str(ipaddress.IPv4Address((groups[6] << 16) | groups[7]))]
    if gap is None:
        return ":".join(words), value, not ipv4_tail
    i, j = gap
    return ":".join(words[:i]) + "::" + ":".join(words[j:]), value, not ipv4_tail


IPV6_SURGERY = [
    lambda t: ":" + t,
    lambda t: t + ":",
    lambda t: t[1:],
    lambda t: t[:-1],
    lambda t: t.replace("::", ":", 1),
    lambda t: t.replace("::", ":::", 1),
    lambda t: t.replace(":", "::", 1),
    lambda t: t.rsplit(":", 1)[0] + "::",
    lambda t: "::" + t.split(":", 1)[-1],
    lambda t: "1:" + t,
    lambda t: t + ":1",
    lambda t: t.replace(":", ":0", 1),
    lambda t: t.replace(":", "0:", 1),
    lambda t: t.replace(":", ":00000", 1),
    lambda t: t.replace("::", "::1::", 1),
]


@st.composite
def ipv6_texts(draw: st.DrawFn) -> str:
    text, value, _plain = draw(ipv6_spellings())
    if draw(st.booleans()):
        text = getattr(
            ipaddress.IPv6Address(value), draw(st.sampled_from(["compressed", "exploded"]))
        )
    for _ in range(draw(st.integers(0, 2))):  # edits where the rules are: colons, group sizes
        text = draw(st.sampled_from(IPV6_SURGERY))(text)
    return edit(draw, text, "0123456789abcdefABCDEF::::.g% x/", max_edits=draw(st.integers(0, 2)))


@FAST
@given(st.lists(ipv6_spellings(), min_size=1, max_size=20), AFTER, st.booleans())
def test_parse_ipv6_reads_valid_spellings(
    spellings: list[tuple[str, int, bool]], after: bytes, zero: bool
) -> None:
    texts = [t for t, _, _ in spellings]
    hi, lo, ok = vec.parse_ipv6(*matrix([t.encode() for t in texts], 39, zero, after))
    for (text, value, plain), h, low, good in zip(
        spellings, hi.tolist(), lo.tolist(), ok.tolist(), strict=True
    ):
        assert ref_ipv6(text) == value, text  # the generator itself agrees with ipaddress
        # hex-and-colon spellings are the fast path's job; IPv4 tails may go to the reference
        assert good or not plain, text
        if good:
            assert (h << 64) | low == value, text


@FAST
@given(st.lists(ipv6_texts(), min_size=1, max_size=20), AFTER, st.booleans())
def test_parse_ipv6_never_accepts_what_ipaddress_rejects(
    texts: list[str], after: bytes, zero: bool
) -> None:
    hi, lo, ok = vec.parse_ipv6(*matrix([t.encode() for t in texts], 39, zero, after))
    for text, h, low, good in zip(texts, hi.tolist(), lo.tolist(), ok.tolist(), strict=True):
        if good:
            assert ref_ipv6(text) == (h << 64) | low, text


@pytest.mark.parametrize(
    "text",
    [
        "::",
        "::1",
        "1::",
        "2001:db8::",
        "2001:DB8::1",
        "0:0:0:0:0:0:0:0",
        "1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7::",
        "::2:3:4:5:6:7:8",
        "1::8",
        "2001:0db8:0000:0000:0000:0000:0000:0001",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "1:2:3::4:5:6:7",
    ],
)
def test_parse_ipv6_accepts_hex_spellings(text: str) -> None:
    hi, lo, ok = vec.parse_ipv6(*matrix([text.encode()], 39, False, b":1"))
    assert ok[0]
    assert (int(hi[0]) << 64) | int(lo[0]) == int(ipaddress.IPv6Address(text))


@pytest.mark.parametrize(
    "text",
    [
        ":",
        ":::",
        "1:::2",
        ":1::",
        "::1:",
        "1::2::3",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7",
        "1:2:3:4:5:6:7:8::",
        "::1:2:3:4:5:6:7:8",
        "12345::",
        "g::",
        "1:2:3:4:5:6:7:",
        ":2:3:4:5:6:7:8",
        "1::2:",
        "::ffff:1.2.3.4",
        "fe80::1%eth0",
        " ::1",
        "::1 ",
        "1:2:3:4:5:6:7:8/64",
        "",
    ],
)
def test_parse_ipv6_rejects(text: str) -> None:
    _hi, _lo, ok = vec.parse_ipv6(*matrix([text.encode()], 39, False, b"::1"))
    assert not ok[0]


# -- the string reader (inet_pton) keeps the column reader's contract ----------------------------


@FAST
@given(st.lists(ipv6_spellings(), min_size=1, max_size=20))
def test_parse_ipv6_strings_reads_valid_spellings(spellings: list[tuple[str, int, bool]]) -> None:
    hi, lo, ok = vec.parse_ipv6_strings([t for t, _, _ in spellings])
    for (text, value, plain), h, low, good in zip(
        spellings, hi.tolist(), lo.tolist(), ok.tolist(), strict=True
    ):
        assert good or not plain, text
        if good:
            assert (h << 64) | low == value, text


@FAST
@given(st.lists(ipv6_texts(), min_size=1, max_size=20))
def test_parse_ipv6_strings_never_accepts_what_ipaddress_rejects(texts: list[str]) -> None:
    hi, lo, ok = vec.parse_ipv6_strings(texts)
    for text, h, low, good in zip(texts, hi.tolist(), lo.tolist(), ok.tolist(), strict=True):
        if good:
            assert ref_ipv6(text) == (h << 64) | low, text


def test_parse_ipv6_strings_agrees_with_the_column_reader_on_the_listed_cases() -> None:
    texts = [
        *("::", "::1", "1::", "2001:DB8::1", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1::8"),
        *("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "1:2:3::4:5:6:7", ":", ":::", "1:::2"),
        *(":1::", "::1:", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::", "g::"),
        *("1:2:3:4:5:6:7:8::", "::ffff:1.2.3.4", "fe80::1%eth0", " ::1", "::1 ", "", "1::2:"),
        *("1:2:3:4:5:6:7:8/64", "::\x00", "\u00e9::1", "AS3333", "193.0.0.1"),
    ]
    hi, lo, ok = vec.parse_ipv6_strings(texts)
    c_hi, c_lo, c_ok = vec.parse_ipv6(*matrix([t.encode() for t in texts], 39, False, b"::1"))
    assert ok.tolist() == c_ok.tolist()
    assert (hi[ok].tolist(), lo[ok].tolist()) == (c_hi[ok].tolist(), c_lo[ok].tolist())
    assert vec.parse_ipv6_strings([])[2].tolist() == []


def test_ipv6_host_masks_match_ipaddress() -> None:
    plens = np.arange(0, 129, dtype=np.int64)
    hi, lo = vec.ipv6_host_masks(plens)
    for p in range(129):
        host = int(ipaddress.IPv6Network(f"::/{p}").hostmask)
        assert (int(hi[p]) << 64) | int(lo[p]) == host, p


# -- decimal numbers --------------------------------------------------------------------------


def ref_uint(text: str, max_digits: int) -> int | None:
    """The reference rule: ASCII digits without leading zeros, at most ``max_digits``."""
    if not (text.isascii() and text.isdigit()) or len(text) > max_digits:
        return None
    if text[0] == "0" and text != "0":
        return None
    return int(text)


@st.composite
def uint_texts(draw: st.DrawFn) -> str:
    text = str(draw(st.integers(0, 10**11) | st.sampled_from([0, 1, 2**32 - 1, 2**32, 128])))
    return edit(draw, text, "0123456789+- .x١_")


@FAST
@given(
    st.lists(uint_texts(), min_size=1, max_size=30), AFTER, st.booleans(), st.sampled_from([3, 10])
)
def test_parse_uint_agrees_with_int(
    texts: list[str], after: bytes, zero: bool, max_digits: int
) -> None:
    chars, lengths = matrix([t.encode() for t in texts], max_digits, zero, after)
    value, ok = vec.parse_uint(chars, lengths, max_digits)
    for text, v, good in zip(texts, value.tolist(), ok.tolist(), strict=True):
        expected = ref_uint(text, max_digits)
        assert good == (expected is not None), text
        if good:
            assert v == expected, text


# -- dates ------------------------------------------------------------------------------------


def ref_date(text: str) -> tuple[int, bool] | None:
    """(yyyymmdd or 0, wrote zeros) as ``datetime.date`` sees it, None when invalid."""
    if text == "":
        return 0, False
    if text == "00000000":
        return 0, True
    if len(text) != 8 or not (text.isascii() and text.isdigit()):
        return None
    try:
        dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None
    return int(text), False


@st.composite
def date_texts(draw: st.DrawFn) -> str:
    special = [
        "20190229",
        "20200229",
        "21000229",
        "20000229",
        "00000000",
        "2019130 1",
        "20181332",
        "20180000",
        "00010101",
        "00001231",
        "99991231",
        "19700101",
        "20181131",
        "20180431",
        "20181301",
        "20180100",
        "",
    ]
    day = draw(st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)))
    text = draw(st.sampled_from(special) | st.just(day.strftime("%Y%m%d").rjust(8, "0")))
    return edit(draw, text, "0123456789 /-:x", max_edits=draw(st.integers(0, 2)))


@FAST
@given(st.lists(date_texts(), min_size=1, max_size=30), AFTER)
def test_parse_dates_agree_with_datetime(texts: list[str], after: bytes) -> None:
    chars, lengths = matrix([t.encode() for t in texts], 8, False, after)
    date, zeros, ok = vec.parse_dates(chars, lengths)
    for text, d, z, good in zip(texts, date.tolist(), zeros.tolist(), ok.tolist(), strict=True):
        expected = ref_date(text)
        assert good == (expected is not None), text
        if good:
            assert (d, z) == expected, text
        # and the reference reader of the records module says the same
        if text:
            try:
                parsed = parse_date(text)
            except RecordError:
                assert not good, text
            else:
                assert good, text
                assert d == (int(parsed.strftime("%Y%m%d")) if parsed else 0), text


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("20190229", False),
        ("20200229", True),
        ("19000229", False),
        ("20000229", True),
        ("00000000", True),
        ("2019130 1", False),
        ("20181332", False),
        ("00000101", False),
        ("20180431", False),
        ("20181231", True),
        ("2018123", False),
        ("201812310", False),
    ],
)
def test_parse_dates_examples(text: str, valid: bool) -> None:
    chars, lengths = matrix([text.encode()], 8, False, b"5")
    _date, _zeros, ok = vec.parse_dates(chars, lengths)
    assert bool(ok[0]) is valid


# -- country codes and tokens -----------------------------------------------------------------


@FAST
@given(st.lists(st.text(alphabet="AZaz09 ZZéE", max_size=3), min_size=1, max_size=30), AFTER)
def test_parse_cc_is_two_capitals_or_empty(texts: list[str], after: bytes) -> None:
    ok = vec.parse_cc(*matrix([t.encode() for t in texts], 2, True, after))
    for text, good in zip(texts, ok.tolist(), strict=True):
        expected = text == "" or (
            len(text) == 2 and text.isascii() and text.isupper() and text.isalpha()
        )
        assert good == expected, text


TOKENS = [
    b"asn",
    b"ipv4",
    b"ipv6",
    b"allocated",
    b"assigned",
    b"available",
    b"reserved",
    b"ripencc",
    b"afrinic",
    b"lacnic",
]


@st.composite
def token_texts(draw: st.DrawFn) -> bytes:
    base = draw(st.sampled_from(TOKENS)).decode()
    return edit(draw, base, "abcdeilnoprstuv46 \x00", max_edits=draw(st.integers(0, 2))).encode()


@FAST
@given(
    st.lists(token_texts(), min_size=1, max_size=30),
    st.lists(st.sampled_from(TOKENS), min_size=1, max_size=4, unique=True),
    AFTER,
    st.sampled_from([8, 16]),
)
def test_match_tokens_is_equality(
    texts: list[bytes], tokens: list[bytes], after: bytes, width: int
) -> None:
    chars, lengths = matrix(texts, width, False, after)
    codes = vec.match_tokens(chars, lengths, tokens)
    for text, code in zip(texts, codes.tolist(), strict=True):
        fits = [i for i, t in enumerate(tokens) if t == text and len(t) <= width]
        assert code == (fits[0] if fits else 255), text


def test_match_tokens_ignores_bytes_past_the_field() -> None:
    # "ipv4" followed by "|1.2.3.0" in the buffer, and a 3-byte prefix of "ipv4"
    chars, lengths = matrix([b"ipv4", b"ipv", b"ipv44"], 8, False, b"|1.2.3.0")
    assert vec.match_tokens(chars, lengths, [b"asn", b"ipv4"]).tolist() == [1, 255, 255]


# -- gather -----------------------------------------------------------------------------------


@FAST
@given(
    st.lists(st.binary(max_size=20), min_size=0, max_size=20),
    st.integers(1, 24),
    st.binary(min_size=0, max_size=8),
)
def test_gather_copies_each_field(fields: list[bytes], width: int, after: bytes) -> None:
    zeroed, lengths = matrix(fields, width, True, after)
    raw, _ = matrix(fields, width, False, after)
    assert zeroed.shape == raw.shape == (len(fields), width)
    buffer = b"".join(f + after for f in fields) + b"\0" * (width + 8)
    pos = 0
    for k, field in enumerate(fields):
        shown = field[:width]
        assert bytes(zeroed[k]) == shown.ljust(width, b"\0")
        assert bytes(raw[k]) == buffer[pos : pos + width]
        pos += len(field) + len(after)
    assert vec.as_bytes(zeroed).tolist() == [f[:width].rstrip(b"\0") for f in fields]
    assert lengths.tolist() == [len(f) for f in fields]


def test_gather_of_nothing() -> None:
    buf = np.zeros(16, dtype=np.uint8)
    empty = np.zeros(0, dtype=np.int32)
    assert vec.gather(buf, empty, empty, 8).shape == (0, 8)
    assert vec.gather(buf, np.array([0], np.int32), np.array([0], np.int32), 0).shape == (1, 0)


# -- whole files: the vectorised reader against parse_record line by line ---------------------


def excerpt_records(registry: str) -> list[str]:
    lines = (EXCERPTS / f"{registry}-2018-excerpt.txt").read_text().splitlines()
    return [
        ln
        for ln in lines
        if ln and not ln.startswith("#") and not ln.endswith("summary") and ln.count("|") >= 6
    ]


REAL_LINES = {r.value: excerpt_records(r.value) for r in Registry}
HEADERS = {
    r.value: (EXCERPTS / f"{r.value}-2018-excerpt.txt").read_text().splitlines() for r in Registry
}


@st.composite
def synthetic_record(draw: st.DrawFn, registry: str) -> str:
    rtype = draw(st.sampled_from(["asn", "ipv4", "ipv6"]))
    if rtype == "ipv6":
        plen = draw(st.integers(1, 128))
        net = ipaddress.IPv6Network(
            (draw(st.integers(0, 2**128 - 1)) >> (128 - plen) << (128 - plen), plen)
        )
        start = draw(
            st.sampled_from(
                [
                    str(net.network_address),
                    net.network_address.exploded,
                    str(net.network_address).upper(),
                ]
            )
        )
        value = plen
    elif rtype == "ipv4":
        first = draw(st.integers(0, 2**32 - 1))
        start, value = str(ipaddress.IPv4Address(first)), draw(st.integers(1, 2**32 - first))
    else:
        first = draw(st.integers(0, 2**32 - 1))
        start, value = str(first), draw(st.integers(1, min(2**32 - first, 5000)))
    cc = draw(st.sampled_from(["", "ZZ", "EU", "AP", "US"]))
    day = draw(st.none() | st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)))
    date = draw(st.sampled_from(["", "00000000"])) if day is None else day.strftime("%Y%m%d")
    date = date.rjust(8, "0") if date else date
    status = draw(st.sampled_from(["allocated", "assigned", "available", "reserved"]))
    opaque = draw(st.none() | st.text(alphabet="abcdef0123456789-Aé", max_size=140))
    fields = [registry, cc, rtype, start, str(value), date, status]
    if opaque is not None:
        fields.append(opaque)
    return "|".join(fields)


@st.composite
def record_lines(draw: st.DrawFn, registry: str) -> str:
    line = draw(st.sampled_from(REAL_LINES[registry]) | synthetic_record(registry))
    if draw(st.integers(0, 2)) == 0:
        return line
    fields = line.split("|")
    if draw(st.booleans()):  # edit one field
        k = draw(st.integers(0, len(fields) - 1))
        fields[k] = edit(
            draw, fields[k], "0123456789.:abcdefAZ|-x é", max_edits=draw(st.integers(1, 3))
        )
        return "|".join(fields)
    # or the whole line: field counts, wrong registries, stray characters anywhere
    return edit(draw, line, "|0123456789.:a ", max_edits=draw(st.integers(1, 3)))


def counted_types(lines: list[str]) -> Counter[str]:
    """Records per type, by the type field of lines with 7 or 8 fields."""
    counts: Counter[str] = Counter()
    for line in lines:
        fields = line.split("|")
        if len(fields) in (7, 8) and fields[2] in ("asn", "ipv4", "ipv6"):
            counts[fields[2]] += 1
    return counts


@FILE_RUNS
@given(
    st.sampled_from([r.value for r in Registry]).flatmap(
        lambda reg: st.tuples(st.just(reg), st.lists(record_lines(reg), min_size=1, max_size=40))
    )
)
def test_read_stats_agrees_with_parse_record(case: tuple[str, list[str]]) -> None:
    registry, lines = case
    lines = [ln for ln in lines if ln and not ln.startswith("#")]  # those are not records
    assume(lines)
    excerpt = HEADERS[registry]
    preamble = [ln for ln in excerpt if ln.startswith("#")]
    version = excerpt[len(preamble)].split("|")
    version[3] = str(len(lines))
    counts = counted_types(lines)
    summaries = [f"{registry}|*|{t}|*|{counts[t]}|summary" for t in ("asn", "ipv4", "ipv6")]
    text = "\n".join([*preamble, "|".join(version), *summaries, *lines]) + "\n"
    first_record_line = len(preamble) + 1 + len(summaries) + 1

    stats = read_stats(text.encode(), "fuzz")

    expected_rows, expected_lines, expected_errors = [], [], []
    for n, line in enumerate(lines, start=first_record_line):
        try:
            expected_rows.append(parse_record(line, registry))
            expected_lines.append(n)
        except RecordError as exc:
            expected_errors.append((n, str(exc)))
    assert stats.file_errors == []
    assert [(e.line, e.reason) for e in stats.errors] == expected_errors
    assert stats.table.rows() == expected_rows
    assert stats.table.line.tolist() == expected_lines
    for i, row in enumerate(expected_rows):
        rng = row.resource
        assert (stats.table.first_int(i), stats.table.last_int(i)) == (rng.first, rng.last)
    # read_record_lines (rows read back from the store) gives the same answer
    table, errors = read_record_lines(lines, registry, "fuzz", list(range(100, 100 + len(lines))))
    assert table.rows() == expected_rows
    assert [(e.line, e.reason) for e in errors] == [
        (n - first_record_line + 100, reason) for n, reason in expected_errors
    ]
