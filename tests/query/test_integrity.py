"""The cross-registry integrity check, and the IANA data it checks against.

Small cases are built from real record lines (named by their line in the real file) and run on
both engines; the facts about the whole 2018 set were verified by hand and run on SQLite only.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from rirport.cli.main import cli
from rirport.domain.enums import Registry, ResourceType
from rirport.domain.iana import ASN_BOOTSTRAP, IPV4_SPACE, IPV6_UNICAST, IanaBlock
from rirport.domain.resources import ResourceRange
from rirport.domain.table import REGISTRY_CODE, DelegationTable
from rirport.errors import ParseError
from rirport.formats.iana import read_iana
from rirport.query.iana import BUNDLED_FILES, bundled_iana, load_iana
from rirport.query.integrity import (
    DuplicateFinding,
    Finding,
    IntegrityReport,
    OutsideIanaFinding,
    OverlapFinding,
    SummaryMismatchFinding,
    check,
    overlapping_pairs,
)
from rirport.query.view import CurrentView, load_current
from rirport.services.registry.iana import ingest_iana, is_iana_file
from rirport.services.registry.ingest import ingest_bytes, ingest_path
from rirport.store.unit import Store
from tests.paths import DELEGATED, SHARED, real_files

IANA = SHARED / "iana"
BOOTSTRAP_2016 = IANA / "rdap-bootstrap" / "2015-2016" / "asn.json"


def _real(registry: str, year: str) -> Path:
    (path,) = DELEGATED.glob(f"{registry}/delegated-{registry}-extended-{year}*")
    return path


def _mini(registry: str, year: str, lines: Sequence[int]) -> bytes:
    """A statistics file made of a real file's version line, its summary lines (counts
    recomputed) and the record lines numbered ``lines`` there (1-based; repeats allowed)."""
    text = _real(registry, year).read_text().splitlines()
    at = next(i for i, line in enumerate(text) if not line.startswith("#"))
    header = text[at].split("|")
    summaries = [s.split("|") for s in text[at + 1 : at + 4] if s.endswith("|summary")]
    records = [text[n - 1] for n in lines]
    counts = Counter(r.split("|")[2] for r in records)
    header[3] = str(len(records))
    out = [
        "|".join(header),
        *(f"{s[0]}|*|{s[2]}|*|{counts[s[2]]}|summary" for s in summaries),
        *records,
    ]
    return ("\n".join(out) + "\n").encode()


def _ingest(store: Store, registry: str, year: str, lines: Sequence[int]) -> None:
    ingest_bytes(store, _mini(registry, year, lines), f"{registry}-{year}-mini")


def _check(store: Store) -> IntegrityReport:
    return check(load_current(store), load_iana(store))


def _only(report: IntegrityReport, kind: str) -> list[Any]:
    """Findings of one kind (typed Any: each test knows which finding class it expects)."""
    return [f for f in report.findings if f.kind == kind]


# -- IANA data in the store --------------------------------------------------------------------
def test_a_fresh_store_checks_against_the_bundled_copies(store: Store) -> None:
    blocks = load_iana(store)

    assert {s: o.origin for s, o in blocks.origins.items()} == {
        ASN_BOOTSTRAP: "bundled",
        IPV4_SPACE: "bundled",
        IPV6_UNICAST: "bundled",
    }
    assert Counter(b.source for b in blocks) == {
        IPV4_SPACE: 256,
        IPV6_UNICAST: 50,
        ASN_BOOTSTRAP: 152,
    }


def test_ingest_iana_replaces_one_source_and_says_so(store: Store) -> None:
    xml = IANA / "ipv4-address-space.xml"
    with store.transaction() as uow:
        before = uow.meta.generation()

    first = ingest_iana(store, xml)
    again = ingest_iana(store, xml.read_bytes(), "copy-of-ipv4-address-space.xml")

    assert (first.outcome, first.source, first.blocks) == ("ingested", IPV4_SPACE, 256)
    assert again.outcome == "unchanged"
    assert again.message.startswith(
        "copy-of-ipv4-address-space.xml: IANA ipv4-address-space with this sha256 (c3392aa93557"
    )
    with store.transaction() as uow:
        assert uow.meta.generation() == before + 1
    blocks = load_iana(store)
    origin = blocks.origins[IPV4_SPACE]
    assert (origin.origin, origin.file_name) == ("stored", "ipv4-address-space.xml")
    assert origin.sha256 == "c3392aa9355703e910ffd26e53bd1168e430c820f81b717e796a5d4bf471ec34"
    assert blocks.origins[ASN_BOOTSTRAP].origin == "bundled"
    stored = [b for b in blocks if b.source == IPV4_SPACE]
    assert stored == read_iana(xml.read_bytes(), "x")  # notes, dates and all, in order


def test_stored_bootstrap_round_trips(store: Store) -> None:
    ingest_iana(store, BOOTSTRAP_2016)

    stored = [b for b in load_iana(store) if b.source == ASN_BOOTSTRAP]

    assert sorted(stored, key=lambda b: b.resource) == sorted(
        read_iana(BOOTSTRAP_2016.read_bytes(), "asn.json"), key=lambda b: b.resource
    )


def test_a_bad_iana_file_stores_nothing(store: Store) -> None:
    data = (IANA / "ipv4-address-space.csv").read_bytes().replace(b"ALLOCATED", b"GIVEN", 1)

    with pytest.raises(ParseError, match=r"^bad\.csv:3: unknown status 'GIVEN'"):
        ingest_iana(store, data, "bad.csv")

    with store.transaction() as uow:
        assert uow.iana.sources() == {}


def test_is_iana_file_routes_by_content() -> None:
    assert is_iana_file(IANA / "ipv6-unicast-address-assignments.xml")
    assert is_iana_file(BOOTSTRAP_2016)
    assert not is_iana_file(_real("arin", "2018"))
    assert not is_iana_file(SHARED / "rdap" / "arin" / "autnum-13335.json")
    assert not is_iana_file(IANA / "no-such-file.csv")


# -- one small case per kind, from real records -----------------------------------------------
def test_overlap_between_registries(store: Store) -> None:
    """ARIN's March 2017 file still lists 23.19.0.0/16 and 134.175.0.0/16 (reserved); by
    October 2018 RIPE NCC holds 23.19.48.0/22 and APNIC 134.175.0.0/16."""
    _ingest(store, "arin", "2017", [26511, 36881])
    _ingest(store, "ripencc", "2018", [964])
    _ingest(store, "apnic", "2018", [24386])

    conflict, reserved = _only(_check(store), "overlap")

    assert isinstance(conflict, OverlapFinding)
    assert (conflict.cls, conflict.severity) == ("conflict", "error")
    assert (conflict.registry, conflict.other_registry) == (Registry.ARIN, Registry.RIPENCC)
    assert conflict.resource == ResourceRange.from_network("23.19.48.0/22")
    assert (conflict.record.start, conflict.record.value, conflict.record.line) == (
        "23.19.0.0",
        65536,
        5,
    )
    assert (conflict.other.file, conflict.other.line) == ("ripencc-2018-mini", 5)
    assert conflict.detail == (
        "23.19.48.0/22 is allocated by ARIN and allocated by RIPE NCC at the same time"
    )
    assert (reserved.cls, reserved.severity) == ("reserved-vs-delegated", "warning")
    assert (reserved.registry, reserved.other_registry) == (Registry.ARIN, Registry.APNIC)
    assert reserved.resource == ResourceRange.from_network("134.175.0.0/16")
    assert reserved.to_json()["other"]["status"] == "allocated"


def test_duplicates_within_one_registry(store: Store) -> None:
    """AFRINIC's 2017 file lists 2001:43f8:d0::/48 assigned (line 5958) and, on the next line,
    2001:43f8:d0::/44 available; here the first line is also listed twice."""
    _ingest(store, "afrinic", "2017", [5958, 5958, 5959])

    found = _only(_check(store), "duplicate")

    assert all(isinstance(f, DuplicateFinding) and f.registry is Registry.AFRINIC for f in found)
    assert Counter(f.cls for f in found) == {"exact": 1, "overlap": 2}
    exact = next(f for f in found if f.cls == "exact")
    assert exact.resource == ResourceRange.from_network("2001:43f8:d0::/48")
    assert (exact.record.line, exact.other.line) == (5, 6)
    assert exact.detail == (
        "AFRINIC lists 2001:43f8:d0::/48 twice (assigned at line 5, assigned at line 6)"
    )
    assert {f.other.status.value for f in found if f.cls == "overlap"} == {"available"}


def test_outside_iana_classes(store: Store) -> None:
    _ingest(store, "ripencc", "2018", [964, 72794, 127308])  # 23.19.48.0/22, AS7, 2001:5::/32
    _ingest(store, "afrinic", "2018", [4577])  # 137.158.0.0/16 (1989)
    _ingest(store, "lacnic", "2018", [7])  # 45.4.0.0/22 (2017)
    _ingest(store, "apnic", "2018", [103872])  # AS173 (2002)

    found = {str(f.resource): f for f in _only(_check(store), "outside-iana")}

    assert {k: (f.cls, f.severity, f.other_registry) for k, f in found.items()} == {
        "AS7": ("erx", "info", Registry.ARIN),
        "AS173": ("transfer", "info", Registry.ARIN),
        "23.19.48.0/22": ("transfer", "info", Registry.ARIN),
        "45.4.0.0/22": ("legacy", "info", Registry.ARIN),
        "137.158.0.0/16": ("erx", "info", Registry.ARIN),
        "2001:5::/32": ("reserved", "warning", None),
    }
    assert all(isinstance(f, OutsideIanaFinding) for f in found.values())
    assert found["23.19.48.0/22"].detail == (
        "RIPE NCC lists 23.19.48.0/22 (allocated, 2011-04-25) in 023/8, which IANA allocated "
        "to ARIN: an inter-RIR transfer"
    )
    assert found["137.158.0.0/16"].detail == (
        "AFRINIC lists 137.158.0.0/16 (assigned, 1989-12-12) in legacy space 137/8 "
        "administered by ARIN: registered before AFRINIC began in 2005, an early registration"
    )
    assert found["2001:5::/32"].iana is not None
    assert found["2001:5::/32"].iana.prefix == "2001::/23"
    assert found["AS7"].detail == (
        "RIPE NCC lists AS7 (allocated, 1993-09-01) in 1-1876, which the RDAP bootstrap maps to "
        "ARIN: registered before ARIN began in 1997, an early registration"
    )
    assert found["AS173"].detail.endswith(
        "in 1-1876, which the RDAP bootstrap maps to ARIN: an inter-RIR transfer"
    )


def test_outside_iana_unlisted_against_an_older_bootstrap(store: Store) -> None:
    """AS137530 (APNIC, 2018) is in a block the September 2016 bootstrap did not list yet."""
    _ingest(store, "apnic", "2018", [112675])
    assert _only(_check(store), "outside-iana") == []  # the bundled 2025 bootstrap has it

    ingest_iana(store, BOOTSTRAP_2016)
    (found,) = _only(_check(store), "outside-iana")

    assert (found.cls, found.severity, found.iana) == ("unlisted", "warning", None)
    assert found.resource == ResourceRange.asn(137530)


def _bad_start(data: bytes, line: int) -> bytes:
    """``data`` with the start address of (1-based) ``line`` made invalid."""
    lines = data.split(b"\n")
    fields = lines[line - 1].split(b"|")
    fields[3] = b"300.0.0.0"
    lines[line - 1] = b"|".join(fields)
    return b"\n".join(lines)


def test_summary_mismatch_after_skipped_lines(store: Store) -> None:
    data = _bad_start(_mini("afrinic", "2018", [5, 6, 2307, 2308]), 8)  # 41.32.0.0 -> 300.0.0.0
    result = ingest_bytes(store, data, "afrinic-skipped", skip_bad_lines=True)
    assert [e.line for e in result.skipped] == [8]

    (found,) = _only(_check(store), "summary-mismatch")

    assert isinstance(found, SummaryMismatchFinding)
    assert (found.cls, found.severity, found.type) == (
        "skipped-lines",
        "warning",
        ResourceType.IPV4,
    )
    assert (found.declared, found.stored, found.skipped_lines) == (2, 1, 1)
    assert found.detail == (
        "AFRINIC snapshot 1 (afrinic-skipped) announces 2 ipv4 records, the "
        "store holds 1; 1 bad line(s) were skipped at ingest"
    )


def test_summary_mismatch_without_skipped_lines_is_an_error(store: Store) -> None:
    """Not possible through ingest (it refuses such files): a store edited by hand."""
    _ingest(store, "lacnic", "2018", [5, 6, 7])
    view = load_current(store)
    edited = [
        dataclasses.replace(s, summary=[[t, n + 1] for t, n in s.summary]) for s in view.snapshots
    ]

    found = _only(check(dataclasses.replace(view, snapshots=edited), []), "summary-mismatch")

    assert [(f.cls, f.severity, f.type.value, f.declared, f.stored) for f in found] == [
        ("count", "error", "asn", 1, 0),
        ("count", "error", "ipv4", 4, 3),
        ("count", "error", "ipv6", 1, 0),
    ]


def test_overlapping_pairs_each_pair_once() -> None:
    firsts = np.array([10, 0, 5, 30, 5], dtype=np.uint64)
    lasts = np.array([20, 4, 12, 40, 5], dtype=np.uint64)

    left, right = overlapping_pairs(firsts, lasts)

    assert sorted(tuple(sorted(p)) for p in zip(left.tolist(), right.tolist(), strict=True)) == [
        (0, 2),
        (2, 4),
    ]


def test_check_command(store: Store, store_url: str, tmp_path: Path) -> None:
    _ingest(store, "arin", "2017", [26511])
    _ingest(store, "ripencc", "2018", [964])
    runner = CliRunner()
    base = ["--db", store_url, "--data-dir", str(tmp_path / "d"), "check"]

    as_json = runner.invoke(cli, [*base, "--format", "json", "--kind", "overlap"])
    as_table = runner.invoke(cli, base)

    assert as_json.exit_code == 0, as_json.output
    body = json.loads(as_json.output)
    assert [(c["kind"], c["class"], c["findings"]) for c in body["counts"]] == [
        ("overlap", "conflict", 1)
    ]
    assert body["findings"][0]["resource"] == "23.19.48.0/22"
    assert {o["source"]: o["origin"] for o in body["iana"]}[IPV4_SPACE] == "bundled"
    assert as_table.exit_code == 0, as_table.output
    assert "conflict" in as_table.output and "transfer" in as_table.output


# -- the whole 2017 and 2018 sets (SQLite only) ---------------------------------------------
def _bundled() -> list[IanaBlock]:
    return [b for source in BUNDLED_FILES for b in bundled_iana(source)]


@pytest.fixture(scope="module")
def views(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CurrentView]:
    """The current view of the five 2017 files and of the five 2018 files."""
    found = {}
    for year in ("2017", "2018"):
        store = Store(f"sqlite:///{tmp_path_factory.mktemp('integrity')}/{year}.sqlite")
        try:
            for path in real_files(year):
                ingest_path(store, path)
            found[year] = load_current(store)
        finally:
            store.close()
    return found


@pytest.fixture(scope="module")
def report_2018(views: dict[str, CurrentView]) -> IntegrityReport:
    return check(views["2018"], _bundled())


def _mixed(views: dict[str, CurrentView], old: Registry) -> CurrentView:
    """``old``'s 2017 snapshot with the other four 2018 snapshots, as if stored together
    (the 2017 snapshot ids are moved past the 2018 ones)."""
    v17, v18 = views["2017"], views["2018"]
    code = REGISTRY_CODE[old]
    keep17, keep18 = v17.table.registry == code, v18.table.registry != code
    shift = max(s.id for s in v18.snapshots)
    snapshots = [
        dataclasses.replace(s, id=s.id + shift) for s in v17.snapshots if s.registry == old.value
    ]
    snapshots += [s for s in v18.snapshots if s.registry != old.value]
    return CurrentView(
        snapshots,
        DelegationTable.concat([v17.table.take(keep17), v18.table.take(keep18)]),
        np.concatenate([v17.snapshot_ids[keep17] + shift, v18.snapshot_ids[keep18]]),
        0,
    )


def _outside(report: IntegrityReport) -> list[OutsideIanaFinding]:
    """The findings of space outside IANA's blocks for the registry (they name the record
    and IANA's block)."""
    return [f for f in report.findings if isinstance(f, OutsideIanaFinding)]


