"""The reference reader for one line of a statistics exchange file.

Slow and plain on purpose: the vectorised reader (:mod:`rirport.formats.vectorized`) handles the
common case and hands every row it has any doubt about to :func:`parse_record`, which is the
definition of what is valid and produces the exact error message. A property test holds the two
readers to the same answers.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from dataclasses import dataclass

from rirport.domain.delegation import Delegation
from rirport.domain.enums import Registry, ResourceType, Status

_CC = re.compile(r"[A-Z]{2}")
_DIGITS = re.compile(r"0|[1-9][0-9]*")
_DATE = re.compile(r"[0-9]{8}")
_VERSION = re.compile(r"2(\.[0-9]+)?")
_OFFSET = re.compile(r"[+-][0-9]{4}|0{4,5}|Z|")
MAX_OPAQUE_ID = 128
TOP32 = 1 << 32


class RecordError(ValueError):
    """A field is invalid; the message names the field and the value."""


@dataclass(frozen=True, slots=True)
class Header:
    """The version line: ``version|registry|serial|records|startdate|enddate|UTCoffset``."""

    version: str
    registry: str
    serial: str
    records: int
    start_date: str
    end_date: str
    utc_offset: str

    def line(self, records: int | None = None) -> str:
        count = self.records if records is None else records
        return "|".join(
            [
                self.version,
                self.registry,
                self.serial,
                str(count),
                self.start_date,
                self.end_date,
                self.utc_offset,
            ]
        )

    def snapshot_date(self) -> dt.date:
        """The date the file describes: the serial when it is YYYYMMDD, else the end date.

        ARIN and RIPE NCC use epoch timestamps as serials; their end date is the file's day.
        A field of ``00000000`` is no date, so the other field is used.
        """
        for text in (self.serial, self.end_date):
            if _DATE.fullmatch(text):
                try:
                    date = parse_date(text)
                except RecordError:
                    continue
                if date is not None:
                    return date
        raise RecordError(
            f"neither serial {self.serial!r} nor end date {self.end_date!r} is a YYYYMMDD date"
        )


MAX_DIGITS = 39
"""Digits of the longest decimal field that can be valid (2**128 has 39)."""


def parse_header(fields: list[str]) -> Header:
    """Read the version line's fields.

    Raises:
        RecordError: wrong field count, unknown version or registry, bad counts or dates.
    """
    if len(fields) != 7:
        raise RecordError(
            f"version line has {len(fields)} fields, expected 7 "
            "(version|registry|serial|records|startdate|enddate|UTCoffset)"
        )
    version, registry, serial, records, start, end, offset = fields
    if not _VERSION.fullmatch(version):
        raise RecordError(f"unsupported format version {version!r} (expected 2 or 2.x)")
    if registry in ("iana", "nro"):
        raise RecordError(
            f"registry {registry!r}: combined and IANA files are not one RIR's statistics file"
        )
    _registry(registry)
    if not serial.isdigit():
        raise RecordError(f"serial {serial!r} is not a number")
    if not _DIGITS.fullmatch(records):
        raise RecordError(f"record count {records!r} is not a number")
    for name, text in (("start date", start), ("end date", end)):
        if text:
            _date_field(text, name)
    if not _OFFSET.fullmatch(offset):
        raise RecordError(f"UTC offset {offset!r} is not +HHMM or -HHMM")
    header = Header(version, registry, serial, _count(records, "record count"), start, end, offset)
    header.snapshot_date()
    return header


def is_summary(fields: list[str]) -> bool:
    return len(fields) == 6 and fields[1] == "*" and fields[3] == "*" and fields[5] == "summary"


def parse_summary(fields: list[str], registry: str) -> tuple[ResourceType, int]:
    """Read ``registry|*|type|*|count|summary``.

    Raises:
        RecordError: wrong registry, type or count.
    """
    if fields[0] != registry:
        raise RecordError(f"summary line names registry {fields[0]!r}, the file is {registry!r}")
    rtype = _type(fields[2])
    if len(fields[4]) <= MAX_DIGITS and not _DIGITS.fullmatch(fields[4]):
        raise RecordError(f"summary count {fields[4]!r} is not a number")
    return rtype, _count(fields[4], "summary count")


def parse_record(text: str, registry: str) -> Delegation:
    """Read one record line (without its newline).

    Raises:
        RecordError: the first problem found, naming the field.
    """
    fields = text.split("|")
    if len(fields) not in (7, 8):
        raise RecordError(
            f"record has {len(fields)} fields, expected 7 or 8 "
            "(registry|cc|type|start|value|date|status[|opaque-id])"
        )
    reg = _registry(fields[0])
    if fields[0] != registry:
        raise RecordError(f"record names registry {fields[0]!r}, the file is {registry!r}")
    cc = fields[1]
    if cc and not _CC.fullmatch(cc):
        raise RecordError(f"country code {cc!r} is not two capital letters")
    rtype = _type(fields[2])
    start, value = _start_value(rtype, fields[3], fields[4])
    date_text = fields[5]
    date = _date_field(date_text, "date") if date_text else None
    status = _status(fields[6])
    opaque = fields[7] if len(fields) == 8 else None
    if opaque is not None and len(opaque) > MAX_OPAQUE_ID:
        raise RecordError(f"opaque-id is longer than {MAX_OPAQUE_ID} characters")
    undated_as = date_text if date is None else ""
    return Delegation(reg, cc, rtype, start, value, date, status, opaque, undated_as)


def parse_date(text: str) -> dt.date | None:
    """``YYYYMMDD`` to a date; ``00000000`` to None.

    Raises:
        RecordError: not eight digits, or not a calendar date.
    """
    if not _DATE.fullmatch(text):
        raise RecordError(f"{text!r} is not a YYYYMMDD date")
    if text == "00000000":
        return None
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise RecordError(f"{text!r} is not a calendar date") from None


def _date_field(text: str, name: str) -> dt.date | None:
    try:
        return parse_date(text)
    except RecordError as exc:
        raise RecordError(f"{name}: {exc}") from None


def _registry(text: str) -> Registry:
    try:
        return Registry(text)
    except ValueError:
        raise RecordError(f"unknown registry {text!r}") from None


def _type(text: str) -> ResourceType:
    try:
        return ResourceType(text)
    except ValueError:
        raise RecordError(f"unknown type {text!r} (expected asn, ipv4 or ipv6)") from None


def _status(text: str) -> Status:
    try:
        return Status(text)
    except ValueError:
        raise RecordError(
            f"unknown status {text!r} (expected allocated, assigned, available or reserved)"
        ) from None


def _count(text: str, what: str) -> int:
    """A decimal field as a number; one longer than any count can be (39 digits hold 2**128)
    is refused before Python's integer conversion would refuse it with a ValueError."""
    if len(text) > MAX_DIGITS:
        raise RecordError(f"{what} has {len(text)} digits (at most {MAX_DIGITS} can be valid)")
    if not _DIGITS.fullmatch(text):
        raise RecordError(f"{what} {text!r} is not a decimal number")
    return int(text)


