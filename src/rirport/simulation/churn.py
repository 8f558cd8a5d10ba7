"""Consecutive daily statistics files with realistic churn, derived from real files.

Real consecutive days change about 0.01-0.04% of their records (AFRINIC 2026-08-20 -> 21: 4
events in 19,598 records; LACNIC 2023-03-22 -> 23: 6 in 86,239; APNIC 2026-06-17 -> 18: 30 in
85,331), mostly new delegations cut from available space and returns, a few holder changes.
The default here is a little above that, 0.05% of a registry's records a day, so a benchmark
errs on the heavy side. Each change is one of:

========  =====  ======================================================================
kind      share  what happens to the file
========  =====  ======================================================================
new       40%    an ``available`` block is split: its first part becomes a delegation
                 (dated that day, a country and status drawn from the registry's own
                 delegations, an existing holder 70% of the time, else a new opaque-id)
                 and the rest stays available (IPv4: 256-4096 addresses taken; IPv6:
                 the first half of the block; ASN: one number)
return    25%    a delegation becomes ``available`` (written as that registry writes
                 available lines: country, date field, 7 or 8 fields)
holder    15%    a delegation's opaque-id becomes another holder's of the registry
status     8%    ``allocated`` <-> ``assigned``
country    8%    a delegation's country becomes another one used in the registry
move       4%    an IPv4 delegation leaves its registry's file and appears in another's
                 (same range and date; that registry's name, holder, country, status)
========  =====  ======================================================================

How many changes a registry gets in a day is ``records x rate``, rounded up or down at random
so that the expectation is exact (a 9,373-record file gets 4 or 5 at 0.05%). A change whose
kind finds no target (a standard-format file has no holders to change; a single-registry
history has nowhere to move to) falls back to a country change and is counted as one.

Everything else is kept as the registry writes it: preamble, version-line fields (the serial
advances by one day in its own form: YYYYMMDD, epoch seconds or epoch milliseconds; the end
date likewise, keeping APNIC's lag behind its serial), summary-line order, line order (new
lines go next to the line they were cut from; moved lines after a random IPv4 line of their
new registry). Every file is a valid statistics file with right counts, named as the RIRs
name theirs. Generation works on lines as text, not through the parser, so a day of all five
registries costs a few tens of milliseconds.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import random
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from rirport.formats.source import read_source

DEFAULT_RATE = 0.0005
DEFAULT_MIX: Mapping[str, float] = {
    "new": 0.40,
    "return": 0.25,
    "holder": 0.15,
    "status": 0.08,
    "country": 0.08,
    "move": 0.04,
}
KINDS = tuple(DEFAULT_MIX)
DELEGATED = ("allocated", "assigned")
TYPES = ("asn", "ipv4", "ipv6")
NEW_HOLDER_SHARE = 0.30
_TRIES = 4000
_DATE = re.compile(r"\d{8}")


@dataclass(frozen=True)
class ChurnRates:
    """How much changes a day: ``per_record`` of each registry's records, split by ``mix``."""

    per_record: float = DEFAULT_RATE
    mix: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))

    def __post_init__(self) -> None:
        unknown = set(self.mix) - set(KINDS)
        if unknown or not 0 <= self.per_record <= 1 or sum(self.mix.values()) <= 0:
            raise ValueError(f"bad churn rates: rate {self.per_record}, mix {dict(self.mix)}")


@dataclass(frozen=True)
class SimulatedFile:
    """One registry's file of one day."""

    name: str
    registry: str
    date: dt.date
    data: bytes


@dataclass(frozen=True)
class SimulatedDay:
    """Every registry's file of day ``index`` (0: the real files as given), and the changes
    made since the day before, by registry and kind."""

    index: int
    files: tuple[SimulatedFile, ...]
    changes: Mapping[str, Counter[str]]

    @property
    def change_count(self) -> int:
        return sum(sum(c.values()) for c in self.changes.values())


