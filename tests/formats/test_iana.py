"""Reading IANA's registries (CSV, XML) and RDAP bootstrap files: real files and bad input."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections import Counter

import pytest

from rirport.domain.enums import Registry, ResourceType
from rirport.domain.iana import (
    ASN_BOOTSTRAP,
    IPV4_BOOTSTRAP,
    IPV4_SPACE,
    IPV6_BOOTSTRAP,
    IPV6_UNICAST,
    IanaBlock,
)
from rirport.domain.resources import ResourceRange
from rirport.errors import ParseError
from rirport.formats.iana import (
    detect_iana,
    read_bootstrap,
    read_iana,
    read_ipv4_space_csv,
    read_ipv4_space_xml,
    read_ipv6_unicast_csv,
    read_ipv6_unicast_xml,
    registry_of,
)
from rirport.services.registry.iana import BUNDLED_FILES, bundled_iana
from tests.paths import ROOT, SHARED, TEST_DATA

IANA = SHARED / "iana"
EXCERPTS = TEST_DATA / "iana"
BOOTSTRAP = IANA / "rdap-bootstrap"

# (file, source it is detected as, blocks read): every IANA file in the shared data.
REAL_FILES = [
    ("ipv4-address-space.csv", IPV4_SPACE, 256),
    ("ipv4-address-space.xml", IPV4_SPACE, 256),
    ("ipv6-unicast-address-assignments.csv", IPV6_UNICAST, 50),
    ("ipv6-unicast-address-assignments.xml", IPV6_UNICAST, 40),
    ("rdap-bootstrap/2015-2016/asn.json", ASN_BOOTSTRAP, 2297),
    ("rdap-bootstrap/2015-2016/ipv4.json", IPV4_BOOTSTRAP, 221),
    ("rdap-bootstrap/2015-2016/ipv6.json", IPV6_BOOTSTRAP, 35),
    ("rdap-bootstrap/2024-07/asn.json", ASN_BOOTSTRAP, 150),
    ("rdap-bootstrap/2024-07/ipv4.json", IPV4_BOOTSTRAP, 221),
    ("rdap-bootstrap/2024-07/ipv6.json", IPV6_BOOTSTRAP, 33),
    ("rdap-bootstrap/2025-01/asn.json", ASN_BOOTSTRAP, 152),
]


def _read(name: str) -> bytes:
    return (IANA / name).read_bytes()


def _error(data: bytes, name: str) -> ParseError:
    with pytest.raises(ParseError) as caught:
        read_iana(data, name)
    return caught.value


# -- every real file --------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "source", "count"), REAL_FILES)
def test_every_real_iana_file_is_detected_and_read(name: str, source: str, count: int) -> None:
    data = _read(name)

    blocks = read_iana(data, name)

    assert detect_iana("renamed.bin", data) == source
    assert len(blocks) == count
    assert {b.source for b in blocks} == {source}


@pytest.mark.parametrize("name", [n for n, _, _ in REAL_FILES])
def test_rir_blocks_of_a_file_never_overlap(name: str) -> None:
    """Nested blocks exist only in IANA's own space (3000::/4 around 3ffe::/16)."""
    blocks = sorted(
        (b for b in read_iana(_read(name), name) if b.registry is not None),
        key=lambda b: b.resource,
    )
    for left, right in itertools.pairwise(blocks):
        assert not left.resource.overlaps(right.resource), (left.prefix, right.prefix)