def _range(finding: Finding) -> ResourceRange:
    assert finding.resource is not None
    return finding.resource


def _value(registry: Registry | None) -> str:
    assert registry is not None
    return registry.value


def _pairs(
    report: IntegrityReport, cls: str, rtype: str, delegated_only: bool = True
) -> dict[tuple[str, str], int]:
    """Findings of a class per (holding registry, registry IANA gave the space to)."""
    return dict(
        Counter(
            (f.registry.value, _value(f.other_registry))
            for f in _outside(report)
            if f.cls == cls
            and f.type.value == rtype
            and (not delegated_only or f.record.status.delegated)
        )
    )


@pytest.mark.slow
def test_2018_registries_never_list_the_same_numbers(report_2018: IntegrityReport) -> None:
    assert _only(report_2018, "overlap") == []
    assert _only(report_2018, "duplicate") == []
    assert _only(report_2018, "summary-mismatch") == []


@pytest.mark.slow
def test_2018_counts_per_class(report_2018: IntegrityReport) -> None:
    counts = {
        (c.kind, c.cls, c.severity, c.type.value): (c.findings, c.amount)
        for c in report_2018.counts()
    }

    assert counts == {
        ("outside-iana", "reserved", "warning", "ipv6"): (1, 1 << 96),
        ("outside-iana", "erx", "info", "asn"): (1432, 1432),
        ("outside-iana", "erx", "info", "ipv4"): (7165, 196954880),
        ("outside-iana", "legacy", "info", "ipv4"): (10637, 70670336),
        ("outside-iana", "transfer", "info", "asn"): (440, 480),
        ("outside-iana", "transfer", "info", "ipv4"): (459, 4292096),
        ("outside-iana", "transfer", "info", "ipv6"): (50, 1 << 96),
    }
    assert report_2018.iana_sources == {
        "asn": ASN_BOOTSTRAP,
        "ipv4": IPV4_SPACE,
        "ipv6": IPV6_UNICAST,
    }


