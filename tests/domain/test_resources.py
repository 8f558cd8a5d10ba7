"""ResourceRange: CIDR conversion, merging and set relations, held to ``ipaddress`` and sets."""

from __future__ import annotations

import ipaddress
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rirport.domain.enums import ResourceType
from rirport.domain.resources import (
    BITS,
    ResourceRange,
    merge_ranges,
    relation,
)

PROPS = settings(max_examples=150, deadline=None)
IPV4, IPV6, ASN = ResourceType.IPV4, ResourceType.IPV6, ResourceType.ASN
TOP = {t: (1 << BITS[t]) - 1 for t in ResourceType}


def address(rtype: ResourceType, number: int) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.IPv4Address(number) if rtype is IPV4 else ipaddress.IPv6Address(number)


@st.composite
def numbers(draw: st.DrawFn, rtype: ResourceType) -> int:
    """Any number of the space, often an aligned one or one next to a boundary."""
    bits = BITS[rtype]
    plain = st.integers(0, TOP[rtype])
    aligned = st.builds(lambda n, k: (n >> k) << k, plain, st.integers(0, bits))
    edge = st.builds(
        lambda k, d: min(max((1 << k) + d, 0), TOP[rtype]), st.integers(0, bits), st.integers(-2, 1)
    )
    result: int = draw(st.one_of(plain, aligned, edge))
    return result


@st.composite
def ranges(draw: st.DrawFn, rtype: ResourceType | None = None) -> ResourceRange:
    kind = rtype or draw(st.sampled_from([IPV4, IPV6]))
    a, b = draw(numbers(kind)), draw(numbers(kind))
    return ResourceRange(kind, min(a, b), max(a, b))


# -- CIDR -----------------------------------------------------------------------------------


@PROPS
@given(ranges())
def test_to_cidrs_covers_exactly_the_range_with_aligned_blocks(rng: ResourceRange) -> None:
    cidrs = rng.to_cidrs()
    assert cidrs
    assert int(cidrs[0].network_address) == rng.first
    assert int(cidrs[-1].broadcast_address) == rng.last
    for before, after in pairwise(cidrs):  # in order, no gap, no overlap
        assert int(after.network_address) == int(before.broadcast_address) + 1
    for net in cidrs:
        assert net.version == (4 if rng.type is IPV4 else 6)
        assert int(net.network_address) % net.num_addresses == 0  # aligned block
    assert sum(net.num_addresses for net in cidrs) == rng.size


@PROPS
@given(ranges())
def test_to_cidrs_is_minimal(rng: ResourceRange) -> None:
    expected: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = list(
        ipaddress.summarize_address_range(address(rng.type, rng.first), address(rng.type, rng.last))
    )
    assert rng.to_cidrs() == expected
    # and no two neighbours could be one block
    for before, after in pairwise(expected):
        if before.prefixlen == after.prefixlen:
            assert before.supernet() != after.supernet()


@PROPS
@given(ranges())
def test_cidrs_back_to_the_range(rng: ResourceRange) -> None:
    cidrs = rng.to_cidrs()
    assert merge_ranges(ResourceRange.from_network(n) for n in cidrs) == [rng]
    assert merge_ranges(ResourceRange.from_network(str(n)) for n in reversed(cidrs)) == [rng]
    assert (rng.prefix_length is not None) == (len(cidrs) == 1)
    if rng.prefix_length is not None:
        assert rng.prefix_length == cidrs[0].prefixlen
        assert str(rng) == str(cidrs[0])
        assert ResourceRange.from_network(cidrs[0]) == rng


def test_cidrs_of_whole_spaces_and_single_addresses() -> None:
    assert ResourceRange(IPV4, 0, TOP[IPV4]).to_cidrs() == [ipaddress.ip_network("0.0.0.0/0")]
    assert ResourceRange(IPV6, 0, TOP[IPV6]).to_cidrs() == [ipaddress.ip_network("::/0")]
    assert ResourceRange(IPV6, 0, TOP[IPV6]).prefix_length == 0
    assert ResourceRange(IPV4, TOP[IPV4], TOP[IPV4]).to_cidrs() == [
        ipaddress.ip_network("255.255.255.255/32")
    ]
    assert ResourceRange(IPV4, 1, TOP[IPV4]).to_cidrs()[0] == ipaddress.ip_network("0.0.0.1/32")
    assert len(ResourceRange(IPV6, 1, TOP[IPV6] - 1).to_cidrs()) == 2 * 127