def test_ipv4_space_csv_facts() -> None:
    blocks = read_ipv4_space_csv(_read("ipv4-address-space.csv"), "ipv4-address-space.csv")
    by_prefix = {b.prefix: b for b in blocks}

    tally = Counter((b.registry.value if b.registry else None, b.status) for b in blocks)

    assert tally == {
        ("arin", "LEGACY"): 75,
        ("apnic", "ALLOCATED"): 45,
        ("arin", "ALLOCATED"): 36,
        (None, "RESERVED"): 35,
        ("ripencc", "ALLOCATED"): 35,
        ("lacnic", "ALLOCATED"): 9,
        ("ripencc", "LEGACY"): 8,
        ("apnic", "LEGACY"): 6,
        ("afrinic", "ALLOCATED"): 4,
        ("afrinic", "LEGACY"): 2,
        ("lacnic", "LEGACY"): 1,
    }
    assert sum(b.resource.size for b in blocks) == 1 << 32
    assert by_prefix["003/8"].resource == ResourceRange.from_network("3.0.0.0/8")
    # legacy /8s held by an organisation: the RIR is the one whose WHOIS serves them
    assert by_prefix["019/8"].designation == "Ford Motor Company"
    assert by_prefix["019/8"].registry is Registry.ARIN
    assert by_prefix["053/8"].designation == "Daimler AG"
    assert by_prefix["053/8"].registry is Registry.RIPENCC
    assert by_prefix["002/8"].registry is Registry.RIPENCC  # "RIPE NCC"
    assert by_prefix["010/8"].registry is None and by_prefix["010/8"].note == "[3]"
    assert by_prefix["045/8"].status == "LEGACY" and by_prefix["045/8"].date == "1995-01"


def test_ipv4_csv_and_xml_agree_but_on_two_designations() -> None:
    """The CSV copy (2021) and the XML copy (2023) list the same blocks, RIRs and statuses."""
    from_csv = read_ipv4_space_csv(_read("ipv4-address-space.csv"), "csv")
    from_xml = read_ipv4_space_xml(_read("ipv4-address-space.xml"), "xml")

    def key(b: IanaBlock) -> tuple[object, ...]:
        return b.prefix, b.resource, b.registry, b.status, b.date

    assert [key(b) for b in from_csv] == [key(b) for b in from_xml]
    renamed = [
        (c.prefix, c.designation, x.designation)
        for c, x in zip(from_csv, from_xml, strict=True)
        if c.designation != x.designation
    ]
    assert renamed == [
        ("048/8", "Prudential Securities Inc.", "Administered by ARIN"),
        ("056/8", "US Postal Service", "Administered by ARIN"),
    ]


def test_xml_notes_resolve_footnotes_and_references() -> None:
    blocks = read_ipv4_space_xml(_read("ipv4-address-space.xml"), "x")
    v6 = read_ipv6_unicast_xml(_read("ipv6-unicast-address-assignments.xml"), "y")

    assert blocks[0].note is not None
    assert blocks[0].note.startswith(
        "0.0.0.0/8 reserved for self-identification [RFC791], section 3.2."
    )
    assert "0.0.0.0/32 reserved for self-identification [RFC1122]" in blocks[0].note
    assert blocks[1].note is None  # 001/8 APNIC has none
    assert v6[0].prefix == "2001:0000::/23" and v6[0].registry is None
    assert (
        v6[0].note is not None
        and "2001:2::/48 is reserved for Benchmarking [RFC5180][RFC Errata 1752]." in v6[0].note
    )
    assert v6[0].date == "1999-07-01"  # an attribute of <record> in this registry


def test_ipv6_unicast_csv_facts() -> None:
    blocks = read_ipv6_unicast_csv(_read("ipv6-unicast-address-assignments.csv"), "v6.csv")
    by_prefix = {b.prefix: b for b in blocks}

    assert Counter(b.status for b in blocks) == {"ALLOCATED": 35, "RESERVED": 15}
    assert by_prefix["2001:2000::/19"].registry is Registry.RIPENCC
    assert by_prefix["2001:2000::/19"].date == "2019-03-12"
    assert by_prefix["2002::/16"].designation == "6to4" and by_prefix["2002::/16"].registry is None
    assert by_prefix["2c00::/12"].registry is Registry.AFRINIC
    assert by_prefix["3fff::/20"].status == "RESERVED"