@pytest.mark.slow
def test_2018_inter_rir_ipv4_transfers_by_registry_pair(report_2018: IntegrityReport) -> None:
    """Allocated or assigned IPv4 records in /8s IANA allocated to another RIR, registered
    after both RIRs began: (holder, IANA's RIR) → records."""
    assert _pairs(report_2018, "transfer", "ipv4") == {
        ("afrinic", "arin"): 7,
        ("afrinic", "ripencc"): 73,
        ("apnic", "arin"): 113,
        ("apnic", "ripencc"): 42,
        ("arin", "apnic"): 19,
        ("arin", "ripencc"): 38,
        ("lacnic", "arin"): 40,
        ("ripencc", "apnic"): 15,
        ("ripencc", "arin"): 101,
    }
    assert sum(_pairs(report_2018, "transfer", "ipv4", delegated_only=False).values()) == 459


@pytest.mark.slow
def test_2018_early_registrations_by_registry_pair(report_2018: IntegrityReport) -> None:
    """Records dated before the holder or the space's RIR began (all are delegated)."""
    ipv4 = _pairs(report_2018, "erx", "ipv4")
    in_192 = [
        f
        for f in _outside(report_2018)
        if f.cls == "erx" and f.iana is not None and f.iana.prefix == "192/8"
    ]

    assert ipv4[("ripencc", "arin")] == 3606
    assert ipv4[("apnic", "arin")] == 2053
    assert ipv4[("afrinic", "arin")] == 414
    assert ipv4[("lacnic", "arin")] == 312
    assert ipv4[("arin", "lacnic")] == 27  # ARIN's own 1990s records in LACNIC's 200/8
    assert sum(ipv4.values()) == 7165
    assert (len(in_192), Counter(f.registry.value for f in in_192)["ripencc"]) == (3590, 2203)
    assert _pairs(report_2018, "erx", "asn") == {
        ("afrinic", "apnic"): 2,
        ("afrinic", "arin"): 92,
        ("afrinic", "ripencc"): 9,
        ("lacnic", "arin"): 596,
        ("ripencc", "arin"): 733,
    }