def _start_value(rtype: ResourceType, start: str, value_text: str) -> tuple[str, int]:
    if rtype is ResourceType.ASN:
        first = _count(start, "AS number")
        count = _count(value_text, "ASN count")
        if first >= TOP32:
            raise RecordError(f"AS number {start} is above 4294967295")
        if count == 0:
            raise RecordError("ASN count is 0")
        if first + count > TOP32:
            raise RecordError(f"ASN range {start}+{count} runs past AS4294967295")
        return start, count
    if rtype is ResourceType.IPV4:
        try:
            first = int(ipaddress.IPv4Address(start))
        except ValueError:
            raise RecordError(f"bad IPv4 address {start!r}") from None
        count = _count(value_text, "IPv4 count")
        if count == 0:
            raise RecordError("IPv4 count is 0")
        if first + count > TOP32:
            raise RecordError(f"IPv4 range {start}+{count} runs past 255.255.255.255")
        return start, count
    try:
        if "%" in start:
            raise ValueError("scoped address")
        address = ipaddress.IPv6Address(start)
    except ValueError:
        raise RecordError(f"bad IPv6 address {start!r}") from None
    plen = _count(value_text, "IPv6 prefix length")
    if not 1 <= plen <= 128:
        raise RecordError(f"IPv6 prefix length {plen} is out of range (1-128)")
    if int(address) & ((1 << (128 - plen)) - 1):
        raise RecordError(f"IPv6 start {start} is not aligned to a /{plen} boundary")
    return start, plen
