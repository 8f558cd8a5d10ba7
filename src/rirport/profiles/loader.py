"""Evidence files (YAML or JSON): validated whole, every problem as ``file:line: reason``.

A file is a mapping with one key, ``evidence``, a list of items::

    evidence:
      - id: afrinic-no-inter-rir            # lower-case letters, digits, dots, hyphens
        claim: AFRINIC has no inter-RIR transfer policy in force.
        source: {address: https://…, publisher: AFRINIC, author: …, date: 2025-10-01,
                 kind: policy-document,     # registry-record | policy-document |
                                            # official-record | news-report | interested-opinion
                 undated: false}            # optional: true when date is the day checked
        reliability: A                      # A–F
        tag: V                              # V/P/U of the research notes, or credibility: 1–6
        entities: [registry:afrinic]
        interests: …                        # optional: the author's stake
        contradicts: [other-id]             # optional
        due: 2026-06-30                     # optional: when a pending item falls due

Nothing is accepted from a file with any problem, so a half-read file never reaches the store.
The same reader loads the shipped starter set and the entity catalogue (``entities.yaml``).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # no stubs in the pinned set

from rirport.errors import InputError
from rirport.profiles.evidence import (
    CREDIBILITY,
    ENTITY_ID,
    EVIDENCE_ID,
    RELIABILITY,
    TAG_CREDIBILITY,
    EntityType,
    Evidence,
    Source,
    SourceKind,
)

MAX_BYTES = 512 * 1024
MAX_ITEMS = 2000
MAX_TEXT = 4000
ITEM_FIELDS = {
    "id",
    "claim",
    "source",
    "reliability",
    "credibility",
    "tag",
    "entities",
    "interests",
    "contradicts",
    "due",
}
REQUIRED = ("id", "claim", "source", "reliability", "entities")
SOURCE_FIELDS = {"address", "publisher", "author", "date", "kind", "undated"}
ENTITY_FIELDS = {"id", "name", "type", "region", "focus"}


class _Loader(yaml.SafeLoader):  # type: ignore[misc]  # untyped base
    """Safe YAML that leaves dates as text, so a bad date is our error with its line, not
    the YAML library's exception, and that refuses aliases (``*name``): an evidence file has
    no use for them, and a few hundred bytes of nested aliases ("billion laughs") expand to
    billions of nodes when walked or built."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(
                None,
                None,
                "aliases (*name) are not accepted in evidence files; write the value out",
                self.peek_event().start_mark,
            )
        return super().compose_node(parent, index)


_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class EvidenceFileError(InputError):
    """An evidence file with problems; ``problems`` lists each as ``file:line: reason``."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        shown = "\n".join(problems[:20])
        more = f"\n… and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{source}: {len(problems)} problem(s); nothing was stored\n{shown}{more}")


@dataclass(frozen=True)
class CatalogueEntry:
    """A profiled entity that registry data does not describe (a policy, a document)."""

    id: str
    name: str
    type: EntityType
    region: str
    focus: str


def read_file(path: Path) -> list[Evidence]:
    """Evidence items of a file, by its suffix (``.json``; anything else is YAML).

    Raises:
        InputError: unreadable or oversized.
        EvidenceFileError: every problem found.
    """
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InputError(
                f"{path}: {size} bytes is over the {MAX_BYTES}-byte limit for an "
                "evidence file; split it"
            )
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read evidence file: {exc}") from exc
    return parse_evidence(text, str(path))


def parse_evidence(text: str, source: str) -> list[Evidence]:
    """Validate a file's text (YAML, or JSON when ``source`` ends in ``.json``)."""
    if len(text.encode()) > MAX_BYTES:
        raise InputError(f"{source}: over the {MAX_BYTES}-byte limit for an evidence file")
    data, lines = _document(text, source)
    problems: list[str] = []
    if not isinstance(data, dict) or set(data) != {"evidence"}:
        keys = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise EvidenceFileError(
            source,
            [
                f"{source}:1: expected a mapping with the one key "
                f"'evidence' (a list of items), found {keys}"
            ],
        )
    raw = data["evidence"]
    if not isinstance(raw, list) or not raw:
        raise EvidenceFileError(
            source,
            [f"{source}:{lines.get(('list',), 1)}: 'evidence' must be a non-empty list of items"],
        )
    if len(raw) > MAX_ITEMS:
        raise EvidenceFileError(
            source, [f"{source}: {len(raw)} items, over the limit of {MAX_ITEMS}"]
        )
    items: list[Evidence] = []
    first: dict[str, int] = {}
    for index, entry in enumerate(raw):
        check = _Item(source, lines, index, problems)
        item = check.build(entry)
        if item is None:
            continue
        if item.id in first:
            check.problem(
                "id", f"duplicate evidence id {item.id!r} (first at line {first[item.id]})"
            )
            continue
        first[item.id] = check.line()
        items.append(item)
    if problems:
        raise EvidenceFileError(source, problems)
    return items