@pytest.mark.slow
def test_2018_most_legacy_findings_are_in_45_slash_8(report_2018: IntegrityReport) -> None:
    """45/8 is LEGACY "Administered by ARIN" in IANA's /8 registry, yet LACNIC and APNIC
    hand it out since 2014."""
    in_45 = [
        f
        for f in _outside(report_2018)
        if f.cls == "legacy" and f.iana is not None and f.iana.prefix == "045/8"
    ]

    assert len(in_45) == 3552
    assert Counter(f.registry.value for f in in_45) == {
        "lacnic": 1866,
        "apnic": 1628,
        "afrinic": 49,
        "ripencc": 9,
    }
    assert min(f.record.date for f in in_45 if f.record.date).isoformat() == "2014-05-28"


@pytest.mark.slow
def test_2018_notable_findings(report_2018: IntegrityReport) -> None:
    by_resource = {(f.registry.value, str(f.resource)): f for f in report_2018.findings}

    lisp = by_resource[("ripencc", "2001:5::/32")]
    assert isinstance(lisp, OutsideIanaFinding)
    assert lisp.cls == "reserved" and lisp.iana is not None and lisp.iana.prefix == "2001::/23"
    ixp = [f for f in report_2018.findings if f.type is ResourceType.IPV6 and f.cls == "transfer"]
    assert {f.registry for f in ixp} == {Registry.APNIC}
    assert all(ResourceRange.from_network("2001:7fa::/32").contains(_range(f)) for f in ixp)
    biggest = max(
        (f for f in report_2018.findings if f.cls == "transfer" and f.type is ResourceType.IPV4),
        key=lambda f: _range(f).size,
    )
    assert (biggest.registry.value, str(biggest.resource), biggest.other_registry) == (
        "ripencc",
        "101.56.0.0/13",
        Registry.APNIC,
    )


