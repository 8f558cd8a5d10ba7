"""Reading regime files: the built-in catalogue by name, or a user's file by path.

A regime file is TOML (``tomllib``, in the standard library): a ``[regime]`` table (name,
version, description, source, notes) and an array of ``[[rule]]`` tables. Everything is
checked on load, and every problem is reported at once, each naming the file, the line, the
rule id and the field: a proposed policy written by hand should fail loudly and precisely,
never be half-applied.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import string
import tomllib
from collections.abc import Callable
from enum import StrEnum
from importlib.resources import files
from pathlib import Path
from typing import Any, TypeVar

from rirport.domain.enums import Registry, ResourceType
from rirport.domain.resources import ResourceRange
from rirport.domain.transfer import Confidence, Effect, TransferKind
from rirport.errors import InputError, ParseError, PolicyError
from rirport.policy.checks import SPECS
from rirport.policy.model import Direction, Params, Regime, Rule, Since

BUILTIN_DIR = "policy"
RULE_KEYS = frozenset(
    {
        "id",
        "registry",
        "direction",
        "types",
        "kinds",
        "check",
        "params",
        "effect",
        "message",
        "reference",
        "url",
        "effective",
        "until",
        "confidence",
    }
)
REQUIRED_RULE_KEYS = (
    "id",
    "registry",
    "direction",
    "check",
    "effect",
    "message",
    "reference",
    "effective",
    "confidence",
)
REGIME_KEYS = frozenset({"name", "version", "description", "source", "notes", "as_of"})
#: Placeholders every message may use; checks add their own details (``{until}`` ...).
MESSAGE_FIELDS = frozenset(
    {"source", "recipient", "counterpart", "registry", "type", "kind", "resource"}
)
CHECK_FIELDS: dict[str, frozenset[str]] = {
    "holding-period": frozenset({"start", "until"}),
    "locked-pool": frozenset({"pool", "start", "until"}),
    "dispute": frozenset({"holds"}),
    "legal-hold": frozenset({"holds"}),
    "holder-matches": frozenset({"holder"}),
}
E = TypeVar("E", bound=StrEnum)
_LINE = re.compile(r"line (\d+)")


def builtin_names() -> list[str]:
    """Names of the regimes shipped with rirport (the TOML files of ``rirport/data/policy``
    other than the RPKI constraints)."""
    return list(_builtin_names())


@functools.cache
def _builtin_names() -> tuple[str, ...]:
    """Listed once: the package's data folder does not change while it runs (every transfer
    step loads its regime by name)."""
    folder = files("rirport").joinpath("data").joinpath(BUILTIN_DIR)
    names = [
        p.name.removesuffix(".toml")
        for p in folder.iterdir()
        if p.name.endswith(".toml") and not p.name.startswith("rpki")
    ]
    return tuple(sorted(names))


def load_builtin(name: str) -> Regime:
    """A regime shipped with rirport, by name only (what a server lets its clients pick:
    never a path on the server's disk).

    Raises:
        InputError: no built-in has that name (the message lists them).
    """
    if name not in builtin_names():
        raise InputError(f"unknown regime {name[:60]!r} (built in: {', '.join(builtin_names())})")
    return _builtin(name)


def load_regime(name_or_path: str | Path) -> Regime:
    """A built-in regime by name (``current``, ``mandatory-portability``) or a file by path.

    Raises:
        InputError: neither a built-in name nor a readable file.
        ParseError: the file is not valid TOML (with its line).
        PolicyError: the file does not validate (every problem listed).
    """
    text = str(name_or_path)
    if text in builtin_names():
        return _builtin(text)
    path = Path(text).expanduser()
    if not path.is_file():
        raise InputError(
            f"no regime {text!r}: not a built-in ({', '.join(builtin_names())}) and no such file"
        )
    try:
        data = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{text}: cannot read regime file: {exc}") from exc
    return parse_regime(data, text)


@functools.cache
def _builtin(name: str) -> Regime:
    resource = files("rirport").joinpath("data").joinpath(BUILTIN_DIR).joinpath(f"{name}.toml")
    return parse_regime(resource.read_text(encoding="utf-8"), f"rirport/data/policy/{name}.toml")


def parse_regime(text: str, source: str) -> Regime:
    """Validate a regime file's text.

    Raises:
        ParseError: not valid TOML.
        PolicyError: every problem found in the regime and its rules.
    """
    data = read_toml(text, source)
    problems: list[str] = []
    head = data.get("regime")
    if not isinstance(head, dict):
        raise PolicyError(source, [f"{source}: missing [regime] table (name, version, ...)"])
    meta = _regime_meta(head, source, problems)
    raw_rules = data.get("rule", [])
    if not isinstance(raw_rules, list) or not raw_rules:
        problems.append(f"{source}: no [[rule]] tables")
        raw_rules = []
    for key in sorted(set(data) - {"regime", "rule"}):
        problems.append(f"{source}: unknown top-level key {key!r} (expected [regime], [[rule]])")
    lines = text.splitlines()
    rules: list[Rule] = []
    seen: dict[str, int | None] = {}
    occurrences: dict[str, int] = {}  # the nth rule of an id is at its nth id line
    for number, raw in enumerate(raw_rules, start=1):
        rule_id = str(raw.get("id")) if isinstance(raw, dict) else ""
        occurrences[rule_id] = nth = occurrences.get(rule_id, 0) + 1
        rule = _rule(raw, number, source, lines, problems, nth)
        if rule is None:
            continue
        if rule.id in seen:
            where = f"line {seen[rule.id]}" if seen[rule.id] else "earlier"
            problems.append(
                f"{_where(source, rule.line)}: rule {rule.id!r}: field 'id': "
                f"duplicate rule id (first at {where})"
            )
            continue
        seen[rule.id] = rule.line
        rules.append(rule)
    if problems:
        raise PolicyError(source, problems)
    return Regime(rules=tuple(rules), path=source, **meta)


def read_toml(text: str, source: str) -> dict[str, Any]:
    """Parse TOML, turning its error into ``file:line: reason``.

    Raises:
        ParseError: not valid TOML.
    """
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _LINE.search(str(exc))
        raise ParseError(
            source, int(found.group(1)) if found else None, f"invalid TOML: {exc}"
        ) from exc


# -- the [regime] table ---------------------------------------------------------------------
def _regime_meta(head: dict[str, Any], source: str, problems: list[str]) -> dict[str, Any]:
    for key in sorted(set(head) - REGIME_KEYS):
        problems.append(f"{source}: [regime]: unknown field {key!r}")
    meta: dict[str, Any] = {}
    for key in ("name", "version", "description", "source"):
        value = head.get(key)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{source}: [regime]: field {key!r}: required, a non-empty string")
            value = ""
        meta[key] = value
    notes = head.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        problems.append(f"{source}: [regime]: field 'notes': a list of strings")
        notes = []
    meta["notes"] = tuple(notes)
    return meta


# -- one [[rule]] --------------------------------------------------------------------------
class _Problems:
    """Collects a rule's problems, each prefixed with where the rule is."""

    def __init__(self, where: str, rule_id: str, problems: list[str]) -> None:
        self.prefix = f"{where}: rule {rule_id!r}"
        self.problems = problems
        self.count = 0

    def add(self, field: str, reason: str) -> None:
        self.problems.append(f"{self.prefix}: field {field!r}: {reason}")
        self.count += 1


def _rule(
    raw: Any, number: int, source: str, lines: list[str], problems: list[str], nth: int = 1
) -> Rule | None:
    if not isinstance(raw, dict):
        problems.append(f"{source}: rule #{number}: not a table")
        return None
    rule_id = raw.get("id")
    label = rule_id if isinstance(rule_id, str) and rule_id else f"#{number}"
    line = _line_of(lines, rule_id, nth) if isinstance(rule_id, str) else None
    bad = _Problems(_where(source, line), label, problems)
    for key in sorted(set(raw) - RULE_KEYS):
        bad.add(key, "unknown field (a typo?)")
    for key in REQUIRED_RULE_KEYS:
        if key not in raw:
            bad.add(key, "required")
    if bad.count:
        return None
    fields = _rule_fields(raw, bad)
    if bad.count:
        return None
    return Rule(id=label, line=line, **fields)


def _rule_fields(raw: dict[str, Any], bad: _Problems) -> dict[str, Any]:
    """Every field of a rule, converted; problems go to ``bad``."""
    check = _text(raw, "check", bad)
    if check and check not in SPECS:
        bad.add("check", f"unknown check {check!r} (known: {', '.join(sorted(SPECS))})")
    direction = _enum(raw, "direction", Direction, bad)
    fields: dict[str, Any] = {
        "registry": _registry(raw.get("registry"), bad),
        "direction": direction,
        "types": _set(raw, "types", ResourceType, bad, default=frozenset(ResourceType)),
        "kinds": _set(raw, "kinds", TransferKind, bad, default=_kinds_for(direction)),
        "check": check,
        "params": _params(raw.get("params", {}), check if check in SPECS else None, bad),
        "effect": _enum(raw, "effect", Effect, bad),
        "message": _text(raw, "message", bad),
        "reference": _text(raw, "reference", bad),
        "url": _url(raw.get("url"), bad),
        "effective": _date(raw.get("effective"), "effective", bad, allow_unknown=True),
        "until": _date(raw.get("until"), "until", bad) if "until" in raw else None,
        "confidence": _enum(raw, "confidence", Confidence, bad),
    }
    _message_fields(fields["message"], check, bad)
    return fields


def _kinds_for(direction: Direction | None) -> frozenset[TransferKind]:
    """Kinds a rule covers when it does not say: out/in rules speak of moves between
    registries (inter-RIR and cross-border M&A), intra rules of moves within one."""
    if direction is Direction.INTRA:
        return frozenset({TransferKind.INTRA_RIR, TransferKind.MERGER})
    return frozenset({TransferKind.INTER_RIR, TransferKind.MERGER})


def _registry(value: Any, bad: _Problems) -> Registry | None:
    if value == "*":
        return None
    try:
        return Registry.parse(value) if isinstance(value, str) else _raise(value)
    except ValueError as exc:
        bad.add("registry", f"{exc} or '*'")
        return None


def _raise(value: Any) -> Registry:
    raise ValueError(f"expected a registry name, not {value!r}")


def _text(raw: dict[str, Any], key: str, bad: _Problems) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        bad.add(key, "required, a non-empty string")
        return ""
    return value.strip()


def _url(value: Any, bad: _Problems) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        bad.add("url", f"{value!r} is not an http(s) URL")
        return None
    return value


def _enum(raw: dict[str, Any], key: str, kind: type[E], bad: _Problems) -> E:
    value = raw.get(key)
    try:
        return kind(str(value))
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        bad.add(key, f"{value!r} is not one of {allowed}")
        return next(iter(kind))


def _set(
    raw: dict[str, Any], key: str, kind: type[E], bad: _Problems, default: frozenset[E]
) -> frozenset[E]:
    value = raw.get(key)
    if value is None:
        return default
    return _members(value, key, kind, bad)


def _members(value: Any, key: str, kind: type[E], bad: _Problems) -> frozenset[E]:
    if not isinstance(value, list) or not value:
        bad.add(key, "a non-empty list")
        return frozenset()
    found: set[E] = set()
    for item in value:
        try:
            found.add(_member(kind, item))
        except (ValueError, TypeError):
            allowed = ", ".join(m.value for m in kind)
            bad.add(key, f"{item!r} is not one of {allowed}")
    return frozenset(found)


def _member(kind: type[E], item: Any) -> E:
    """One enum member from its text; registries also by their other spellings."""
    if not isinstance(item, str):
        raise TypeError(item)
    if issubclass(kind, Registry):
        return kind(Registry.parse(item).value)
    return kind(item)


def _date(value: Any, key: str, bad: _Problems, allow_unknown: bool = False) -> dt.date | None:
    if allow_unknown and value == "unknown":
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    hint = ' or "unknown"' if allow_unknown else ""
    bad.add(key, f"{value!r} is not a TOML date (YYYY-MM-DD){hint}")
    return None


# -- check parameters ----------------------------------------------------------------------
def _params(value: Any, check: str | None, bad: _Problems) -> Params:
    if not isinstance(value, dict):
        bad.add("params", "a table")
        return Params()
    if check is None:
        return Params()
    spec = SPECS[check]
    for key in sorted(set(value) - spec.required - spec.optional):
        bad.add(
            f"params.{key}",
            f"check {check!r} takes no such parameter "
            f"(takes: {', '.join(sorted(spec.required | spec.optional)) or 'none'})",
        )
    for key in sorted(spec.required - set(value)):
        bad.add(f"params.{key}", f"required by check {check!r}")
    converted: dict[str, Any] = {}
    for key, raw in value.items():
        if key in spec.required | spec.optional:
            converted[key] = _PARAM_READERS[key](raw, f"params.{key}", bad)
    return Params(**{k: v for k, v in converted.items() if v is not None})


def _p_registries(value: Any, key: str, bad: _Problems) -> frozenset[Registry]:
    return _members(value, key, Registry, bad)


def _p_types(value: Any, key: str, bad: _Problems) -> frozenset[ResourceType]:
    return _members(value, key, ResourceType, bad)


def _p_kinds(value: Any, key: str, bad: _Problems) -> frozenset[TransferKind]:
    return _members(value, key, TransferKind, bad)


def _p_count(value: Any, key: str, bad: _Problems) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        bad.add(key, f"{value!r} is not a whole number >= 0")
        return None
    return value


def _p_prefix_length(value: Any, key: str, bad: _Problems) -> int | None:
    found = _p_count(value, key, bad)
    if found is not None and found > 128:
        bad.add(key, f"{value!r} is longer than any prefix")
        return None
    return found


def _p_since(value: Any, key: str, bad: _Problems) -> Since | None:
    try:
        return Since(value)
    except ValueError:
        bad.add(key, f"{value!r} is not one of {', '.join(s.value for s in Since)}")
        return None


def _p_bool(value: Any, key: str, bad: _Problems) -> bool | None:
    if not isinstance(value, bool):
        bad.add(key, f"{value!r} is not true or false")
        return None
    return value


def _p_prefixes(value: Any, key: str, bad: _Problems) -> tuple[ResourceRange, ...] | None:
    if not isinstance(value, list) or not value:
        bad.add(key, "a non-empty list of prefixes")
        return None
    found = []
    for item in value:
        try:
            found.append(ResourceRange.from_network(str(item)))
        except ValueError as exc:
            bad.add(key, f"{item!r}: {exc}")
    return tuple(found)


_PARAM_READERS: dict[str, Callable[[Any, str, _Problems], Any]] = {
    "registries": _p_registries,
    "types": _p_types,
    "months": _p_count,
    "after_months": _p_count,
    "since": _p_since,
    "receipt_kinds": _p_kinds,
    "prefixes": _p_prefixes,
    "prefix_length": _p_prefix_length,
    "asn16_only": _p_bool,
}


def _message_fields(message: str, check: str, bad: _Problems) -> None:
    """Placeholders in a message must be ones the engine fills in."""
    allowed = MESSAGE_FIELDS | CHECK_FIELDS.get(check, frozenset())
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(message) if name}
    except ValueError as exc:
        bad.add("message", f"bad placeholder syntax: {exc}")
        return
    for name in sorted(names - allowed):
        bad.add(
            "message", f"unknown placeholder {{{name}}} (allowed: {', '.join(sorted(allowed))})"
        )


def _line_of(lines: list[str], rule_id: str, nth: int = 1) -> int | None:
    """The line of the ``nth`` ``id = "<rule_id>"`` (tomllib gives no positions for valid
    documents)."""
    pattern = re.compile(r'^\s*id\s*=\s*["\']' + re.escape(rule_id) + r'["\']')
    found = [n for n, line in enumerate(lines, start=1) if pattern.match(line)]
    return found[nth - 1] if len(found) >= nth else None


def _where(source: str, line: int | None) -> str:
    return f"{source}:{line}" if line is not None else source