def test_asn_ranges_have_no_cidrs() -> None:
    with pytest.raises(ValueError, match="no CIDR form"):
        ResourceRange.asn(64496, 64511).to_cidrs()
    assert ResourceRange.asn(64496, 64511).prefix_length is None


# -- merging ----------------------------------------------------------------------------------

SMALL = 48


@st.composite
def small_ranges(draw: st.DrawFn, rtype: ResourceType = ASN) -> ResourceRange:
    a, b = draw(st.integers(0, SMALL - 1)), draw(st.integers(0, SMALL - 1))
    return ResourceRange(rtype, min(a, b), max(a, b))


def numbers_of(rng: ResourceRange) -> set[int]:
    return set(range(rng.first, rng.last + 1))


@PROPS
@given(st.lists(small_ranges(ASN) | small_ranges(IPV4), max_size=8))
def test_merge_ranges_is_the_union(parts: list[ResourceRange]) -> None:
    merged = merge_ranges(parts)
    assert merged == sorted(merged)
    for rtype in (ASN, IPV4):
        mine = [r for r in merged if r.type is rtype]
        union = set().union(*(numbers_of(r) for r in parts if r.type is rtype))
        assert set().union(*(numbers_of(r) for r in mine)) == union
        for before, after in pairwise(mine):
            assert before.last + 1 < after.first  # neither overlapping nor adjacent
    assert merge_ranges(merged) == merged


@PROPS
@given(st.lists(st.tuples(st.integers(0, 255), st.integers(24, 32)), max_size=8))
def test_merged_prefixes_are_their_union(prefixes: list[tuple[int, int]]) -> None:
    nets = [
        ipaddress.IPv4Network((0x0A000000 | (host >> (32 - plen) << (32 - plen)), plen))
        for host, plen in prefixes
    ]
    merged = merge_ranges(ResourceRange.from_network(n) for n in nets)
    covered = set().union(
        *(set(range(int(n.network_address), int(n.broadcast_address) + 1)) for n in nets)
    )
    assert set().union(*(numbers_of(r) for r in merged)) == covered
    expected = list(ipaddress.collapse_addresses(nets))
    assert [n for r in merged for n in r.to_cidrs()] == expected


def test_merge_keeps_types_apart() -> None:
    asn, ip = ResourceRange.asn(10, 20), ResourceRange(IPV4, 10, 20)
    assert merge_ranges([ip, ResourceRange.asn(21, 30), asn]) == [ResourceRange.asn(10, 30), ip]
    assert merge_ranges([]) == []


# -- relations against set semantics ----------------------------------------------------------


@PROPS
@given(small_ranges(), small_ranges())
def test_relations_agree_with_sets(a: ResourceRange, b: ResourceRange) -> None:
    sa, sb = numbers_of(a), numbers_of(b)
    assert a.contains(b) == (sb <= sa)
    assert a.overlaps(b) == bool(sa & sb) == b.overlaps(a)
    inter = a.intersection(b)
    assert (numbers_of(inter) if inter else set()) == sa & sb
    rest = a.subtract(b)
    assert set().union(*(numbers_of(r) for r in rest)) == sa - sb
    assert rest == merge_ranges(rest)  # separate, ordered pieces
    assert len(rest) <= 2
    if sa & sb:
        name = relation(a, b)
        expected = (
            "exact" if sa == sb else "covering" if sb < sa else "covered" if sa < sb else "overlaps"
        )
        assert name == expected


def test_relations_between_types() -> None:
    asn, ip = ResourceRange.asn(5, 10), ResourceRange(IPV4, 5, 10)
    assert not asn.contains(ip)
    assert not asn.overlaps(ip)
    assert asn.intersection(ip) is None
    assert asn.subtract(ip) == [asn]


def test_relation_names() -> None:
    query = ResourceRange.from_network("193.0.0.0/21")
    assert relation(ResourceRange.from_network("193.0.0.0/21"), query) == "exact"
    assert relation(ResourceRange.from_network("193.0.0.0/16"), query) == "covering"
    assert relation(ResourceRange.from_network("193.0.4.0/22"), query) == "covered"
    assert relation(ResourceRange.from_start_value(IPV4, "193.0.7.0", 512), query) == "overlaps"