@pytest.mark.slow
def test_2018_asn_findings_agree_with_the_2016_bootstrap(report_2018: IntegrityReport) -> None:
    """The 2016 bootstrap named the RIR of single transferred ASNs; it agrees with the
    holder of all but two of the ASN records the 2025 bootstrap places in another RIR's
    block: AS17652 and AS23889 (AFRINIC) were still APNIC's in 2016."""
    early = read_iana(BOOTSTRAP_2016.read_bytes(), "asn.json")

    def served_by(asn: int) -> Registry | None:
        return next((b.registry for b in early if b.resource.first <= asn <= b.resource.last), None)

    asns = [f for f in report_2018.findings if f.type is ResourceType.ASN]
    disagree = [f for f in asns if served_by(_range(f).first) is not f.registry]

    assert len(asns) == 1872
    assert [(str(f.resource), served_by(_range(f).first)) for f in disagree] == [
        ("AS17652", Registry.APNIC),
        ("AS23889", Registry.APNIC),
    ]


def test_bundled_iana_is_read_once() -> None:
    assert bundled_iana(IPV4_SPACE) is bundled_iana(IPV4_SPACE)


def test_empty_view_has_no_findings() -> None:
    view = CurrentView([], DelegationTable.empty(), np.zeros(0, np.int32), 0)

    assert check(view, _bundled()).findings == ()