def test_bootstrap_maps_asn_blocks_to_rirs_by_rdap_host() -> None:
    blocks = read_bootstrap((BOOTSTRAP / "2025-01" / "asn.json").read_bytes(), "asn.json")
    first = {b.resource.first: b for b in blocks}

    assert first[1].prefix == "1-1876" and first[1].registry is Registry.ARIN
    assert first[1].resource == ResourceRange.asn(1, 1876)
    assert first[36864].registry is Registry.AFRINIC
    assert first[4608].registry is Registry.APNIC
    assert first[1877].registry is Registry.RIPENCC
    assert Counter(b.registry for b in blocks)[Registry.LACNIC] > 0
    assert all(b.status == "ALLOCATED" and b.date is None for b in blocks)


def test_early_asn_bootstrap_lists_transferred_asns_one_by_one() -> None:
    """In 2016 the bootstrap named the RIR of many single ASNs (2,297 entries); by 2024 it
    listed IANA's blocks only (150)."""
    early = read_bootstrap((BOOTSTRAP / "2015-2016" / "asn.json").read_bytes(), "asn.json")
    singles = [b for b in early if b.resource.size == 1]

    assert len(singles) > 1000
    assert next(b for b in early if b.prefix == "2018").registry is Registry.AFRINIC


def test_registry_of() -> None:
    assert registry_of("Administered by AFRINIC") is Registry.AFRINIC
    assert registry_of("RIPE NCC") is Registry.RIPENCC
    assert registry_of("Apple Computer Inc.", "whois.arin.net") is Registry.ARIN
    assert (
        registry_of("UK Ministry of Defence", "", ["https://rdap.db.ripe.net/"]) is Registry.RIPENCC
    )
    assert registry_of("Multicast") is None
    assert registry_of("IANA", "whois.iana.org") is None


# -- excerpts and bundled copies ----------------------------------------------------------
def test_excerpts_are_real() -> None:
    for excerpt, source in [
        ("ipv4-address-space-head.csv", "ipv4-address-space.csv"),
        ("ipv6-unicast-address-assignments-head.csv", "ipv6-unicast-address-assignments.csv"),
    ]:
        assert _read(source).startswith((EXCERPTS / excerpt).read_bytes())
    for excerpt, source, count in [
        ("ipv4-address-space-head.xml", "ipv4-address-space.xml", 5),
        ("ipv6-unicast-address-assignments-head.xml", "ipv6-unicast-address-assignments.xml", 3),
    ]:
        assert (
            read_iana((EXCERPTS / excerpt).read_bytes(), excerpt)
            == read_iana(_read(source), excerpt)[:count]
        )


def test_bundled_copies_are_the_shared_files() -> None:
    """Byte for byte, with the sha256 PROVENANCE.md gives (CRLF kept)."""
    bundled = ROOT / "src" / "rirport" / "data" / "iana"
    provenance = (bundled / "PROVENANCE.md").read_text()
    shared = {
        IPV4_SPACE: IANA / "ipv4-address-space.csv",
        IPV6_UNICAST: IANA / "ipv6-unicast-address-assignments.csv",
        ASN_BOOTSTRAP: BOOTSTRAP / "2025-01" / "asn.json",
    }
    for source, file_name in BUNDLED_FILES.items():
        data = (bundled / file_name).read_bytes()
        assert data == shared[source].read_bytes()
        assert hashlib.sha256(data).hexdigest() in provenance
        assert len(bundled_iana(source)) > 0


# -- detection --------------------------------------------------------------------------------
def test_detect_ignores_other_files() -> None:
    stats = SHARED / "delegated" / "afrinic" / "delegated-afrinic-extended-20181013"
    rdap = SHARED / "rdap" / "arin" / "autnum-13335.json"

    assert detect_iana(stats.name, stats.read_bytes()[:5000]) is None
    assert detect_iana("autnum.json", rdap.read_bytes()) is None
    assert detect_iana("ipv6-address-space.xml", _read("ipv6-address-space.xml")) is None
    assert detect_iana("x", b"") is None