class DailyHistory:
    """Real files turned into a sequence of days; deterministic for a seed.

    ``days(n)`` starts again from the real files on each call, so two calls with the same
    seed yield the same bytes.
    """

    def __init__(
        self,
        files: Sequence[tuple[str, bytes]],
        *,
        seed: int = 0,
        rates: ChurnRates | None = None,
    ) -> None:
        self._originals = [(Path(name).name, data) for name, data in files]
        self._seed = seed
        self._rates = rates or ChurnRates()
        self._parsed = [_RegistryFile.parse(name, data) for name, data in self._originals]
        registries = [f.registry for f in self._parsed]
        if len(set(registries)) != len(registries):
            raise ValueError(f"one file per registry, got {sorted(registries)}")

    @classmethod
    def from_paths(
        cls, paths: Iterable[str | Path], *, seed: int = 0, rates: ChurnRates | None = None
    ) -> DailyHistory:
        """From files on disk (plain or compressed)."""
        return cls([(str(p), read_source(p).data) for p in paths], seed=seed, rates=rates)

    def days(self, n: int) -> Iterator[SimulatedDay]:
        """Days 0 .. n-1: day 0 is the real files byte for byte, each later day derived from
        the one before."""
        rng = random.Random(self._seed)
        state = [f.copy() for f in self._parsed]
        for index in range(n):
            if index == 0:
                files = tuple(
                    SimulatedFile(name, f.registry, f.base_date, data)
                    for (name, data), f in zip(self._originals, state, strict=True)
                )
                yield SimulatedDay(0, files, {f.registry: Counter() for f in state})
                continue
            for f in state:
                f.day += 1
            changes = {f.registry: _churn(rng, f, state, self._rates) for f in state}
            yield SimulatedDay(index, tuple(f.render() for f in state), changes)


# --- one registry's file as lines ---------------------------------------------------------


@dataclass
class _Template:
    """How a registry writes an available line of one type."""

    cc: str
    date: str
    eighth: bool

    def line(self, registry: str, rtype: str, start: str, value: int) -> str:
        text = f"{registry}|{self.cc}|{rtype}|{start}|{value}|{self.date}|available"
        return text + "|" if self.eighth else text


@dataclass
class _RegistryFile:
    registry: str
    extended: bool
    head: list[str]
    version: list[str]
    summary_order: list[str]
    lines: list[str]
    counts: Counter[str]
    base_date: dt.date
    templates: dict[str, _Template]
    day: int = 0

    @classmethod
    def parse(cls, name: str, data: bytes) -> _RegistryFile:
        text = data.decode()
        if "\r" in text:
            raise ValueError(f"{name}: CR line ends are not supported by the simulation")
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        at = 0
        while at < len(lines) and (not lines[at] or lines[at].startswith("#")):
            at += 1
        if at == len(lines):
            raise ValueError(f"{name}: no version line")
        version = lines[at].split("|")
        registry = version[1]
        at += 1
        order: list[str] = []
        while at < len(lines) and lines[at].endswith("|summary"):
            order.append(lines[at].split("|")[2])
            at += 1
        records = lines[at:]
        counts: Counter[str] = Counter()
        templates: dict[str, _Template] = {}
        extended = False
        for line in records:
            fields = line.split("|")
            if not _is_record(fields, registry):
                continue
            counts[fields[2]] += 1
            extended = extended or len(fields) >= 8
            if fields[6] == "available" and fields[2] not in templates:
                templates[fields[2]] = _Template(fields[1], fields[5], len(fields) >= 8)
        base = _shifted_date(version, 0)
        return cls(
            registry, extended, lines[: at - len(order) - 1], version, order, records, counts,
            base, templates,
        )  # fmt: skip

    @property
    def date(self) -> dt.date:
        return self.base_date + dt.timedelta(days=self.day)

    def render(self) -> SimulatedFile:
        version = list(self.version)
        version[2] = _shift_field(version[2], self.day)
        version[3] = str(sum(self.counts.values()))
        version[5] = _shift_field(version[5], self.day)
        summaries = [
            f"{self.registry}|*|{t}|*|{self.counts[t]}|summary" for t in self.summary_order
        ]
        head = "\n".join([*self.head, "|".join(version), *summaries]) + "\n"
        body = "\n".join(self.lines) + "\n" if self.lines else ""
        kind = "-extended" if self.extended else ""
        name = f"delegated-{self.registry}{kind}-{self.date:%Y%m%d}"
        return SimulatedFile(name, self.registry, self.date, head.encode() + body.encode())

    def copy(self) -> _RegistryFile:
        """An independent copy (lines are strings, so a shallow copy of each list will do)."""
        return replace(
            self,
            version=list(self.version),
            summary_order=list(self.summary_order),
            lines=list(self.lines),
            counts=Counter(self.counts),
            day=0,
        )

    # -- picking lines ----------------------------------------------------------------
    def pick(self, rng: random.Random, want: str, rtype: str | None = None) -> int | None:
        """A random line index whose record is ``want`` ("delegated", "available",
        "holder": delegated with an opaque-id), optionally of one type."""
        n = len(self.lines)
        if n == 0:
            return None
        for _ in range(_TRIES):
            i = rng.randrange(n)
            fields = self.lines[i].split("|")
            if not _is_record(fields, self.registry) or (rtype and fields[2] != rtype):
                continue
            status = fields[6]
            if want == "available" and status == "available":
                return i
            holds = want == "delegated" or (len(fields) >= 8 and bool(fields[7]))
            if want in ("delegated", "holder") and status in DELEGATED and holds:
                return i
        return None

    def sample(self, rng: random.Random, rtype: str | None = None) -> list[str] | None:
        """The fields of a random delegation (of ``rtype`` if there is one)."""
        i = self.pick(rng, "delegated", rtype)
        if i is None and rtype is not None:
            i = self.pick(rng, "delegated")
        return None if i is None else self.lines[i].split("|")

    def available_line(self, rtype: str, start: str, value: int) -> str:
        template = self.templates.get(rtype) or next(
            iter(self.templates.values()), _Template("", "", self.extended)
        )
        return template.line(self.registry, rtype, start, value)