MIXED = {
    Registry.AFRINIC: {},
    Registry.APNIC: {
        ("conflict", "apnic", "arin"): 14,
        ("conflict", "apnic", "ripencc"): 12,
        ("reserved-vs-delegated", "apnic", "ripencc"): 1,
    },
    Registry.ARIN: {
        ("conflict", "apnic", "arin"): 148,
        ("conflict", "arin", "ripencc"): 138,
        ("reserved-vs-delegated", "arin", "apnic"): 1,
    },
    Registry.LACNIC: {},
    Registry.RIPENCC: {("conflict", "apnic", "ripencc"): 54, ("conflict", "arin", "ripencc"): 31},
}


@pytest.mark.slow
@pytest.mark.parametrize("old", list(MIXED))
def test_a_2017_file_among_2018_files_overlaps_where_space_moved(
    views: dict[str, CurrentView], old: Registry
) -> None:
    """One RIR's March 2017 file with the other four October 2018 files: the blocks that
    moved between that RIR and another in between are listed by both."""
    overlaps = _only(check(_mixed(views, old), []), "overlap")

    assert (
        dict(Counter((f.cls, f.registry.value, f.other_registry.value) for f in overlaps))
        == MIXED[old]
    )


@pytest.mark.slow
def test_who_keeps_the_date_of_a_block_received_from_another_rir(
    views: dict[str, CurrentView],
) -> None:
    """Conflicting pairs of the mixed views: does the 2018 recipient's record carry the 2017
    holder's date? ARIN never does (it dates the transfer); RIPE NCC and APNIC mostly do."""
    same: Counter[tuple[str, bool]] = Counter()
    for old in (Registry.APNIC, Registry.ARIN, Registry.RIPENCC):
        for f in _only(check(_mixed(views, old), []), "overlap"):
            if f.cls == "conflict":
                before, after = (f.record, f.other) if f.registry is old else (f.other, f.record)
                same[(after.registry.value, before.date == after.date)] += 1

    assert same == {
        ("arin", False): 45,
        ("ripencc", True): 141,
        ("ripencc", False): 9,
        ("apnic", True): 163,
        ("apnic", False): 39,
    }