def test_detect_header_only_csv_by_name() -> None:
    header = b"Prefix,Designation,Date,WHOIS,RDAP,Status,Note\r\n"

    assert detect_iana("ipv6-unicast-address-assignments.csv", header) == IPV6_UNICAST
    assert detect_iana("whatever.csv", header) == IPV4_SPACE
    assert read_iana(header, "x.csv") == []


def test_not_an_iana_file_is_refused() -> None:
    error = _error(b"2|afrinic|20181013|0|00000000|20181013|00000\n", "delegated-afrinic")

    assert error.line is None
    assert "not an IANA registry" in str(error)


# -- bad CSV ------------------------------------------------------------------------------------
def _csv(old: bytes, new: bytes) -> bytes:
    data = (EXCERPTS / "ipv4-address-space-head.csv").read_bytes()
    assert old in data
    return data.replace(old, new, 1)


def test_bad_prefix_names_the_row_line() -> None:
    error = _error(_csv(b"010/8,", b"010/33,"), "head.csv")

    assert str(error).startswith("head.csv:18: bad prefix '010/33'")


def test_bad_row_after_multiline_rows_names_its_first_physical_line() -> None:
    """Rows 003/8..009/8 span two lines each; 011/8 starts on line 19 and ends on 20."""
    data = (EXCERPTS / "ipv4-address-space-head.csv").read_bytes()
    last = data.rindex(b",LEGACY,")  # the status of 011/8, the last row
    data = data[:last] + b",LEGACYY," + data[last + len(b",LEGACY,") :]

    error = _error(data, "head.csv")

    assert str(error) == (
        "head.csv:19: unknown status 'LEGACYY' "
        "(expected one of ALLOCATED, LEGACY, RESERVED, UNALLOCATED)"
    )


def test_bad_date_is_refused() -> None:
    error = _error(_csv(b"1995-04", b"April 1995"), "head.csv")

    assert str(error) == "head.csv:12: bad date 'April 1995' (expected YYYY-MM or YYYY-MM-DD)"


def test_missing_column_is_refused() -> None:
    error = _error(_csv(b"Status [1]", b"State"), "head.csv")

    assert error.line == 1
    assert "missing column(s) status" in error.reason


def test_short_row_is_refused() -> None:
    error = _error(
        _csv(
            b"\r\n005/8,RIPE NCC,2010-11,whois.ripe.net,https://rdap.db.ripe.net/,ALLOCATED,",
            b"\r\n005/8,RIPE NCC",
        ),
        "head.csv",
    )

    assert str(error) == "head.csv:9: row has 2 field(s), the header names 7"


def test_unterminated_quote_is_refused() -> None:
    data = (EXCERPTS / "ipv4-address-space-head.csv").read_bytes() + b'012/8,"AT&T,1995-06\r\n'

    error = _error(data, "head.csv")

    assert str(error) == "head.csv:21: bad CSV row: unexpected end of data"


def test_ipv6_prefix_in_the_ipv4_registry_is_refused() -> None:
    with pytest.raises(ParseError, match=r"^v4\.csv:2: bad prefix '2001::/23': not an ipv4"):
        read_ipv4_space_csv(
            (EXCERPTS / "ipv6-unicast-address-assignments-head.csv").read_bytes(), "v4.csv"
        )


def test_non_utf8_csv_is_refused() -> None:
    error = _error(_csv(b"Army Information", b"Army \xe9nformation"), "head.csv")

    assert str(error) == "head.csv:10: not UTF-8 text (byte 0xe9)"


# -- bad XML ------------------------------------------------------------------------------------
def _xml(old: bytes, new: bytes) -> bytes:
    data = (EXCERPTS / "ipv4-address-space-head.xml").read_bytes()
    assert old in data
    return data.replace(old, new, 1)


def test_bad_xml_record_names_the_record_line() -> None:
    error = _error(_xml(b"<prefix>002/8</prefix>", b"<prefix>002/88</prefix>"), "head.xml")

    assert str(error).startswith("head.xml:33: bad prefix '002/88'")