def parse_catalogue(text: str, source: str) -> list[CatalogueEntry]:
    """The shipped catalogue of policy and document entities (``entities:`` list)."""
    data, lines = _document(text, source)
    problems: list[str] = []
    entries = []
    for index, raw in enumerate(data.get("entities", []) if isinstance(data, dict) else []):
        where = f"{source}:{lines.get((index,), '?')}"
        if not isinstance(raw, dict) or set(raw) != ENTITY_FIELDS:
            problems.append(f"{where}: an entity needs exactly {sorted(ENTITY_FIELDS)}")
            continue
        try:
            entries.append(
                CatalogueEntry(
                    str(raw["id"]),
                    str(raw["name"]),
                    EntityType(raw["type"]),
                    str(raw["region"]),
                    str(raw["focus"]),
                )
            )
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
    if problems or not entries:
        raise EvidenceFileError(source, problems or [f"{source}: no entities"])
    return entries


def starter() -> tuple[list[Evidence], list[CatalogueEntry]]:
    """The shipped starter set and entity catalogue (``rirport/data/evidence``)."""
    folder = files("rirport").joinpath("data").joinpath("evidence")
    items: list[Evidence] = []
    catalogue: list[CatalogueEntry] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        name = f"rirport/data/evidence/{entry.name}"
        if entry.name == "entities.yaml":
            catalogue = parse_catalogue(entry.read_text(encoding="utf-8"), name)
        elif entry.name.endswith((".yaml", ".json")):
            items += parse_evidence(entry.read_text(encoding="utf-8"), name)
    return items, catalogue


# -- reading the document with line numbers ----------------------------------------------------
def _document(text: str, source: str) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """The parsed data and a map from a path (item index, field…) to its line."""
    if source.endswith(".json"):
        try:
            data = json.loads(text, object_pairs_hook=_no_duplicates)
        except json.JSONDecodeError as exc:
            raise EvidenceFileError(
                source, [f"{source}:{exc.lineno}: not valid JSON: {exc.msg}"]
            ) from None
        except ValueError as exc:
            raise EvidenceFileError(source, [f"{source}: {exc}"]) from None
    else:
        data = None
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        if data is not None:
            return data, {}
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise EvidenceFileError(source, [f"{source}:{line}: not valid YAML: {problem}"]) from None
    lines: dict[tuple[Any, ...], int] = {}
    problems: list[str] = []
    _walk(node, lines, problems, source)
    if problems:
        raise EvidenceFileError(source, problems)
    if data is None:
        try:
            data = yaml.load(text, Loader=_Loader)  # a safe loader
        except (yaml.YAMLError, ValueError) as exc:  # a constructor error after compose
            raise EvidenceFileError(source, [f"{source}: not valid YAML: {exc}"]) from None
    return data, lines


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    dup = {k for k in keys if keys.count(k) > 1}
    if dup:
        raise ValueError(f"duplicate key(s) {sorted(dup)} in one object")
    return dict(pairs)


def _walk(node: Any, lines: dict[tuple[Any, ...], int], problems: list[str], source: str) -> None:
    """Record the line of every item and of its fields in the top-level list; refuse
    duplicate keys anywhere (YAML would silently keep the last one)."""
    _duplicates(node, problems, source)
    if not isinstance(node, yaml.MappingNode):
        return
    for _key, value in node.value:
        if not isinstance(value, yaml.SequenceNode):
            continue
        lines[("list",)] = value.start_mark.line + 1
        for index, item in enumerate(value.value):
            lines[(index,)] = item.start_mark.line + 1
            if isinstance(item, yaml.MappingNode):
                for field_key, _ in item.value:
                    lines.setdefault((index, str(field_key.value)), field_key.start_mark.line + 1)


