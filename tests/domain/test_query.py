"""parse_query: every spelling its docstring lists, and the errors it promises (anything else
is an error listing what is accepted)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rirport.domain.enums import Registry, ResourceType
from rirport.domain.query import ACCEPTED, Query, parse_query, parse_resource
from rirport.domain.resources import ResourceRange
from rirport.errors import InputError, QueryError

IPV4, IPV6, ASN = ResourceType.IPV4, ResourceType.IPV6, ResourceType.ASN


def v4(text: str) -> int:
    return int(ipaddress.IPv4Address(text))


def v6(text: str) -> int:
    return int(ipaddress.IPv6Address(text))


@pytest.mark.parametrize(
    ("text", "kind", "rtype", "first", "last"),
    [
        # one address
        ("193.0.0.1", "address", IPV4, v4("193.0.0.1"), v4("193.0.0.1")),
        ("2001:db8::1", "address", IPV6, v6("2001:db8::1"), v6("2001:db8::1")),
        ("2001:DB8::1", "address", IPV6, v6("2001:db8::1"), v6("2001:db8::1")),
        ("::", "address", IPV6, 0, 0),
        ("  193.0.0.1\n", "address", IPV4, v4("193.0.0.1"), v4("193.0.0.1")),
        # a prefix
        ("193.0.0.0/21", "range", IPV4, v4("193.0.0.0"), v4("193.0.7.255")),
        (
            "2001:db8::/32",
            "range",
            IPV6,
            v6("2001:db8::"),
            v6("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"),
        ),
        ("0.0.0.0/0", "range", IPV4, 0, 2**32 - 1),
        ("193.0.0.1/32", "address", IPV4, v4("193.0.0.1"), v4("193.0.0.1")),
        # an address range
        ("193.0.0.0-193.0.7.255", "range", IPV4, v4("193.0.0.0"), v4("193.0.7.255")),
        ("10.0.0.1 - 10.0.0.5", "range", IPV4, v4("10.0.0.1"), v4("10.0.0.5")),
        ("2001:db8::1-2001:db8::5", "range", IPV6, v6("2001:db8::1"), v6("2001:db8::5")),
        ("10.0.0.7-10.0.0.7", "address", IPV4, v4("10.0.0.7"), v4("10.0.0.7")),
        # one AS number; a bare number is an AS number
        ("AS3333", "asn", ASN, 3333, 3333),
        ("as3333", "asn", ASN, 3333, 3333),
        ("As3333", "asn", ASN, 3333, 3333),
        ("3333", "asn", ASN, 3333, 3333),
        ("0", "asn", ASN, 0, 0),
        ("4294967295", "asn", ASN, 2**32 - 1, 2**32 - 1),
        # an AS-number range
        ("AS3333-AS3340", "asn", ASN, 3333, 3340),
        ("3333-3340", "asn", ASN, 3333, 3340),
        ("as3333 - AS3340", "asn", ASN, 3333, 3340),
        ("3333-as3340", "asn", ASN, 3333, 3340),
        ("AS7-AS7", "asn", ASN, 7, 7),
    ],
)
def test_resource_spellings(
    text: str, kind: str, rtype: ResourceType, first: int, last: int
) -> None:
    query = parse_query(text)
    assert query.resource == ResourceRange(rtype, first, last)
    assert query.kind == kind
    assert query.holder is None
    assert query.registry is None
    assert query.text == text.strip()


@pytest.mark.parametrize(
    ("text", "holder", "registry"),
    [
        ("holder:ORG-RIEN1-RIPE", "ORG-RIEN1-RIPE", None),
        ("HOLDER: A91872ED ", "A91872ED", None),
        ("holder:3333", "3333", None),  # looks like a number, but asked for as a holder
        (
            "ripencc:d91963c1-e981-4483-bba3-eb5060e0bdb2",
            "d91963c1-e981-4483-bba3-eb5060e0bdb2",
            Registry.RIPENCC,
        ),
        ("apnic:A91872ED", "A91872ED", Registry.APNIC),
        (
            "ARIN:e5e3b9c13678dfc483fb1f819d70883c",
            "e5e3b9c13678dfc483fb1f819d70883c",
            Registry.ARIN,
        ),
        ("RIPE NCC:abc", "abc", Registry.RIPENCC),
        ("ripe:abc", "abc", Registry.RIPENCC),
        ("lacnic:20118", "20118", Registry.LACNIC),
        ("afrinic:F36B9F4B", "F36B9F4B", Registry.AFRINIC),
        ("holder:AS-FOO", "AS-FOO", None),
    ],
)
def test_holder_spellings(text: str, holder: str, registry: Registry | None) -> None:
    query = parse_query(text)
    assert query == Query(text.strip(), holder=holder, registry=registry)
    assert query.kind == "holder"
    assert query.resource is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty query"),
        ("   ", "empty query"),
        ("10.0.0.1/24", "'10.0.0.1/24': not a prefix (10.0.0.1/24 has host bits set)"),
        ("2001:db8::1/32", "'2001:db8::1/32': not a prefix (2001:db8::1/32 has host bits set)"),
        ("10.0.0.0/33", "not a prefix"),
        ("2001:db8::/129", "not a prefix"),
        ("/24", "not a prefix"),
        ("AS99999999999", "'AS99999999999': invalid asn range 99999999999..99999999999"),
        ("4294967296", "'4294967296': invalid asn range"),
        ("AS3333-AS4294967296", "invalid asn range 3333..4294967296"),
        ("AS3340-AS3333", "'AS3340-AS3333': range ends before it starts"),
        ("3340-3333", "'3340-3333': range ends before it starts"),
        ("10.0.0.2-10.0.0.1", "'10.0.0.2-10.0.0.1': range ends before it starts"),
        ("2001:db8::5-2001:db8::1", "range ends before it starts"),
        ("10.0.0.1-2001:db8::1", "'10.0.0.1-2001:db8::1': range mixes IPv4 and IPv6"),
        ("256.1.1.1", "does not appear to be an IPv4 or IPv6 address"),
        ("1.2.3", "does not appear to be an IPv4 or IPv6 address"),
        ("01.2.3.4", "does not appear to be an IPv4 or IPv6 address"),
        ("1.2.3.4-", "does not appear to be an IPv4 or IPv6 address"),
        ("2001:db8::g", "does not appear to be an IPv4 or IPv6 address"),
        ("2001:db8::%eth0", "scoped IPv6 addresses are not number resources"),
        ("fe80::%eth0/64", "scoped IPv6 addresses are not number resources"),
        ("holder:", "'holder:' is not a usable opaque-id"),
        ("holder:a|b", "'holder:a|b' is not a usable opaque-id"),
        ("arin:", "'arin:' is not a usable opaque-id"),
        ("arin:a|b", "'arin:a|b' is not a usable opaque-id"),
    ],
)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(QueryError) as err:
        parse_query(text)
    assert message in str(err.value)
    assert isinstance(err.value, InputError)


@pytest.mark.parametrize(
    "text",
    [
        "hello",
        "F36B9F4B",  # an opaque-id needs its prefix: holder:F36B9F4B or afrinic:F36B9F4B
        "ORG-RIEN1-RIPE",
        "AS",
        "AS-FOO",
        "a|b",
        "١٢٣",  # Arabic-Indic digits are not an AS number
        "AS１２",  # nor are full-width ones
    ],
)
def test_a_bare_word_is_an_error_listing_what_is_accepted(text: str) -> None:
    """Issue 11 finding 6: a query that is not a resource is not read as a holder id."""
    with pytest.raises(QueryError) as err:
        parse_query(text)
    message = str(err.value)
    assert message.startswith(f"{text!r} is not a query; expected ")
    assert ACCEPTED in message
    for form in ("193.0.0.1", "193.0.0.0/21", "AS3333", "holder:ID", "<registry>:ID", "ripencc"):
        assert form in message


@pytest.mark.parametrize(("text", "head"), [("ripenc:ID", "ripenc"), ("foo:bar", "foo")])
def test_a_misspelt_registry_is_an_error_naming_it(text: str, head: str) -> None:
    with pytest.raises(QueryError) as err:
        parse_query(text)
    assert str(err.value).startswith(f"{text!r}: {head!r} is not a registry; expected ")
    assert "afrinic, apnic, arin, lacnic, ripencc" in str(err.value)


def test_parse_resource_refuses_holders() -> None:
    assert parse_resource("AS3333") == ResourceRange.asn(3333)
    with pytest.raises(QueryError, match="is not an address, prefix, range or AS number"):
        parse_resource("ripencc:ABC")


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 32))
def test_any_ipv4_prefix(number: int, plen: int) -> None:
    net = ipaddress.IPv4Network((number >> (32 - plen) << (32 - plen), plen))
    assert parse_query(str(net)).resource == ResourceRange.from_network(net)
    assert parse_query(str(net.network_address)).resource == ResourceRange.from_address(
        str(net.network_address)
    )
    if plen < 32:
        with pytest.raises(QueryError, match="host bits set"):
            parse_query(f"{ipaddress.IPv4Address(int(net.network_address) + 1)}/{plen}")


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**128 - 1), st.integers(1, 128))
def test_any_ipv6_prefix(number: int, plen: int) -> None:
    net = ipaddress.IPv6Network((number >> (128 - plen) << (128 - plen), plen))
    for text in (str(net), f"{net.network_address.exploded}/{plen}", str(net).upper()):
        assert parse_query(text).resource == ResourceRange.from_network(net)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**33), st.integers(0, 2**33))
def test_any_as_number(first: int, last: int) -> None:
    for text in (str(first), f"AS{first}", f"as{first}"):
        if first < 2**32:
            assert parse_query(text).resource == ResourceRange.asn(first)
        else:
            with pytest.raises(QueryError):
                parse_query(text)
    text = f"AS{first}-AS{last}"
    if first <= last < 2**32:
        assert parse_query(text).resource == ResourceRange.asn(first, last)
    else:
        with pytest.raises(QueryError):
            parse_query(text)
