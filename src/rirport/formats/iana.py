"""Readers of IANA's number registries and RDAP bootstrap files: bytes in, blocks out.

Three shapes of file, all published by IANA:

* the registries ``ipv4-address-space`` and ``ipv6-unicast-address-assignments`` as CSV (CRLF
  line ends; a quoted RDAP field may hold two URLs on two lines, so a row can span physical
  lines: the csv module reads them, and errors name the row's first physical line);
* the same registries as XML (``<registry id="...">`` of ``<record>`` elements; IPv4 notes are
  references to ``<footnote>`` elements, IPv6 notes are inline text);
* the RDAP bootstrap files ``asn.json``, ``ipv4.json`` and ``ipv6.json`` (RFC 9224): a list of
  ``[[entries...], [server URLs...]]``; the server's host name says which RIR a block is
  served by. They are the only public machine-readable AS-number-to-RIR map we have.

Readers are pure and strict: a bad prefix, status, date, a missing column or a JSON file that
is not a bootstrap file raises :class:`~rirport.errors.ParseError` as ``file:line: reason``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit
from xml.parsers import expat

from rirport.domain.enums import Registry, ResourceType
from rirport.domain.iana import (
    ALLOCATED,
    ASN_BOOTSTRAP,
    IANA_STATUSES,
    IPV4_BOOTSTRAP,
    IPV4_SPACE,
    IPV6_BOOTSTRAP,
    IPV6_UNICAST,
    IanaBlock,
)
from rirport.domain.resources import ResourceRange
from rirport.errors import ParseError

#: Host names of the RIRs' RDAP and WHOIS servers.
RDAP_HOSTS: dict[str, Registry] = {
    "rdap.afrinic.net": Registry.AFRINIC,
    "rdap.apnic.net": Registry.APNIC,
    "rdap.arin.net": Registry.ARIN,
    "rdap.lacnic.net": Registry.LACNIC,
    "rdap.db.ripe.net": Registry.RIPENCC,
}
WHOIS_HOSTS: dict[str, Registry] = {
    "whois.afrinic.net": Registry.AFRINIC,
    "whois.apnic.net": Registry.APNIC,
    "whois.arin.net": Registry.ARIN,
    "whois.lacnic.net": Registry.LACNIC,
    "whois.ripe.net": Registry.RIPENCC,
}
REGISTRY_FILES = (IPV4_SPACE, IPV6_UNICAST)
_BOOTSTRAP_SOURCE = {
    ResourceType.ASN: ASN_BOOTSTRAP,
    ResourceType.IPV4: IPV4_BOOTSTRAP,
    ResourceType.IPV6: IPV6_BOOTSTRAP,
}
_REQUIRED = ("prefix", "designation", "date", "status")
_OPTIONAL = ("whois", "rdap", "note")
_DATE = re.compile(r"\d{4}-\d{2}(-\d{2})?")
_IPV4_SLASH8 = re.compile(r"(\d{1,3})/(\d{1,2})")
_ASN_RANGE = re.compile(r"(\d{1,10})(?:-(\d{1,10}))?")
_FOOTNOTE_MARK = re.compile(r"\s*\[\w+\]$")
_XML_ID = re.compile(rb"<registry\b[^>]*\bid=[\"']([^\"']+)[\"']")
_BOM = b"\xef\xbb\xbf"


# -- detection and dispatch --------------------------------------------------------------------
def detect_iana(name: str, data: bytes) -> str | None:
    """Which IANA file this is (a source name such as ``ipv4-address-space``), or None.

    Decided by content, so ``rirport ingest`` can route a file whatever it is called: an XML
    ``<registry id=...>``, a CSV starting ``Prefix,Designation,``, or JSON with ``services``.
    The name only breaks the tie for a CSV with a header and no rows.
    """
    head = data.removeprefix(_BOM).lstrip()
    if head.startswith(b"<"):
        match = _XML_ID.search(head[:4096])
        found = match.group(1).decode("ascii", "replace") if match else None
        return found if found in REGISTRY_FILES else None
    if head.startswith(b"{"):
        return _detect_bootstrap(head)
    first, _, rest = head.partition(b"\n")
    if not first.strip().lower().startswith(b"prefix,designation,"):
        return None
    sample = rest.lstrip()[:64].split(b",", 1)[0]
    if not sample:
        return IPV6_UNICAST if "ipv6" in name.lower() else IPV4_SPACE
    return IPV6_UNICAST if b":" in sample else IPV4_SPACE


def read_iana(data: bytes, name: str) -> list[IanaBlock]:
    """Read any IANA file :func:`detect_iana` recognises.

    Raises:
        ParseError: not such a file, or a malformed one.
    """
    source = detect_iana(name, data)
    if source is None:
        raise ParseError(
            name,
            None,
            "not an IANA registry (ipv4-address-space or "
            "ipv6-unicast-address-assignments, CSV or XML) nor an RDAP bootstrap "
            "file (asn.json, ipv4.json, ipv6.json)",
        )
    if source not in REGISTRY_FILES:
        return read_bootstrap(data, name)
    if data.removeprefix(_BOM).lstrip().startswith(b"<"):
        return read_registry_xml(data, name, source)
    return read_registry_csv(data, name, source)


def read_ipv4_space_csv(data: bytes, name: str) -> list[IanaBlock]:
    """IANA ``ipv4-address-space.csv``."""
    return read_registry_csv(data, name, IPV4_SPACE)


def read_ipv6_unicast_csv(data: bytes, name: str) -> list[IanaBlock]:
    """IANA ``ipv6-unicast-address-assignments.csv``."""
    return read_registry_csv(data, name, IPV6_UNICAST)


def read_ipv4_space_xml(data: bytes, name: str) -> list[IanaBlock]:
    """IANA ``ipv4-address-space.xml``."""
    return read_registry_xml(data, name, IPV4_SPACE)


def read_ipv6_unicast_xml(data: bytes, name: str) -> list[IanaBlock]:
    """IANA ``ipv6-unicast-address-assignments.xml``."""
    return read_registry_xml(data, name, IPV6_UNICAST)


# -- one row, whatever the file shape ---------------------------------------------------------
@dataclass(frozen=True)
class _Row:
    """A registry row's fields as text, before validation."""

    prefix: str
    designation: str
    date: str
    status: str
    whois: str = ""
    rdap: Sequence[str] = ()
    note: str = ""


