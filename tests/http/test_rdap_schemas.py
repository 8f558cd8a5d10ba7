"""Every RDAP object class rirport emits, held to the JSON schemas of ICANN's
rdap-conformance-tool (``shared/reference/rdap-conformance-schemas``, see its ``SOURCE.md``).

The schemas are draft-07 (python-jsonschema's ``Draft7Validator``); they refer to each other
by file name, resolved here through a ``referencing`` registry, and use custom ``format``
names the Java tool implements itself against IANA's registries (the ``dataset`` folder):
those are re-implemented below from the same files. The tool is written for domain
registries and its registry snapshots (2023-11-30) predate RFC 9910, so a few registered
extensions are allowed — each one in :data:`ALLOWED`, documented in docs/rdap.md — and nothing
else: an unknown member, an unregistered notice type, link relation, status, role, event
action or extension identifier fails.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from tests.http.conftest import NEW_HOLDER, RIPE_HOLDER
from tests.paths import SHARED

SCHEMAS = SHARED.parent / "reference" / "rdap-conformance-schemas"
BASE = "https://rdap-conformance.invalid/"
ALLOWED = {
    # RFC 9910 (RDAP RIR Search) registers these extension identifiers, and the four
    # relation link types; the tool's 2023 snapshot of the registries predates it
    "extensions": {"rirSearch1", "ips", "ipSearchResults", "autnums", "autnumSearchResults"},
    "link relations": {"rdap-up", "rdap-down", "rdap-top", "rdap-bottom"},
    # RFC 9083 §4.1: the level of the core specification (not an extension registration)
    "core": {"rdap_level_0"},
    # the cidr0 extension's member on ip networks (cidr0 is in the extension registry)
    "ip network members": {"cidr0_cidrs"},
    # RFC 9910 §3: search results are arrays of the objects' own class
    "search results": {"ipSearchResults", "autnumSearchResults"},
}


def _records(name: str) -> list[tuple[str, str]]:
    """(value, type) of the records of one dataset file."""
    text = (SCHEMAS / "dataset" / name).read_text()
    out = []
    for record in re.findall(r"<record[^>]*>(.*?)</record>", text, re.S):
        value = re.search(r"<value>(.*?)</value>", record, re.S)
        kind = re.search(r"<type>(.*?)</type>", record, re.S)
        template = re.search(r'<file type="template">(.*?)</file>', record, re.S)
        if value:
            out.append((value.group(1).strip(), kind.group(1).strip() if kind else ""))
        elif template:
            out.append((template.group(1).strip(), "media type"))
    return out


@cache
def _values(kind: str) -> frozenset[str]:
    return frozenset(v for v, t in _records("rdap-json-values.xml") if t == kind)


@cache
def _checker() -> jsonschema.FormatChecker:
    checker = jsonschema.Draft7Validator.FORMAT_CHECKER
    checker = copy.deepcopy(checker)
    extensions = {v for v, _ in _records("rdap-extensions.xml")}
    extensions |= ALLOWED["extensions"] | ALLOWED["core"]
    relations = {v for v, _ in _records("link-relations.xml")} | ALLOWED["link relations"]
    media = {v for v, t in _records("media-types.xml") if t == "media type"}
    formats = {
        "rdapExtensions": extensions,
        "noticeAndRemark": _values("notice and remark type"),
        "eventAction": _values("event action"),
        "role": _values("role"),
        "status": _values("status"),
        "linkRelations": relations,
        "mediaTypes": media,
    }
    for name, allowed in formats.items():
        checker.checks(name)(
            lambda value, allowed=allowed: not isinstance(value, str) or value in allowed
        )
    checker.checks("hostname-in-uri")(lambda value: not isinstance(value, str) or " " not in value)
    return checker


def _load(path: Any) -> dict[str, Any]:
    """A schema file with its root ``$id`` made absolute and nested ``$id`` labels dropped:
    the Java tool reads those (``jcard.json``'s ``"$id": "vcardArray"``) as names, a draft-07
    validator as new base URIs that its ``#/definitions/…`` references would then miss."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k != "$id"}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    body: dict[str, Any] = strip(json.loads(path.read_text()))
    body["$id"] = BASE + path.name
    return body


@cache
def _registry() -> Registry:
    resources = []
    for path in sorted(SCHEMAS.glob("*.json")):
        body = _load(path)
        resources.append((BASE + path.name, Resource.from_contents(body, DRAFT7)))
    return Registry().with_resources(resources)


def _schema(name: str) -> dict[str, Any]:
    body = _load(SCHEMAS / name)
    if name == "rdap_ip_network.json":
        for member in ALLOWED["ip network members"]:
            body["properties"][member] = {"type": "array", "items": {"type": "object"}}
    return body


def _search(key: str, item: str) -> dict[str, Any]:
    """Search results: the object class's schema for each result, and only the top-level
    members RFC 9083 gives every response."""
    return {
        "$id": BASE + f"search-{key}.json",
        "type": "object",
        "required": [key],
        "additionalProperties": False,
        "properties": {
            "rdapConformance": {"$ref": "rdap_common.json#/definitions/rdapConformance"},
            "notices": {"$ref": "rdap_notices.json#"},
            key: {"type": "array", "items": {"$ref": f"{item}#"}},
        },
    }


def _errors(schema: dict[str, Any], body: Any) -> list[str]:
    ip = _schema("rdap_ip_network.json")
    registry = _registry().with_resource(ip["$id"], Resource.from_contents(ip, DRAFT7))
    validator = jsonschema.Draft7Validator(schema, registry=registry, format_checker=_checker())
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"[:300]
        for e in validator.iter_errors(body)
    ]