def test_xml_record_without_status_is_refused() -> None:
    error = _error(_xml(b"<status>ALLOCATED</status>", b""), "head.xml")

    assert str(error) == "head.xml:23: record has no <status>"


def test_malformed_xml_names_its_line() -> None:
    error = _error(_xml(b"</designation>", b"</designatio>"), "head.xml")

    assert str(error) == "head.xml:17: not well-formed XML: mismatched tag"


def test_xml_of_another_registry_is_refused() -> None:
    with pytest.raises(ParseError, match=r"^v6\.xml:4: not the IANA ipv4-address-space registry"):
        read_ipv4_space_xml(
            (EXCERPTS / "ipv6-unicast-address-assignments-head.xml").read_bytes(), "v6.xml"
        )


def test_xml_entities_are_refused() -> None:
    data = _xml(b"<?xml-stylesheet", b'<!DOCTYPE r [<!ENTITY a "aaaa">]>\n<?xml-stylesheet')

    error = _error(data, "head.xml")

    assert str(error) == (
        "head.xml:2: DOCTYPE and entity declarations are not accepted in an IANA registry file"
    )


# -- bad bootstrap JSON -------------------------------------------------------------------
def _asn_json() -> bytes:
    return (BOOTSTRAP / "2024-07" / "asn.json").read_bytes()


def test_bad_bootstrap_entry_names_its_line() -> None:
    data = _asn_json()
    assert b'"1-1876"' in data
    line = data[: data.index(b'"1-1876"')].count(b"\n") + 1

    error = _error(data.replace(b'"1-1876"', b'"1876-1"'), "asn.json")

    assert error.line == line
    assert error.reason.startswith("bad bootstrap entry '1876-1': invalid asn range")


def test_bootstrap_service_of_no_rir_is_refused() -> None:
    data = _asn_json().replace(b"rdap.afrinic.net", b"rdap.example.net")

    error = _error(data, "asn.json")

    assert "lists no RIR's RDAP server" in error.reason
    assert error.line is not None


def test_bootstrap_mixing_kinds_is_refused() -> None:
    doc = json.loads(_asn_json())
    doc["services"][0][0].append("41.0.0.0/8")

    with pytest.raises(ParseError, match="mixes entry kinds"):
        read_bootstrap(json.dumps(doc).encode(), "asn.json")


def test_json_that_is_not_a_bootstrap_file_is_refused() -> None:
    rdap = (SHARED / "rdap" / "arin" / "autnum-13335.json").read_bytes()

    with pytest.raises(ParseError) as caught:
        read_bootstrap(rdap, "autnum-13335.json")

    assert str(caught.value) == (
        'autnum-13335.json: JSON is not an RDAP bootstrap file (no "services" list)'
    )


def test_truncated_bootstrap_names_the_line() -> None:
    data = _asn_json()[:1000]

    with pytest.raises(ParseError, match=r"^asn\.json:\d+: not JSON: "):
        read_bootstrap(data, "asn.json")


def test_bootstrap_service_of_wrong_shape_is_refused() -> None:
    with pytest.raises(ParseError, match="service 1 is not a pair of lists of strings"):
        read_bootstrap(b'{"services": [["1-2", "https://rdap.arin.net/registry/"]]}', "a.json")


def test_resource_types_of_bootstrap_sources() -> None:
    v4 = read_iana((BOOTSTRAP / "2024-07" / "ipv4.json").read_bytes(), "ipv4.json")
    v6 = read_iana((BOOTSTRAP / "2024-07" / "ipv6.json").read_bytes(), "ipv6.json")

    assert {b.resource.type for b in v4} == {ResourceType.IPV4}
    assert {b.resource.type for b in v6} == {ResourceType.IPV6}
    assert sum(b.resource.size for b in v4) == 221 << 24  # one entry per RIR /8