@pytest.mark.slow
def test_2018_facts_quoted_in_the_docs(report_2018: IntegrityReport) -> None:
    """The remaining numbers and examples docs/integrity.md quotes."""
    findings = _outside(report_2018)  # transfers, legacy and ERX space are outside IANA's
    transfers = sorted(
        (f for f in findings if f.cls == "transfer" and f.type is ResourceType.IPV4),
        key=lambda f: -_range(f).size,
    )
    legacy = [f for f in findings if f.cls == "legacy"]
    ixp = Counter(
        f.record.status.value
        for f in findings
        if f.type is ResourceType.IPV6 and f.cls == "transfer"
    )
    arin_in_200 = [
        f
        for f in findings
        if f.cls == "erx" and f.registry is Registry.ARIN and f.other_registry is Registry.LACNIC
    ]

    assert [(str(f.resource), f.registry.value) for f in transfers[:6]] == [
        ("101.56.0.0/13", "ripencc"),
        ("81.68.0.0/14", "apnic"),
        ("49.12.0.0/15", "ripencc"),
        ("82.156.0.0/15", "apnic"),
        ("116.202.0.0/15", "ripencc"),
        ("193.122.0.0/15", "arin"),
    ]
    assert sum(_range(f).size for f in transfers if f.record.status.delegated) == 4228096
    assert Counter(f.registry.value for f in legacy) == {
        "lacnic": 6264,
        "apnic": 2527,
        "ripencc": 1237,
        "afrinic": 489,
        "arin": 120,
    }
    assert [(p, n) for p, n in Counter(f.iana.prefix for f in legacy if f.iana).most_common(5)] == [
        ("045/8", 3552),
        ("170/8", 1179),
        ("138/8", 957),
        ("168/8", 784),
        ("192/8", 762),
    ]
    assert sum(_range(f).size for f in legacy if f.iana and f.iana.prefix == "045/8") == 12875776
    assert ixp == {"assigned": 19, "available": 29, "reserved": 2}
    assert {f.iana.prefix for f in arin_in_200 if f.iana} == {"200/8"}
    assert len(arin_in_200) == 27
    assert Counter(
        f.registry.value for f in findings if f.type is ResourceType.ASN and f.cls == "transfer"
    ) == {"lacnic": 171, "afrinic": 151, "apnic": 108, "ripencc": 10}


@pytest.mark.slow
def test_date_examples_quoted_in_the_docs(views: dict[str, CurrentView]) -> None:
    def record(view: CurrentView, registry: Registry, start: str) -> tuple[str, int, str]:
        table = view.table
        for row in np.flatnonzero(table.start == start.encode()).tolist():
            d = table.row(row)
            if d.registry is registry:
                return d.start, d.value, d.date.isoformat() if d.date else ""
        raise AssertionError(f"{registry} {start} not found")

    v17, v18 = views["2017"], views["2018"]
    assert record(v17, Registry.RIPENCC, "80.71.32.0") == ("80.71.32.0", 4096, "2001-06-05")
    assert record(v18, Registry.ARIN, "80.71.32.0") == ("80.71.32.0", 4096, "2018-09-18")
    assert record(v17, Registry.RIPENCC, "62.234.0.0")[2] == "2001-07-30"
    assert record(v18, Registry.APNIC, "62.234.0.0")[2] == "2001-07-30"
    assert record(v17, Registry.RIPENCC, "81.23.208.0") == ("81.23.208.0", 4096, "2002-11-14")
    assert record(v18, Registry.APNIC, "81.23.208.0") == ("81.23.208.0", 4096, "1992-02-05")


def test_overlapping_pairs_without_any_overlap_and_one_behind_a_long_range() -> None:
    firsts = np.array([50, 0, 10, 200], dtype=np.uint64)
    lasts = np.array([60, 100, 20, 300], dtype=np.uint64)
    left, right = overlapping_pairs(firsts, lasts)
    assert sorted(zip(left.tolist(), right.tolist(), strict=True)) == [(1, 0), (1, 2)]
    apart = overlapping_pairs(np.array([0, 30], np.uint64), np.array([20, 40], np.uint64))
    assert [len(side) for side in apart] == [0, 0]