def _duplicates(node: Any, problems: list[str], source: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                problems.append(f"{source}:{key.start_mark.line + 1}: duplicate key {name!r}")
            seen.add(name)
            _duplicates(value, problems, source)
    elif isinstance(node, yaml.SequenceNode):
        for child in node.value:
            _duplicates(child, problems, source)


class _Item:
    """Validation of one item; problems are collected, never raised one at a time."""

    def __init__(
        self, source: str, lines: dict[tuple[Any, ...], int], index: int, problems: list[str]
    ) -> None:
        self.source, self.lines, self.index, self.problems = source, lines, index, problems
        self.name = f"item {index + 1}"

    def line(self, field: str | None = None) -> int:
        key = (self.index, field) if field else (self.index,)
        return self.lines.get(key) or self.lines.get((self.index,)) or 1

    def problem(self, field: str | None, reason: str) -> None:
        where = f" field {field!r}:" if field else ""
        self.problems.append(f"{self.source}:{self.line(field)}: {self.name}:{where} {reason}")

    def build(self, raw: Any) -> Evidence | None:
        before = len(self.problems)
        if not isinstance(raw, dict):
            self.problem(None, "an item must be a mapping of fields")
            return None
        if isinstance(raw.get("id"), str):
            self.name = f"item {raw['id']!r}"
        for unknown in sorted(set(raw) - ITEM_FIELDS):
            self.problem(str(unknown), f"unknown field (expected {', '.join(sorted(ITEM_FIELDS))})")
        for name in REQUIRED:
            if name not in raw:
                self.problem(None, f"missing field {name!r}")
        if len(self.problems) > before:
            return None
        values = {
            "id": self._id(raw["id"]),
            "claim": self._text(raw, "claim"),
            "source": self._source(raw["source"]),
            "reliability": self._reliability(raw["reliability"]),
            "credibility": self._credibility(raw),
            "entities": self._entities(raw["entities"]),
            "interests": self._text(raw, "interests", optional=True),
            "tag": raw.get("tag"),
            "contradicts": self._ids(raw.get("contradicts", [])),
            "due": self._date(raw.get("due"), "due", optional=True),
        }
        if len(self.problems) > before:
            return None
        return Evidence(**values)

    def _id(self, value: Any) -> str:
        if not isinstance(value, str) or not EVIDENCE_ID.match(value):
            self.problem(
                "id", f"{value!r} is not an id (2–80 lower-case letters, digits, dots, hyphens)"
            )
            return ""
        return value

    def _text(self, raw: dict[str, Any], key: str, optional: bool = False) -> Any:
        value = raw.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(key, "must be non-empty text")
        elif len(value) > MAX_TEXT:
            self.problem(key, f"{len(value)} characters, over the limit of {MAX_TEXT}")
        elif "\x00" in value:
            self.problem(key, "contains a NUL character")
        else:
            return " ".join(value.split())
        return None

    def _source(self, value: Any) -> Source | None:
        if not isinstance(value, dict):
            self.problem("source", "must be a mapping (address, publisher, author, date, kind)")
            return None
        for unknown in sorted(set(value) - SOURCE_FIELDS):
            self.problem(
                "source", f"unknown field {unknown!r} (expected {', '.join(sorted(SOURCE_FIELDS))})"
            )
        address = value.get("address")
        if (
            not isinstance(address, str)
            or not address.startswith(("https://", "http://"))
            or any(c.isspace() for c in address)
            or len(address) > 1000
        ):
            self.problem("source", f"address {address!r} must be an http(s) URL")
        publisher = value.get("publisher")
        if not isinstance(publisher, str) or not publisher.strip():
            self.problem("source", "publisher must be non-empty text")
        author = value.get("author")
        if author is not None and not isinstance(author, str):
            self.problem("source", "author must be text")
        try:
            kind = SourceKind(str(value.get("kind")))
        except ValueError:
            self.problem(
                "source",
                f"kind {value.get('kind')!r} is not one of "
                f"{', '.join(k.value for k in SourceKind)}",
            )
            return None
        undated = value.get("undated", False)
        if not isinstance(undated, bool):
            self.problem("source", "undated must be true or false")
        day = self._date(value.get("date"), "source")
        if day is None or not isinstance(address, str) or not isinstance(publisher, str):
            return None
        return Source(
            address,
            " ".join(publisher.split()),
            kind,
            day,
            " ".join(author.split()) if isinstance(author, str) else None,
            undated is True,
        )

    def _reliability(self, value: Any) -> str:
        if not isinstance(value, str) or len(value) != 1 or value not in RELIABILITY:
            self.problem("reliability", f"{value!r} is outside the scale A–F")
            return "F"
        return value

    def _credibility(self, raw: dict[str, Any]) -> int:
        tag, level = raw.get("tag"), raw.get("credibility")
        if tag is None and level is None:
            self.problem(None, "give 'credibility' (1–6) or 'tag' (V, P or U)")
            return 6
        if tag is not None and tag not in TAG_CREDIBILITY:
            self.problem("tag", f"{tag!r} is not V, P or U")
            return 6
        if level is None:
            return TAG_CREDIBILITY[str(tag)]
        if isinstance(level, bool) or not isinstance(level, int) or level not in CREDIBILITY:
            self.problem("credibility", f"{level!r} is outside the scale 1–6")
            return 6
        return level

    def _entities(self, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            self.problem("entities", "must be a non-empty list of entity ids")
            return ()
        bad = [v for v in value if not isinstance(v, str) or not ENTITY_ID.match(v)]
        if bad:
            self.problem(
                "entities",
                f"{bad!r}: an entity id is type:name with type one of "
                "registry, holder, country, policy, document",
            )
        return tuple(dict.fromkeys(str(v) for v in value))

    def _ids(self, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem("contradicts", "must be a list of evidence ids")
            return ()
        return tuple(value)

    def _date(self, value: Any, key: str, optional: bool = False) -> dt.date | None:
        if value is None and optional:
            return None
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.problem(key, f"date {value!r} is not YYYY-MM-DD")
            return None