def _block(row: _Row, source: str, name: str, line: int | None) -> IanaBlock:
    status = row.status.strip().upper()
    if status not in IANA_STATUSES:
        raise ParseError(
            name,
            line,
            f"unknown status {row.status!r} (expected one of {', '.join(IANA_STATUSES)})",
        )
    date = row.date.strip()
    if date and not _DATE.fullmatch(date):
        raise ParseError(name, line, f"bad date {row.date!r} (expected YYYY-MM or YYYY-MM-DD)")
    designation = row.designation.strip()
    return IanaBlock(
        source=source,
        resource=_prefix(row.prefix, source, name, line),
        prefix=row.prefix.strip(),
        designation=designation,
        registry=registry_of(designation, row.whois, row.rdap),
        status=status,
        date=date or None,
        note=_squeeze(row.note) or None,
    )


def registry_of(designation: str, whois: str = "", rdap: Sequence[str] = ()) -> Registry | None:
    """The RIR that holds or administers a block: named by the designation ("APNIC",
    "Administered by ARIN"), else by the RDAP or WHOIS server that serves it (legacy blocks
    designated to an organisation, "Ford Motor Company", are administered by that RIR)."""
    try:
        return Registry.parse(designation.removeprefix("Administered by "))
    except ValueError:
        pass
    for url in rdap:
        found = RDAP_HOSTS.get(urlsplit(url.strip()).hostname or "")
        if found is not None:
            return found
    return WHOIS_HOSTS.get(whois.strip().lower())