def _is_record(fields: list[str], registry: str) -> bool:
    return len(fields) >= 7 and fields[0] == registry and fields[2] in TYPES and fields[1] != "*"


# --- the changes ----------------------------------------------------------------------------


def _churn(
    rng: random.Random, f: _RegistryFile, world: list[_RegistryFile], rates: ChurnRates
) -> Counter[str]:
    """Apply one day's changes to ``f``; return how many of each kind were made."""
    expected = sum(f.counts.values()) * rates.per_record
    count = int(expected) + (rng.random() < expected - int(expected))
    kinds = list(rates.mix)
    chosen = rng.choices(kinds, weights=[rates.mix[k] for k in kinds], k=count)
    made: Counter[str] = Counter()
    for kind in chosen:
        done = _APPLY[kind](rng, f, world) or _country(rng, f, world)
        if done:
            made[done] += 1
    return made


def _new(rng: random.Random, f: _RegistryFile, world: list[_RegistryFile]) -> str | None:
    i = f.pick(rng, "available")
    if i is None:
        return None
    fields = f.lines[i].split("|")
    rtype, start, value = fields[2], fields[3], int(fields[4])
    taken, rest = _split(rtype, start, value, rng)
    like = f.sample(rng, rtype)
    if like is None:
        return None
    holder = _holder(rng, f)
    line = f"{f.registry}|{like[1]}|{rtype}|{start}|{taken}|{f.date:%Y%m%d}|{like[6]}"
    if f.extended:
        line += f"|{holder}"
    f.lines[i : i + 1] = [line, *(f.available_line(rtype, s, v) for s, v in rest)]
    f.counts[rtype] += len(rest)
    return "new"


def _split(
    rtype: str, start: str, value: int, rng: random.Random
) -> tuple[int, list[tuple[str, int]]]:
    """The size taken from the start of an available block, and what stays available."""
    if rtype == "asn":
        return (1, [(str(int(start) + 1), value - 1)]) if value > 1 else (value, [])
    if rtype == "ipv4":
        size = 256 << rng.randrange(5)
        if size >= value:
            return value, []
        first = int(ipaddress.IPv4Address(start))
        return size, [(str(ipaddress.IPv4Address(first + size)), value - size)]
    if value >= 48:
        return value, []
    half = int(ipaddress.IPv6Address(start)) + (1 << (127 - value))
    return value + 1, [(str(ipaddress.IPv6Address(half)), value + 1)]


def _return(rng: random.Random, f: _RegistryFile, world: list[_RegistryFile]) -> str | None:
    i = f.pick(rng, "delegated")
    if i is None:
        return None
    fields = f.lines[i].split("|")
    f.lines[i] = f.available_line(fields[2], fields[3], int(fields[4]))
    return "return"


def _holder_change(rng: random.Random, f: _RegistryFile, world: list[_RegistryFile]) -> str | None:
    if not f.extended:
        return None
    i = f.pick(rng, "holder")
    if i is None:
        return None
    fields = f.lines[i].split("|")
    other = _existing_holder(rng, f)
    if other is None or other == fields[7]:
        return None
    fields[7] = other
    f.lines[i] = "|".join(fields)
    return "holder"