def test_relation_refuses_what_it_cannot_name() -> None:
    with pytest.raises(ValueError, match="different types"):
        relation(ResourceRange.asn(5, 5), ResourceRange(IPV4, 5, 5))
    with pytest.raises(ValueError, match="share no numbers"):
        relation(ResourceRange.asn(5, 6), ResourceRange.asn(7, 8))


# -- from the statistics fields ---------------------------------------------------------------


@PROPS
@given(st.integers(0, TOP[IPV4]), st.integers(1, 1 << 32))
def test_ipv4_start_and_count(first: int, count: int) -> None:
    start = str(ipaddress.IPv4Address(first))
    if first + count - 1 > TOP[IPV4]:
        with pytest.raises(ValueError):
            ResourceRange.from_start_value(IPV4, start, count)
        return
    rng = ResourceRange.from_start_value(IPV4, start, count)
    assert (rng.first, rng.last, rng.size) == (first, first + count - 1, count)
    assert rng.to_stats_records() == [(start, count)]
    assert rng.start_text() == start
    assert rng.end_text() == str(ipaddress.IPv4Address(first + count - 1))


@pytest.mark.parametrize(
    ("start", "count", "blocks"),
    [
        # real records (ARIN, RIPE NCC and AFRINIC 2018 files)
        (
            "23.128.1.0",
            5888,
            ["23.128.1.0/24", "23.128.2.0/23", "23.128.4.0/22", "23.128.8.0/21", "23.128.16.0/21"],
        ),
        ("31.41.240.0", 768, ["31.41.240.0/23", "31.41.242.0/24"]),
        ("164.146.0.0", 393216, ["164.146.0.0/15", "164.148.0.0/14"]),
    ],
)
def test_ipv4_counts_that_are_not_powers_of_two(start: str, count: int, blocks: list[str]) -> None:
    rng = ResourceRange.from_start_value(IPV4, start, count)
    assert [str(n) for n in rng.to_cidrs()] == blocks
    assert rng.prefix_length is None
    assert str(rng) == f"{start}-{rng.end_text()}"
    assert sum(ipaddress.ip_network(b).num_addresses for b in blocks) == count


@PROPS
@given(st.integers(0, TOP[IPV6]), st.integers(1, 128))
def test_ipv6_prefixes(number: int, plen: int) -> None:
    net = ipaddress.IPv6Network((number >> (128 - plen) << (128 - plen), plen))
    rng = ResourceRange.from_start_value(IPV6, str(net.network_address), plen)
    assert rng == ResourceRange.from_network(net) == ResourceRange.from_network(str(net))
    assert (rng.first, rng.last) == (int(net.network_address), int(net.broadcast_address))
    assert rng.prefix_length == plen
    assert str(rng) == str(net)
    assert rng.to_stats_records() == [(str(net.network_address), plen)]
    assert ResourceRange.from_start_value(IPV6, net.network_address.exploded, plen) == rng


@PROPS
@given(ranges(IPV6))
def test_ipv6_range_as_records(rng: ResourceRange) -> None:
    records = rng.to_stats_records()
    assert [ResourceRange.from_start_value(IPV6, s, p) for s, p in records] == [
        ResourceRange.from_network(n) for n in rng.to_cidrs()
    ]
    assert (len(records) == 1) == (rng.prefix_length is not None)


@PROPS
@given(st.integers(0, TOP[ASN]), st.integers(1, 1 << 16))
def test_asn_start_and_count(first: int, count: int) -> None:
    if first + count - 1 > TOP[ASN]:
        with pytest.raises(ValueError):
            ResourceRange.from_start_value(ASN, str(first), count)
        return
    rng = ResourceRange.from_start_value(ASN, str(first), count)
    assert rng == ResourceRange.asn(first, first + count - 1)
    assert rng.size == count
    assert rng.to_stats_records() == [(str(first), count)]
    assert str(rng) == (f"AS{first}" if count == 1 else f"AS{first}-AS{first + count - 1}")
    assert not rng.is_ip