OBJECTS = [
    ("rdap_ip_network.json", "/rdap/ip/193.0.6.139"),
    ("rdap_ip_network.json", "/rdap/ip/2001:4860::/48"),
    ("rdap_ip_network.json", "/rdap/ip/193.0.17.1"),
    ("rdap_ip_network.json", "/rdap/ip/8.8.8.8?as-of=2017-12-31"),
    ("rdap_autnum.json", "/rdap/autnum/3333"),
    ("rdap_autnum.json", "/rdap/autnum/13335"),
    ("rdap_entity.json", f"/rdap/entity/{RIPE_HOLDER}-RIPENCC"),
    ("rdap_entity.json", f"/rdap/entity/{NEW_HOLDER}-ARIN"),
    ("rdap_help.json", "/rdap/help"),
    ("rdap_error.json", "/rdap/ip/192.0.2.1"),
    ("rdap_error.json", "/rdap/ip/1.2.3"),
    ("rdap_error.json", "/rdap/domain/example.com"),
    ("rdap_error.json", "/rdap/ips?handle=193.*"),
]
SEARCHES = [
    ("ipSearchResults", "rdap_ip_network.json", "/rdap/ips/rirSearch1/rdap-down/193.0.0.0/16"),
    ("ipSearchResults", "rdap_ip_network.json", "/rdap/ips/rirSearch1/rdap-top/193.0.6.139"),
    ("ipSearchResults", "rdap_ip_network.json", "/rdap/ips/rirSearch1/rdap-bottom/0.0.0.0/0"),
    ("ipSearchResults", "rdap_ip_network.json", "/rdap/ips?name=RIPENCC-193.0.0.0-20"),
    ("autnumSearchResults", "rdap_autnum.json", "/rdap/autnums/rirSearch1/rdap-top/3333"),
    ("autnumSearchResults", "rdap_autnum.json", "/rdap/autnums?handle=AS3333"),
    ("entitySearchResults", "rdap_entity.json", f"/rdap/entities?handle={NEW_HOLDER}-ARIN"),
]


@pytest.mark.parametrize(("schema", "path"), OBJECTS)
def test_objects_pass_the_conformance_schemas(client: TestClient, schema: str, path: str) -> None:
    body = client.get(path).json()
    assert _errors(_schema(schema), body) == []


@pytest.mark.parametrize(("key", "item", "path"), SEARCHES)
def test_search_results_pass_the_conformance_schemas(
    client: TestClient, key: str, item: str, path: str
) -> None:
    body = client.get(path).json()
    assert body[key], path
    assert _errors(_search(key, item), body) == []


def test_the_validator_refuses_what_is_not_allowed(client: TestClient) -> None:
    """The check can fail: an unregistered notice type, an unknown member, an unregistered
    link relation and help's old top-level links are each reported."""
    ip = client.get("/rdap/ip/193.0.6.139").json()
    bad = {**ip, "notices": [{"type": "result set truncated due to load", "description": ["x"]}]}
    assert any("notices/0/type" in e for e in _errors(_schema("rdap_ip_network.json"), bad))
    assert _errors(_schema("rdap_ip_network.json"), {**ip, "made_up": 1})
    link = {**ip["links"][0], "rel": "sideways"}
    assert _errors(_schema("rdap_ip_network.json"), {**ip, "links": [link]})
    help_ = client.get("/rdap/help").json()
    assert _errors(_schema("rdap_help.json"), {**help_, "links": ip["links"]})
