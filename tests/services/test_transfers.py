"""Transfers on the real data, on SQLite and PostgreSQL: lifecycle, splits, invariants,
concurrency, faults, and the journal proving what happened (and what did not)."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rirport.domain.enums import Registry, ResourceType
from rirport.domain.query import parse_query
from rirport.domain.resources import BITS, ResourceRange
from rirport.domain.transfer import TransferKind
from rirport.errors import ConflictError, InputError, NotFoundError
from rirport.query.iana import load_iana
from rirport.query.lookup import Lookup
from rirport.query.view import CurrentView, load_as_of, load_current
from rirport.services.audit import journal
from rirport.services.registry.export import export_snapshot
from rirport.services.registry.ingest import ingest_bytes
from rirport.services.transfers.facts import iana_block
from rirport.services.transfers.holds import add_hold
from rirport.services.transfers.lifecycle import (
    StepResult,
    advance,
    build_request,
    request_transfer,
)
from rirport.store.keys import key_of
from rirport.store.repos.delegations import NewDelegation
from rirport.store.unit import Store
from tests.excerpts import excerpt, real_file

RIPE_HOLDER = "2971c08b-2b8e-49f9-a938-fe3a9f8348be"  # RIPE NCC's own 193.0.0.0/20 and /21
NEW_HOLDER = "org-new-holder"
PORTABLE = "mandatory-portability"
DAY = dt.date(2026, 11, 1)


def _ripe_sample(index: int, fields: list[str]) -> bool:
    return (
        index < 60
        or fields[3] in ("193.0.0.0", "193.0.16.0", "2001:5::")
        or (fields[2] == "asn" and fields[3] in ("3333",))
    )


def _apnic_sample(index: int, fields: list[str]) -> bool:
    return index < 40 or (fields[2] == "asn" and fields[4] == "2")


@pytest.fixture
def loaded(store: Store) -> Store:
    """Real excerpts of RIPE NCC, ARIN and APNIC in the store."""
    ingest_bytes(store, excerpt(real_file("ripencc"), _ripe_sample), "ripe.txt")
    ingest_bytes(store, excerpt(real_file("arin"), 40), "arin.txt")
    ingest_bytes(store, excerpt(real_file("apnic"), _apnic_sample), "apnic.txt")
    return store


def _view(store: Store) -> CurrentView:
    return load_current(store)


def _request(
    store: Store,
    resource: str,
    to: Registry = Registry.ARIN,
    regime: str = PORTABLE,
    requester: str | None = RIPE_HOLDER,
) -> StepResult:
    view = _view(store)
    query = parse_query(resource)
    assert query.resource is not None
    req = build_request(
        view, query.resource, to, NEW_HOLDER, TransferKind.INTER_RIR, DAY, requester
    )
    return request_transfer(store, view, req, regime, "tester", load_iana(store))


def _step(
    store: Store, transfer_id: int, step: str, view: CurrentView | None = None, **options: Any
) -> StepResult:
    return advance(
        store, view or _view(store), transfer_id, step, "tester", load_iana(store), **options
    )


def _through(store: Store, transfer_id: int, last: str = "complete") -> StepResult:
    result = None
    for step in ("approve", "accept", "complete"):
        result = _step(store, transfer_id, step, conditions_met=True)
        if step == last:
            break
    assert result is not None
    return result


def _entries(store: Store) -> int:
    return journal.verify(store).entries


def test_a_whole_delegation_moves_and_the_exports_show_it(loaded: Store) -> None:
    before = _entries(loaded)
    requested = _request(loaded, "193.0.16.0/21")
    assert requested.transfer.state == "requested"
    done = _through(loaded, requested.transfer.id)

    assert done.transfer.state == "completed"
    assert done.changes == {
        "moved": "193.0.16.0/21",
        "retired": ["ripencc|NL|ipv4|193.0.16.0|2048|19930901|allocated|" + RIPE_HOLDER],
        "added": [f"arin|NL|ipv4|193.0.16.0|2048|19930901|allocated|{NEW_HOLDER}"],
    }
    ripe, arin = (
        export_snapshot(loaded, registry=Registry.RIPENCC),
        export_snapshot(loaded, registry=Registry.ARIN),
    )
    assert "|193.0.16.0|" not in ripe and "|193.0.0.0|4096|" in ripe
    assert f"arin|NL|ipv4|193.0.16.0|2048|19930901|allocated|{NEW_HOLDER}\n" in arin
    assert "|193.0.16.0|" in export_snapshot(loaded, registry=Registry.RIPENCC, state="original")
    (match,) = Lookup(_view(loaded)).find("193.0.17.1")
    assert (match.delegation.registry, match.delegation.opaque_id) == (Registry.ARIN, NEW_HOLDER)
    assert _entries(loaded) == before + 4 and journal.verify(loaded).ok


@pytest.mark.parametrize(
    "as_of, registry", [(DAY - dt.timedelta(days=1), Registry.RIPENCC), (DAY, Registry.ARIN)]
)
def test_a_view_as_of_a_date_before_the_transfer_shows_the_block_where_it_was(
    loaded: Store, as_of: dt.date, registry: Registry
) -> None:
    _through(loaded, _request(loaded, "193.0.16.0/21").transfer.id)
    (match,) = Lookup(load_as_of(loaded, as_of)).find("193.0.17.1")
    assert match.delegation.registry is registry
    arin = Lookup(load_as_of(loaded, as_of)).find("193.0.16.0/21")
    assert len(arin) == 1  # never both, never neither
    (now,) = Lookup(_view(loaded)).find("193.0.17.1")
    assert now.delegation.registry is Registry.ARIN


def test_part_of_a_delegation_splits_it(loaded: Store) -> None:
    done = _through(loaded, _request(loaded, "193.0.4.0/22").transfer.id)
    assert done.changes is not None
    assert done.changes["added"] == [
        f"ripencc|NL|ipv4|193.0.0.0|1024|19930901|allocated|{RIPE_HOLDER}",
        f"ripencc|NL|ipv4|193.0.8.0|2048|19930901|allocated|{RIPE_HOLDER}",
        f"arin|NL|ipv4|193.0.4.0|1024|19930901|allocated|{NEW_HOLDER}",
    ]
    matches = Lookup(_view(loaded)).find("193.0.0.0/20")
    assert sorted(
        (m.delegation.registry.value, m.delegation.start, m.delegation.value) for m in matches
    ) == [
        ("arin", "193.0.4.0", 1024),
        ("ripencc", "193.0.0.0", 1024),
        ("ripencc", "193.0.8.0", 2048),
    ]


def test_an_asn_range_splits_too(loaded: Store) -> None:
    view = _view(loaded)
    (match,) = [m for m in Lookup(view).find("AS1768") if m.delegation.value == 2]
    holder = match.delegation.opaque_id
    req = build_request(
        view,
        ResourceRange.asn(1769),
        Registry.RIPENCC,
        NEW_HOLDER,
        TransferKind.INTER_RIR,
        DAY,
        holder,
    )
    done = _through(
        loaded, request_transfer(loaded, view, req, PORTABLE, "t", load_iana(loaded)).transfer.id
    )
    assert done.changes is not None
    assert [r.split("|")[:5] for r in done.changes["added"]] == [
        ["apnic", "TW", "asn", "1768", "1"],
        ["ripencc", "TW", "asn", "1769", "1"],
    ]


@pytest.mark.parametrize(
    ("resource", "requester", "to", "error", "message"),
    [
        ("10.0.0.0/24", None, Registry.ARIN, NotFoundError, "no registry holds 10.0.0.0/24"),
        ("193.0.16.0/21", "someone-else", Registry.ARIN, InputError, "is not the holder"),
        ("193.0.16.0/21", RIPE_HOLDER, Registry.RIPENCC, InputError, "needs another registry"),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(
    loaded: Store,
    resource: str,
    requester: str | None,
    to: Registry,
    error: type[Exception],
    message: str,
) -> None:
    before = _entries(loaded)
    with pytest.raises(error, match=message):
        _request(loaded, resource, to=to, requester=requester)
    assert _entries(loaded) == before


def test_a_range_over_two_holders_is_refused(loaded: Store) -> None:
    view = _view(loaded)
    table = view.table
    pairs = [
        (i, i + 1)
        for i in range(len(table) - 1)
        if table.type[i] == table.type[i + 1]
        and table.registry[i] == table.registry[i + 1]
        and table.last_int(i) + 1 == table.first_int(i + 1)
        and table.opaque_id[i] != table.opaque_id[i + 1]
        and table.row(i).status.delegated
        and table.row(i + 1).status.delegated
    ]
    a, b = pairs[0]
    both = ResourceRange(table.row(a).type, table.last_int(a), table.first_int(b))
    with pytest.raises(InputError, match="straddles holders"):
        build_request(view, both, Registry.LACNIC, NEW_HOLDER, TransferKind.INTER_RIR, DAY)


def test_a_date_before_the_delegation_is_refused(loaded: Store) -> None:
    view = _view(loaded)
    with pytest.raises(InputError, match="is before the delegation"):
        build_request(
            view,
            ResourceRange.from_network("193.0.16.0/21"),
            Registry.ARIN,
            NEW_HOLDER,
            TransferKind.INTER_RIR,
            dt.date(1990, 1, 1),
        )


def test_steps_must_follow_the_lifecycle(loaded: Store) -> None:
    transfer_id = _request(loaded, "193.0.16.0/21").transfer.id
    with pytest.raises(ConflictError, match="is requested: it cannot complete"):
        _step(loaded, transfer_id, "complete")
    _step(loaded, transfer_id, "approve")
    with pytest.raises(ConflictError, match="is approved: it cannot approve"):
        _step(loaded, transfer_id, "approve")
    cancelled = _step(loaded, transfer_id, "cancel", reason="changed mind")
    assert cancelled.transfer.state == "cancelled"


def test_a_legal_hold_refuses_the_next_step(loaded: Store) -> None:
    transfer_id = _request(loaded, "193.0.16.0/21").transfer.id
    add_hold(
        loaded,
        ResourceRange.from_network("193.0.16.0/22"),
        "legal-hold",
        "court order (test)",
        "judge",
        since=dt.date(2026, 1, 1),
    )
    result = _step(loaded, transfer_id, "approve")
    assert result.transfer.state == "rejected"
    assert result.decision is not None and result.decision.outcome.value == "refused"


def test_space_iana_keeps_cannot_be_completed(loaded: Store) -> None:
    transfer_id = _request(
        loaded, "2001:5::/32", requester="64f05a25-c4d7-4021-8c4c-9cd94fb85edc"
    ).transfer.id
    before = _entries(loaded)
    with pytest.raises(ConflictError, match="not wholly in IANA-allocated space"):
        _through(loaded, transfer_id)
    assert _entries(loaded) == before + 2  # approve and accept; the failed completion: nothing


def test_a_failure_mid_completion_rolls_everything_back(
    loaded: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    transfer_id = _request(loaded, "193.0.16.0/21").transfer.id
    _through(loaded, transfer_id, last="accept")
    before = _entries(loaded)

    def disk_full(*_args: object) -> None:
        raise RuntimeError("disk full (simulated)")

    monkeypatch.setattr("rirport.store.repos.delegations.DelegationRepo.add", disk_full)
    with pytest.raises(RuntimeError, match="simulated"):
        _step(loaded, transfer_id, "complete")
    assert _entries(loaded) == before
    assert Lookup(_view(loaded)).find("193.0.17.1")[0].delegation.registry is Registry.RIPENCC
    with loaded.transaction() as uow:
        row = uow.transfers.get(transfer_id)
    assert row is not None and row.state == "accepted"


def test_overlapping_transfers_at_the_same_time_exactly_one_completes(loaded: Store) -> None:
    first = _request(loaded, "193.0.16.0/21").transfer.id
    second = _request(loaded, "193.0.20.0/22").transfer.id
    for transfer_id in (first, second):
        _through(loaded, transfer_id, last="accept")
    locked = threading.Event()
    outcomes: dict[int, object] = {}

    def hold_the_lock() -> None:
        locked.set()
        time.sleep(0.5)  # the other completion now waits for these rows

    view = _view(loaded)  # built before the race, as a long-running server holds it

    def run(transfer_id: int, hook: Callable[[], None] | None) -> None:
        try:
            outcomes[transfer_id] = _step(
                loaded, transfer_id, "complete", view=view, on_locked=hook
            )
        except ConflictError as exc:
            outcomes[transfer_id] = exc

    one = threading.Thread(target=run, args=(first, hold_the_lock))
    one.start()
    assert locked.wait(10)
    two = threading.Thread(target=run, args=(second, None))
    two.start()
    one.join(30)
    two.join(30)
    assert isinstance(outcomes[first], StepResult)
    assert isinstance(outcomes[second], ConflictError)
    assert "no longer wholly held" in str(outcomes[second])
    with loaded.transaction() as uow:
        states = {t.id: t.state for t in uow.transfers.all()}
    assert states == {first: "completed", second: "accepted"}
    assert journal.verify(loaded).ok


def test_a_row_another_store_added_meanwhile_is_seen_by_the_next_completion(
    loaded: Store,
) -> None:
    """This process's last commit is remembered (the rows' widths, the newest snapshots, no
    head states) only while no other write came in between: a wide row another process
    added (here a second Store over the same database) is found, and refuses the move."""
    _through(loaded, _request(loaded, "193.0.4.0/22").transfer.id)  # remembered from here
    view = _view(loaded)
    requested = _request(loaded, "193.0.16.0/21")
    other = Store(loaded.url)
    try:
        with other.transaction() as uow:
            serial = uow.journal.reserve()
            arin = uow.snapshots.newest_ids()["arin"]
            lo, hi = (
                key_of(ResourceType.IPV4, 192 << 24),
                key_of(ResourceType.IPV4, (194 << 24) - 1),
            )
            record = "arin|US|ipv4|192.0.0.0|33554432|19930901|allocated|org-wide"
            uow.delegations.add([NewDelegation(arin, 1, lo, hi, "org-wide", record)], serial)
            journal.append(uow, "tester", "test-row", {"added": record}, serial)
    finally:
        other.close()
    for step in ("approve", "accept"):
        _step(loaded, requested.transfer.id, step, view, conditions_met=True)
    with pytest.raises(ConflictError, match="would be held twice"):
        _step(loaded, requested.transfer.id, "complete", view, conditions_met=True)
    assert journal.verify(loaded).ok


def test_the_iana_block_of_a_number_is_the_one_a_scan_of_every_block_finds(
    tmp_path: Path,
) -> None:
    def scanned(blocks: list[Any], resource: ResourceRange) -> Any:
        found = [
            b
            for b in blocks
            if b.resource.type == resource.type
            and b.resource.first <= resource.first <= b.resource.last
        ]
        found.sort(key=lambda b: (b.source.endswith("bootstrap"), b.resource.size))
        return found[0] if found else None

    store = Store(f"sqlite:///{tmp_path / 'iana.sqlite'}")
    try:
        blocks = load_iana(store)
    finally:
        store.close()
    assert {b.resource.type for b in blocks} == set(ResourceType)
    rnd = random.Random(14)
    for rtype in ResourceType:
        mine = [b.resource for b in blocks if b.resource.type is rtype]
        edges = [n for r in mine for n in (r.first - 1, r.first, r.last, r.last + 1)]
        top = (1 << BITS[rtype]) - 1
        for number in [*edges, *(rnd.randrange(top + 1) for _ in range(2000))]:
            number = min(max(number, 0), top)
            r = ResourceRange(rtype, number, number)
            assert iana_block(blocks, r) is scanned(blocks, r), (rtype, number)
