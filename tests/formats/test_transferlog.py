"""Reading transfer logs: the NRO format, LACNIC's variant, and what is refused."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from rirport.domain.enums import Registry, ResourceType
from rirport.domain.resources import ResourceRange
from rirport.errors import ParseError
from rirport.formats.transferlog import read_transfer_log
from tests.paths import TEST_DATA

LOGS = TEST_DATA / "transferlogs"


def test_nro_format() -> None:
    log = read_transfer_log((LOGS / "arin-transfers.json").read_bytes(), "arin-transfers.json")
    assert (log.producer, len(log.transfers)) == ("ARIN", 8)
    assert log.transfers[7].status == "sourceCancelled"
    first = log.transfers[0]
    assert (first.source_rir, first.recipient_rir) == (Registry.ARIN, Registry.APNIC)
    assert first.date == dt.date(2017, 8, 15) and first.inter_rir
    assert first.resources == (ResourceRange.from_network("23.226.0.0/20"),)
    assert first.recipient_org == "Test recipient A"
    assert log.transfers[2].source_rir is Registry.RIPENCC  # "RIPE NCC" as the format spells it
    asn = log.transfers[5]
    assert asn.type == "MERGER_ACQUISITION" and not asn.inter_rir
    assert asn.resources == (ResourceRange.asn(64500),)  # the transfer_set, not original_set
    assert log.transfers[6].resources[0].type is ResourceType.IPV6


def test_lacnic_milliseconds_and_wrapped_nets() -> None:
    log = read_transfer_log((LOGS / "lacnic-transfers.json").read_bytes(), "lacnic.json")
    assert log.transfers[0].date == dt.date(2018, 5, 2)
    assert log.transfers[1].resources == (
        ResourceRange.from_network("200.0.0.0/24"),
        ResourceRange.from_network("200.0.2.0/23"),
    )


def _one(transfer: dict[str, Any]) -> bytes:
    return json.dumps({"version": {}, "transfers": [transfer]}).encode()


GOOD = {
    "type": "RESOURCE_TRANSFER",
    "source_rir": "ARIN",
    "recipient_rir": "APNIC",
    "ip4nets": {"transfer_set": [{"start_address": "23.226.0.0", "end_address": "23.226.15.255"}]},
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"type": "GIFT"}, "transfers[0].type 'GIFT' is not one of"),
        ({"source_rir": "IANA"}, "transfers[0].source_rir unknown registry 'IANA'"),
        ({"recipient_rir": None}, "transfers[0].recipient_rir missing"),
        ({"transfer_date": "15/08/2017"}, "transfers[0].transfer_date '15/08/2017' is not"),
        ({"ip4nets": None}, "needs exactly one of asns, ip4nets, ip6nets (found none)"),
        ({"asns": {"transfer_set": [{"start": 1, "end": 2}]}}, "(found ip4nets, asns)"),
        (
            {"ip4nets": {"transfer_set": [{"start_address": "23.226.0.0"}]}},
            "transfers[0].ip4nets.transfer_set[0] missing end_address",
        ),
        (
            {"ip4nets": {"transfer_set": [{"start_address": "2001:db8::", "end_address": "::1"}]}},
            "an IPv6 address in an ipv4 set",
        ),
        (
            {
                "ip4nets": {
                    "transfer_set": [
                        {"start_address": "23.226.15.255", "end_address": "23.226.0.0"}
                    ]
                }
            },
            "invalid ipv4 range",
        ),
        ({"ip4nets": {"transfer_set": []}}, "transfer_set is empty"),
        ({"ip4nets": {"original_set": []}}, "has no transfer_set array"),
    ],
)
def test_bad_transfers_are_refused_with_their_path(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ParseError) as info:
        read_transfer_log(_one({**GOOD, **change}), "log.json")
    assert message in str(info.value) and str(info.value).startswith("log.json: ")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<html>", "not JSON"),
        (b'{"version": {}}', 'no "transfers" array'),
        (b"[]", 'no "transfers" array'),
        (b'{"transfers": [1]}', "transfers[0] is not an object"),
    ],
)
def test_not_a_log(data: bytes, message: str) -> None:
    with pytest.raises(ParseError) as info:
        read_transfer_log(data, "x.json")
    assert message in str(info.value)