def _status(rng: random.Random, f: _RegistryFile, world: list[_RegistryFile]) -> str | None:
    i = f.pick(rng, "delegated")
    if i is None:
        return None
    fields = f.lines[i].split("|")
    fields[6] = "assigned" if fields[6] == "allocated" else "allocated"
    f.lines[i] = "|".join(fields)
    return "status"


def _country(rng: random.Random, f: _RegistryFile, world: list[_RegistryFile]) -> str | None:
    i = f.pick(rng, "delegated")
    if i is None:
        return None
    fields = f.lines[i].split("|")
    for _ in range(20):
        like = f.sample(rng)
        if like is not None and like[1] and like[1] != fields[1]:
            fields[1] = like[1]
            f.lines[i] = "|".join(fields)
            return "country"
    return None


def _move(rng: random.Random, f: _RegistryFile, world: list[_RegistryFile]) -> str | None:
    others = [g for g in world if g is not f]
    i = f.pick(rng, "delegated", "ipv4")
    if not others or i is None:
        return None
    to = rng.choice(others)
    like = to.sample(rng, "ipv4")
    if like is None:
        return None
    fields = f.lines.pop(i).split("|")
    f.counts["ipv4"] -= 1
    line = f"{to.registry}|{like[1]}|ipv4|{fields[3]}|{fields[4]}|{fields[5]}|{like[6]}"
    if to.extended:
        line += f"|{_existing_holder(rng, to) or _new_holder(rng, to)}"
    after = to.pick(rng, "delegated", "ipv4")
    to.lines.insert(len(to.lines) if after is None else after + 1, line)
    to.counts["ipv4"] += 1
    if "ipv4" not in to.summary_order:
        to.summary_order.append("ipv4")
    return "move"


_APPLY = {
    "new": _new,
    "return": _return,
    "holder": _holder_change,
    "status": _status,
    "country": _country,
    "move": _move,
}


# --- holders and dates ----------------------------------------------------------------------


def _holder(rng: random.Random, f: _RegistryFile) -> str:
    """An existing holder of the registry most of the time, else a new opaque-id."""
    if rng.random() >= NEW_HOLDER_SHARE:
        existing = _existing_holder(rng, f)
        if existing:
            return existing
    return _new_holder(rng, f)


def _existing_holder(rng: random.Random, f: _RegistryFile) -> str | None:
    i = f.pick(rng, "holder")
    return None if i is None else f.lines[i].split("|")[7]


def _new_holder(rng: random.Random, f: _RegistryFile) -> str:
    """An opaque-id shaped like the registry's own (hex stays hex, digits stay digits,
    the first two characters and punctuation are kept)."""
    model = _existing_holder(rng, f) or "00000000"
    out = list(model[:2])
    for ch in model[2:]:
        if ch.isdigit():
            out.append(rng.choice("0123456789"))
        elif ch in "abcdef":
            out.append(rng.choice("0123456789abcdef"))
        elif ch in "ABCDEF":
            out.append(rng.choice("0123456789ABCDEF"))
        else:
            out.append(ch)
    return "".join(out)


def _shift_field(text: str, days: int) -> str:
    """A version-line date or serial moved on by ``days`` in its own form."""
    if not days or not text.isdigit() or text == "00000000":
        return text
    if _DATE.fullmatch(text):
        try:
            moved = dt.datetime.strptime(text, "%Y%m%d").date() + dt.timedelta(days=days)
        except ValueError:
            return text
        return f"{moved:%Y%m%d}"
    step = 86_400_000 if len(text) >= 13 else 86_400
    return str(int(text) + days * step)


def _shifted_date(version: list[str], days: int) -> dt.date:
    """The date a version line describes (its serial if YYYYMMDD, else its end date)."""
    for text in (version[2], version[5]):
        if _DATE.fullmatch(text) and text != "00000000":
            try:
                return dt.datetime.strptime(_shift_field(text, days), "%Y%m%d").date()
            except ValueError:
                continue
    raise ValueError(f"version line {'|'.join(version)!r} names no date")


__all__ = [
    "DEFAULT_MIX",
    "DEFAULT_RATE",
    "KINDS",
    "ChurnRates",
    "DailyHistory",
    "SimulatedDay",
    "SimulatedFile",
]
