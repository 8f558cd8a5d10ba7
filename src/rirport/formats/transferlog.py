"""Reading the RIRs' transfer logs (``transfers_latest.json``, the NRO common format).

Each RIR publishes ``/pub/stats/<rir>/transfers/transfers_latest.json``: a ``version`` object
(``stats_version``, ``producer``, ``UTC_offset``, ``production_date``, ``records_interval``)
and a ``transfers`` array. A transfer has ``type`` (``RESOURCE_TRANSFER`` or
``MERGER_ACQUISITION``), ``source_rir`` / ``recipient_rir`` (equal for a transfer within one
RIR), optional ``transfer_date``, ``source_organization`` / ``recipient_organization``
(``name``, ``country_code``), optional ``status`` / ``status_date`` (inter-RIR progress in
version 5.0 of the format), and exactly one of ``asns`` (``{start, end}`` numbers),
``ip4nets`` or ``ip6nets`` (``{start_address, end_address}``, not necessarily CIDR-aligned),
each with a ``transfer_set`` and an optional, possibly larger ``original_set``.

LACNIC differs in two ways, both accepted here: its dates carry milliseconds
(``2017-09-15T19:00:00.000Z``) and it wraps ``ip4nets`` (and ``ip6nets``) in an array of such
objects.

Everything else is refused with the path of the offending value (``transfers[3].ip4nets``),
because a log read wrongly would make the reconciliation report invented discrepancies.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
from dataclasses import dataclass
from typing import Any

from rirport.domain.enums import Registry, ResourceType
from rirport.domain.resources import ResourceRange
from rirport.errors import ParseError

TYPES = ("RESOURCE_TRANSFER", "MERGER_ACQUISITION")
_NETS = {"ip4nets": ResourceType.IPV4, "ip6nets": ResourceType.IPV6, "asns": ResourceType.ASN}


@dataclass(frozen=True)
class LoggedTransfer:
    """One transfer as a log states it (the ``transfer_set``; ``original_set`` is context)."""

    index: int
    """Position in the log's ``transfers`` array (for messages)."""
    type: str
    source_rir: Registry
    recipient_rir: Registry
    date: dt.date | None
    resources: tuple[ResourceRange, ...]
    source_org: str
    recipient_org: str
    status: str | None

    @property
    def inter_rir(self) -> bool:
        return self.source_rir is not self.recipient_rir


@dataclass(frozen=True)
class TransferLog:
    """A whole log file."""

    source: str
    producer: str
    production_date: str
    transfers: tuple[LoggedTransfer, ...]


def read_transfer_log(data: bytes, source: str) -> TransferLog:
    """Parse a transfer log.

    Raises:
        ParseError: not JSON, not the transfer-log shape, or a transfer with a bad field.
    """
    try:
        root = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(source, getattr(exc, "lineno", None), f"not JSON: {exc}") from None
    if not isinstance(root, dict) or not isinstance(root.get("transfers"), list):
        raise ParseError(source, None, 'not a transfer log: no "transfers" array')
    version = root["version"] if isinstance(root.get("version"), dict) else {}
    transfers = tuple(_transfer(item, k, source) for k, item in enumerate(root["transfers"]))
    return TransferLog(
        source, str(version.get("producer", "")), str(version.get("production_date", "")), transfers
    )


def _transfer(item: Any, k: int, source: str) -> LoggedTransfer:
    where = f"transfers[{k}]"
    if not isinstance(item, dict):
        raise _error(source, where, "is not an object")
    kind = item.get("type")
    if kind not in TYPES:
        raise _error(source, f"{where}.type", f"{kind!r} is not one of {', '.join(TYPES)}")
    present = [key for key in _NETS if item.get(key)]
    if len(present) != 1:
        raise _error(
            source,
            where,
            f"needs exactly one of asns, ip4nets, ip6nets (found {', '.join(present) or 'none'})",
        )
    key = present[0]
    return LoggedTransfer(
        index=k,
        type=kind,
        source_rir=_rir(item.get("source_rir"), source, f"{where}.source_rir"),
        recipient_rir=_rir(item.get("recipient_rir"), source, f"{where}.recipient_rir"),
        date=_date(item.get("transfer_date"), source, f"{where}.transfer_date"),
        resources=_resources(item[key], _NETS[key], source, f"{where}.{key}"),
        source_org=_org(item.get("source_organization")),
        recipient_org=_org(item.get("recipient_organization")),
        status=item.get("status") if isinstance(item.get("status"), str) else None,
    )


def _resources(
    value: Any, rtype: ResourceType, source: str, where: str
) -> tuple[ResourceRange, ...]:
    groups = value if isinstance(value, list) else [value]  # LACNIC wraps nets in an array
    out: list[ResourceRange] = []
    for g, group in enumerate(groups):
        here = f"{where}[{g}]" if isinstance(value, list) else where
        if not isinstance(group, dict) or not isinstance(group.get("transfer_set"), list):
            raise _error(source, here, "has no transfer_set array")
        for r, entry in enumerate(group["transfer_set"]):
            out.append(_range(entry, rtype, source, f"{here}.transfer_set[{r}]"))
    if not out:
        raise _error(source, where, "transfer_set is empty")
    return tuple(out)


def _range(entry: Any, rtype: ResourceType, source: str, where: str) -> ResourceRange:
    if not isinstance(entry, dict):
        raise _error(source, where, "is not an object")
    try:
        if rtype is ResourceType.ASN:
            first, last = entry["start"], entry["end"]
            if isinstance(first, str) or isinstance(last, str):
                first, last = int(first), int(last)
            return ResourceRange(rtype, int(first), int(last))
        start = ipaddress.ip_address(entry["start_address"])
        end = ipaddress.ip_address(entry["end_address"])
        if (
            start.version != (4 if rtype is ResourceType.IPV4 else 6)
            or end.version != start.version
        ):
            raise ValueError(f"an IPv{start.version} address in an {rtype.value} set")
        return ResourceRange(rtype, int(start), int(end))
    except KeyError as exc:
        raise _error(source, where, f"missing {exc.args[0]}") from None
    except (TypeError, ValueError) as exc:
        raise _error(source, where, str(exc)) from None


def _rir(value: Any, source: str, where: str) -> Registry:
    if not isinstance(value, str):
        raise _error(source, where, "missing")
    try:
        return Registry.parse(value)
    except ValueError as exc:
        raise _error(source, where, str(exc)) from None


def _date(value: Any, source: str, where: str) -> dt.date | None:
    """RFC 3339 date-time; LACNIC's milliseconds and a bare date are accepted."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _error(source, where, f"{value!r} is not a date-time string")
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        raise _error(source, where, f"{value!r} is not an RFC 3339 date-time") from None


def _org(value: Any) -> str:
    return str(value.get("name", "")) if isinstance(value, dict) else ""


def _error(source: str, where: str, reason: str) -> ParseError:
    return ParseError(source, None, f"{where} {reason}")