@pytest.mark.parametrize(
    ("rtype", "start", "value", "message"),
    [
        (IPV4, "10.0.0.0", 0, "count must be at least 1, not 0"),
        (IPV4, "10.0.0.0", -256, "count must be at least 1, not -256"),
        (ASN, "64496", 0, "count must be at least 1, not 0"),
        (IPV4, "255.255.255.0", 257, "invalid ipv4 range 4294967040..4294967296"),
        (IPV4, "0.0.0.1", 1 << 32, "invalid ipv4 range"),
        (ASN, "4294967295", 2, "invalid asn range 4294967295..4294967296"),
        (ASN, "4294967296", 1, "invalid asn range"),
        (ASN, "-1", 1, "invalid asn range"),
        (IPV4, "10.0.0.256", 1, r"Octet 256 \(> 255\) not permitted"),
        (IPV4, "010.0.0.0", 1, "Leading zeros are not permitted"),
        (IPV6, "2001:db8::1", 64, "has host bits set"),
        (IPV6, "2001:db8:8000::", 32, "has host bits set"),
        (IPV6, "2001:db8::", 129, "not a valid netmask"),
        (IPV6, "2001:db8::", -1, "not a valid netmask"),
        (IPV6, "2001:db8::g", 32, "Only hex digits permitted"),
        (IPV6, "fe80::%eth0", 64, "scoped IPv6 addresses are not number resources"),
    ],
)
def test_invalid_start_and_value(rtype: ResourceType, start: str, value: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ResourceRange.from_start_value(rtype, start, value)


@pytest.mark.parametrize(
    ("rtype", "first", "last"),
    [
        (IPV4, 5, 4),
        (IPV4, -1, 3),
        (IPV4, 0, 1 << 32),
        (IPV6, 0, 1 << 128),
        (ASN, 7, 6),
    ],
)
def test_invalid_ranges(rtype: ResourceType, first: int, last: int) -> None:
    with pytest.raises(ValueError, match=f"invalid {rtype.value} range"):
        ResourceRange(rtype, first, last)


@pytest.mark.parametrize(
    "text", ["10.0.0.1/24", "2001:db8::1/32", "10.0.0.0/33", "nonsense", "fe80::%eth0/64"]
)
def test_from_network_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        ResourceRange.from_network(text)


@pytest.mark.parametrize("text", ["10.0.0", "2001:db8::g", "fe80::1%eth0", "AS3333", ""])
def test_from_address_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        ResourceRange.from_address(text)


@given(
    st.text(alphabet="0123456789.:a%٣² ", max_size=18)
    | st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n)))
)
def test_from_address_reads_as_ipaddress_does(text: str) -> None:
    """The hand-written dotted-quad path agrees with ``ipaddress`` on what is an address and
    which number it is (leading zeros, octets over 255, non-ASCII digits, short forms)."""
    try:
        expected = int(ipaddress.ip_address(text))
    except ValueError:
        with pytest.raises(ValueError):
            ResourceRange.from_address(text)
        return
    if "%" not in text:
        assert (ResourceRange.from_address(text).first, ResourceRange.from_address(text).last) == (
            expected,
            expected,
        )


@pytest.mark.parametrize(
    "text",
    ["010.0.0.1", "1.2.3.256", "1.2.3.4.", ".1.2.3", "1..2.3", "1.2.3.+4", "1.2.3.٣", "1.2.3.4 "],
)
def test_from_address_refuses_near_addresses(text: str) -> None:
    with pytest.raises(ValueError):
        ResourceRange.from_address(text)


def test_ordering_is_by_type_then_numbers() -> None:
    rs = [
        ResourceRange(IPV6, 0, 0),
        ResourceRange(IPV4, 9, 9),
        ResourceRange.asn(3, 4),
        ResourceRange(IPV4, 1, 9),
        ResourceRange(IPV4, 1, 2),
    ]
    assert sorted(rs) == [
        ResourceRange.asn(3, 4),
        ResourceRange(IPV4, 1, 2),
        ResourceRange(IPV4, 1, 9),
        ResourceRange(IPV4, 9, 9),
        ResourceRange(IPV6, 0, 0),
    ]


def test_text_forms() -> None:
    assert str(ResourceRange.from_address("193.0.0.1")) == "193.0.0.1/32"
    assert str(ResourceRange.from_address("2001:DB8::1")) == "2001:db8::1/128"
    assert str(ResourceRange(IPV6, 1, 2)) == "::1-::2"
    assert str(ResourceRange.asn(3333)) == "AS3333"
    assert ResourceRange(IPV6, 1, 2).start_text() == "::1"