def _prefix(text: str, source: str, name: str, line: int | None) -> ResourceRange:
    """``003/8`` (IANA's IPv4 notation: first octet and length) or a CIDR prefix."""
    value = text.strip()
    slash8 = _IPV4_SLASH8.fullmatch(value) if source == IPV4_SPACE else None
    if slash8 is not None:
        value = f"{int(slash8.group(1))}.0.0.0/{int(slash8.group(2))}"
    want = ResourceType.IPV4 if source in (IPV4_SPACE, IPV4_BOOTSTRAP) else ResourceType.IPV6
    try:
        resource = ResourceRange.from_network(value)
    except ValueError as exc:
        raise ParseError(name, line, f"bad prefix {text!r}: {exc}") from None
    if resource.type is not want:
        raise ParseError(name, line, f"bad prefix {text!r}: not an {want.value} prefix")
    return resource


def _squeeze(text: str) -> str:
    return " ".join(text.split())


# -- CSV ----------------------------------------------------------------------------------------
def read_registry_csv(data: bytes, name: str, source: str) -> list[IanaBlock]:
    """Read an IANA registry CSV (``source`` says which registry it is).

    Raises:
        ParseError: not UTF-8, a required column missing, or a bad row (named by the first
            physical line of the row).
    """
    reader = csv.reader(io.StringIO(_text(data, name), newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ParseError(name, None, "file is empty") from None
    except csv.Error as exc:
        raise ParseError(name, 1, f"bad CSV header: {exc}") from None
    columns = _columns(header, name)
    return [_block(row, source, name, line) for line, row in _csv_rows(reader, columns, name)]


def _columns(header: list[str], name: str) -> dict[str, int]:
    """Column positions by lower-case name; "Status [1]" is "status"."""
    columns = {_FOOTNOTE_MARK.sub("", h).strip().lower(): i for i, h in enumerate(header)}
    missing = [c for c in _REQUIRED if c not in columns]
    if missing:
        raise ParseError(
            name, 1, f"missing column(s) {', '.join(missing)} (header: {','.join(header)!r})"
        )
    return {c: columns[c] for c in (*_REQUIRED, *_OPTIONAL) if c in columns}


def _csv_rows(reader: Any, columns: dict[str, int], name: str) -> Iterator[tuple[int, _Row]]:
    """(first physical line, row) of every non-blank row."""
    width = max(columns.values()) + 1
    line = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ParseError(name, line, f"bad CSV row: {exc}") from None
        if any(c.strip() for c in cells):
            if len(cells) < width:
                raise ParseError(
                    name, line, f"row has {len(cells)} field(s), the header names {width}"
                )
            yield (
                line,
                _Row(
                    **{c: cells[i] for c, i in columns.items() if c != "rdap"},
                    rdap=cells[columns["rdap"]].split() if "rdap" in columns else (),
                ),
            )
        line = reader.line_num + 1


def _text(data: bytes, name: str) -> str:
    try:
        return data.removeprefix(_BOM).decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ParseError(name, line, f"not UTF-8 text (byte 0x{data[exc.start]:02x})") from None


# -- XML ----------------------------------------------------------------------------------------
@dataclass
class _Node:
    """An XML element with its line and its mixed content (text and child elements)."""

    tag: str
    attrs: dict[str, str]
    line: int
    content: list[str | _Node] = field(default_factory=list)

    def children(self, tag: str) -> list[_Node]:
        return [c for c in self.content if isinstance(c, _Node) and c.tag == tag]

    def child_text(self, tag: str) -> str:
        found = self.children(tag)
        return _flat(found[0]) if found else ""


def read_registry_xml(data: bytes, name: str, source: str) -> list[IanaBlock]:
    """Read an IANA registry XML file (``<registry id=source>`` of ``<record>``).

    Raises:
        ParseError: not well-formed, another registry, a record without prefix or status, or
            a bad value (named by the record's line).
    """
    root = _parse_xml(data, name)
    if root.tag != "registry" or root.attrs.get("id") != source:
        raise ParseError(
            name,
            root.line,
            f"not the IANA {source} registry (root element "
            f"<{root.tag} id={root.attrs.get('id')!r}>)",
        )
    footnotes = {n.attrs.get("anchor", ""): _flat(n) for n in root.children("footnote")}
    return [
        _block(_xml_row(r, footnotes, name), source, name, r.line) for r in root.children("record")
    ]


def _xml_row(record: _Node, footnotes: dict[str, str], name: str) -> _Row:
    for tag in ("prefix", "status"):
        if not record.children(tag):
            raise ParseError(name, record.line, f"record has no <{tag}>")
    designation = record.child_text("designation") or record.child_text("description")
    notes = [
        footnotes.get(x.attrs.get("data", ""), "")
        for x in record.children("xref")
        if x.attrs.get("type") == "note"
    ]
    notes += [_flat(n) for n in record.children("notes")]
    rdap = [_flat(s) for r in record.children("rdap") for s in r.children("server")]
    return _Row(
        prefix=record.child_text("prefix"),
        designation=designation,
        date=record.child_text("date") or record.attrs.get("date", ""),
        status=record.child_text("status"),
        whois=record.child_text("whois"),
        rdap=rdap,
        note=" ".join(n for n in notes if n),
    )


def _flat(node: _Node) -> str:
    """An element's text with its ``<xref>`` references written as the CSV writes them."""
    parts = [c if isinstance(c, str) else _xref_text(c) for c in node.content]
    return _squeeze("".join(parts))


def _xref_text(node: _Node) -> str:
    if node.tag != "xref":
        return _flat(node)
    kind, data = node.attrs.get("type", ""), node.attrs.get("data", "")
    if kind == "rfc":
        return f"[{data.upper()}]"
    if kind == "rfc-errata":
        return f"[RFC Errata {data}]"
    if kind == "registry":
        return f"[IANA registry {data}]"
    return _flat(node) or data


def _parse_xml(data: bytes, name: str) -> _Node:
    """Parse into :class:`_Node` trees with line numbers (ElementTree keeps none).

    Namespaces are dropped (IANA's is ``http://www.iana.org/assignments``); DOCTYPEs and
    entity declarations are refused, as defusedxml does, since no IANA file has them.
    """
    parser = expat.ParserCreate(namespace_separator=" ")
    stack: list[_Node] = []
    done: list[_Node] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        node = _Node(tag.rsplit(" ", 1)[-1], attrs, parser.CurrentLineNumber)
        if stack:
            stack[-1].content.append(node)
        stack.append(node)

    def end(_tag: str) -> None:
        node = stack.pop()
        if not stack:
            done.append(node)

    def text(chars: str) -> None:
        if stack:
            stack[-1].content.append(chars)

    def refuse(*_args: object) -> None:
        raise ParseError(
            name,
            parser.CurrentLineNumber,
            "DOCTYPE and entity declarations are not accepted in an IANA registry file",
        )

    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    _expat_parse(parser, data, name)
    if not done:
        raise ParseError(name, None, "no XML element")
    return done[0]


def _expat_parse(parser: Any, data: bytes, name: str) -> None:
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise ParseError(
            name, exc.lineno, f"not well-formed XML: {expat.ErrorString(exc.code)}"
        ) from None


# -- RDAP bootstrap JSON ---------------------------------------------------------------------
def read_bootstrap(data: bytes, name: str) -> list[IanaBlock]:
    """Read an RDAP bootstrap file (``asn.json``, ``ipv4.json`` or ``ipv6.json``).

    Each entry becomes a block of the RIR whose RDAP server the service names, with status
    ALLOCATED (bootstrap files have no status) and the server URLs as its note. Errors about
    an entry name the line where that entry first appears.

    Raises:
        ParseError: not JSON, not a bootstrap file, an entry that is not an AS-number range
            or prefix, entries of two kinds, or a service whose servers are no RIR's.
    """
    text = _text(data, name)
    services = _services(text, name)
    blocks: list[IanaBlock] = []
    for entries, urls in services:
        registry = _service_registry(urls, text, name)
        note = " ".join(urls)
        for entry in entries:
            resource = _bootstrap_entry(entry, text, name)
            blocks.append(
                IanaBlock(
                    _BOOTSTRAP_SOURCE[resource.type],
                    resource,
                    entry,
                    registry.label,
                    registry,
                    ALLOCATED,
                    None,
                    note,
                )
            )
    kinds = {b.source for b in blocks}
    if len(kinds) != 1:
        raise ParseError(
            name,
            None,
            "bootstrap file lists no entries"
            if not kinds
            else f"bootstrap file mixes entry kinds ({', '.join(sorted(kinds))})",
        )
    return blocks


def _services(text: str, name: str) -> list[tuple[list[str], list[str]]]:
    """The ``services`` list, checked to be ``[[str...], [str...]]`` pairs."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(name, exc.lineno, f"not JSON: {exc.msg}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("services"), list):
        raise ParseError(name, None, 'JSON is not an RDAP bootstrap file (no "services" list)')
    services = []
    for number, service in enumerate(doc["services"], 1):
        if not (
            isinstance(service, list)
            and len(service) >= 2
            and all(_strings(part) for part in service[:2])
        ):
            raise ParseError(
                name,
                _line_of(text, '"services"'),
                f"service {number} is not a pair of lists of strings [[entries], [URLs]]",
            )
        services.append((service[0], service[1]))
    return services


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _service_registry(urls: list[str], text: str, name: str) -> Registry:
    found = {RDAP_HOSTS[h] for h in (urlsplit(u).hostname or "" for u in urls) if h in RDAP_HOSTS}
    if len(found) != 1:
        where = _line_of(text, json.dumps(urls[0])[1:-1]) if urls else None
        reason = "no RIR's RDAP server" if not found else "servers of several RIRs"
        raise ParseError(name, where, f"service {urls!r} lists {reason}")
    return found.pop()


def _bootstrap_entry(entry: str, text: str, name: str) -> ResourceRange:
    def fail(reason: str) -> ParseError:
        return ParseError(
            name, _line_of(text, json.dumps(entry)), f"bad bootstrap entry {entry!r}: {reason}"
        )

    asn = _ASN_RANGE.fullmatch(entry)
    try:
        if asn is not None:
            return ResourceRange.asn(int(asn.group(1)), int(asn.group(2) or asn.group(1)))
        return ResourceRange.from_network(entry)
    except ValueError as exc:
        raise fail(str(exc)) from None


def _line_of(text: str, needle: str) -> int | None:
    """The line where ``needle`` first occurs (JSON errors have no line of their own)."""
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else None


def _detect_bootstrap(head: bytes) -> str | None:
    try:
        doc = json.loads(head)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    services = doc.get("services") if isinstance(doc, dict) else None
    if not isinstance(services, list):
        return None
    sample = next(_first_entries(services), None)
    if sample is None:
        return None
    if ":" in sample:
        return IPV6_BOOTSTRAP
    return IPV4_BOOTSTRAP if "." in sample else ASN_BOOTSTRAP


def _first_entries(services: list[Any]) -> Iterator[str]:
    for service in services:
        if isinstance(service, list) and service and isinstance(service[0], list):
            yield from (e for e in service[0] if isinstance(e, str))


__all__ = [
    "RDAP_HOSTS",
    "WHOIS_HOSTS",
    "detect_iana",
    "read_bootstrap",
    "read_iana",
    "read_ipv4_space_csv",
    "read_ipv4_space_xml",
    "read_ipv6_unicast_csv",
    "read_ipv6_unicast_xml",
    "read_registry_csv",
    "read_registry_xml",
    "registry_of",
]
