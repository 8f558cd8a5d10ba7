"""A registry's newest file as sorted columns, so the next file is diffed with numpy.

Reading every stored row of the previous snapshot back (and comparing record texts in Python)
costs more than parsing the new file, and more as the table grows. The head state keeps, per
row of the registry's newest file, its row id, its origin (the id its line order names) and a
64-bit fingerprint of its record line, and (format 2) the order that sorts those
fingerprints. A new file's records are fingerprinted the same way and the two fingerprint
arrays matched (duplicated records by their rank among equals, as the text diff counted
them): matched rows stay as they are, unmatched old rows are closed, unmatched new rows are
inserted. The match sorts the new file's fingerprints; the head's it takes from the head
state when kept (it is the sort of the previous file's, made by the previous match), so each
file is sorted once.

Fingerprints are a multiply-xor hash of the record's bytes in 8-byte little-endian words
(zero-padded; an all-zero word, padding, is skipped), each step ``mix((h ^ word) * K)`` with
splitmix64's finaliser: every step is a bijection of ``h``, and every word's bits reach all of
``h``'s. They are the values stores hold since the head state came (changing them would need
a new head-state format). From a file's bytes they are read through the file viewed as
aligned ``uint64`` words (word ``k`` of a line starting ``r`` bytes into aligned word ``q`` is
put together from words ``q + k`` and ``q + k + 1``), so a line's fingerprint does not depend
on where it sits. Two different records
of a file pair colliding has a probability of about n_old * n_new / 2**64 (2e-9 for two
200,000-record files); the distinct record lines of the real files here (over 500,000) have
distinct fingerprints (tests/store/test_head_prints.py).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
_MUL = np.uint64(0x9E3779B97F4A7C15)
_MUL2 = np.uint64(0xBF58476D1CE4E5B9)
_MUL3 = np.uint64(0x94D049BB133111EB)
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
_ONE = np.uint64(1)


@dataclass(frozen=True)
class HeadState:
    """Rows of a registry's newest snapshot, sorted by id: ids, origins, fingerprints, and
    (when known) ``by_print``, the row positions in fingerprint order: the sort the next
    file's match would otherwise make of them (it is the sort the match of this file made
    of its rows); and (kept in memory only, never stored) ``file_rows``, each row's place in
    the snapshot's file as parsed, when this process made the state from that file."""

    snapshot_id: int
    ids: I64
    origins: I64
    prints: U64
    by_print: I64 | None = None
    file_rows: I64 | None = None

    @classmethod
    def of(
        cls,
        snapshot_id: int,
        ids: npt.ArrayLike,
        origins: npt.ArrayLike,
        prints: U64,
        by_print: I64 | None = None,
        file_rows: I64 | None = None,
    ) -> HeadState:
        """The state of rows given in any order (``by_print``: positions among them;
        ``file_rows``: each one's row in the file)."""
        i = np.asarray(ids, dtype=np.int64)
        o, p = np.asarray(origins, dtype=np.int64), np.asarray(prints, dtype=np.uint64)
        if len(i) < 2 or bool((i[1:] > i[:-1]).all()):  # in order already (an append's)
            return cls(snapshot_id, i, o, p, by_print, file_rows)
        order = np.argsort(i, kind="stable")
        if by_print is not None:  # the same rows, at their new positions
            moved = np.empty(len(order), np.int64)
            moved[order] = np.arange(len(order))
            by_print = moved[by_print]
        rows = None if file_rows is None else file_rows[order]
        return cls(snapshot_id, i[order], o[order], p[order], by_print, rows)

    def __len__(self) -> int:
        return len(self.ids)

    def encode(self) -> tuple[bytes, bytes, bytes]:
        """ids and origins as their exceptions (format 3, marked by :data:`_RUNS`): the ids
        as steps, nearly all +1, given only where a step is not (a row gone, a run of new
        rows); the origins as their difference from the ids, nearly all 0, only where it is
        not; each ``[n, k, k positions, k values]`` as int64, zlib'd (formats 1 and 2 zlib'd
        every step and every difference: 16 bytes a row through zlib for the same few
        kilobytes out). Fingerprints raw, then (format 2, marked by :data:`_BY_PRINT`)
        ``by_print`` as 32-bit positions; fingerprints alone (``8 * len`` bytes, as stores
        written before hold them) when the order is unknown. Every format is read as ever."""
        steps = np.diff(self.ids, prepend=np.int64(0))
        prints = self.prints.astype("<u8").tobytes()
        if self.by_print is not None:
            prints = _BY_PRINT + prints + self.by_print.astype("<u4").tobytes()
        return _exceptions(steps, 1), _exceptions(self.ids - self.origins, 0), prints

    @classmethod
    def decode(cls, snapshot_id: int, ids: bytes, origins: bytes, prints: bytes) -> HeadState:
        """A state from :meth:`encode`, of any format (a ``by_print`` that does not sort
        the fingerprints is dropped: the match sorts them itself)."""
        i = np.cumsum(_unexceptions(ids, 1), dtype=np.int64)
        back = _unexceptions(origins, 0)
        n = len(i)
        by_print = None
        if len(prints) == len(_BY_PRINT) + 12 * n and prints.startswith(_BY_PRINT):
            raw = memoryview(prints)[len(_BY_PRINT) :]
            by_print = np.frombuffer(raw[8 * n :], dtype="<u4").astype(np.int64)
            prints = bytes(raw[: 8 * n])
        p = np.frombuffer(prints, dtype="<u8").astype(np.uint64)
        if by_print is not None and not _sorts(p, by_print):
            by_print = None
        return cls(snapshot_id, i, i - back, p, by_print)


#: The mark opening a format-3 ``head_state.ids`` or ``origins`` (:func:`_exceptions`); a
#: format-1/2 value is a zlib stream, which opens with 0x78, never with this.
_RUNS = b"rirport-head-3\n"


def _exceptions(values: I64, usual: int) -> bytes:
    """``values``, nearly all ``usual``, as the positions and values of the others."""
    at = np.flatnonzero(values != usual)
    packed = np.concatenate([[len(values), len(at)], at, values[at]]).astype("<i8")
    return _RUNS + zlib.compress(packed.tobytes(), 1)


def _unexceptions(blob: bytes, usual: int) -> I64:
    """The values :func:`_exceptions` packed, or those of a format-1/2 blob (all, zlib'd)."""
    if not blob.startswith(_RUNS):
        return np.frombuffer(zlib.decompress(blob), dtype="<i8").astype(np.int64)
    packed = np.frombuffer(zlib.decompress(blob[len(_RUNS) :]), dtype="<i8").astype(np.int64)
    n, k = int(packed[0]), int(packed[1])
    out = np.full(n, usual, np.int64)
    out[packed[2 : 2 + k]] = packed[2 + k : 2 + 2 * k]
    return out


#: The mark opening a format-2 ``head_state.prints`` (fingerprints and their order): a
#: format-1 value is ``8 * len`` bytes, a format-2 one ``len(_BY_PRINT) + 12 * len``.
_BY_PRINT = b"rirport-head-2\n"


def _sorts(prints: U64, order: I64) -> bool:
    """Whether ``order`` holds positions of ``prints`` that put them in order."""
    if len(order) != len(prints):
        return False
    if not len(order):
        return True
    if int(order.min()) < 0 or int(order.max()) >= len(prints):
        return False
    s = prints[order]
    return bool((s[1:] >= s[:-1]).all())


@dataclass(frozen=True)
class Match:
    """How a new file's rows pair with the head state's: ``old[k]`` (a head row) is
    ``new[k]`` (a file row); ``gone`` head rows and ``fresh`` file rows have no partner;
    ``new_order`` sorts the file's fingerprints (the next head state's ``by_print``)."""

    old: I64
    new: I64
    gone: I64
    fresh: I64
    new_order: I64


def match(head_prints: U64, new_prints: U64, head_order: I64 | None = None) -> Match:
    """Pair rows with equal records (fingerprints), duplicates by their rank among equals
    (which of two identical records pairs with which is immaterial, as in the text diff).
    ``head_order``: positions that sort ``head_prints``, when known (saves their sort)."""
    (a, order, _, sorted_a), (b, by_value, plain, sorted_b) = (
        _ranked(head_prints, head_order),
        _ranked(new_prints),
    )
    at = np.empty(len(b), np.int64)  # b searched in sorted order: a sequential walk
    at[by_value] = np.minimum(np.searchsorted(sorted_a, sorted_b), max(len(a) - 1, 0))
    hit = sorted_a[at] == b if len(a) else np.zeros(len(b), bool)
    ib = np.flatnonzero(hit).astype(np.int64)
    ia = order[at[hit]].astype(np.int64)
    gone = np.ones(len(a), bool)
    gone[ia] = False
    return Match(
        ia,
        ib,
        np.flatnonzero(gone).astype(np.int64),
        np.flatnonzero(~hit).astype(np.int64),
        plain.astype(np.int64),
    )


def _ranked(prints: U64, known: I64 | None = None) -> tuple[U64, I64, I64, U64]:
    """Fingerprints made unique (the k-th repeat of a value, k >= 1, is mixed with k), the
    order that sorts them, the order that sorts the fingerprints as given (the one sort
    of them, unless some repeat; ``known``, an order that sorts them, saves it), and the
    unique values sorted (gathered once: the match would gather them again). Repeats are
    ranked in the order of the fingerprints' own sort, whatever ``known`` says, so which
    repeat pairs with which does not depend on where the order came from. Without repeats
    the values are ``prints`` itself (read only)."""
    order = known if known is not None and len(known) == len(prints) else np.argsort(prints)
    if len(prints) < 2:
        return prints, order, order, prints[order]
    s = prints[order]
    if order is known and not bool((s[1:] >= s[:-1]).all()):  # not a sort of them after all
        order = np.argsort(prints)
        s = prints[order]
    repeat = np.flatnonzero(s[1:] == s[:-1]) + 1
    if not len(repeat):
        return prints, order, order, s
    if order is known:  # equal values may lie in another order: rank them as ever
        order = np.argsort(prints)
        s = prints[order]
    starts = np.ones(len(s), bool)
    starts[repeat] = False
    run_start = np.maximum.accumulate(np.where(starts, np.arange(len(s)), 0))
    rank = (np.arange(len(s)) - run_start).astype(np.uint64)
    with np.errstate(over="ignore"):
        mixed = s ^ _mix(rank * _MUL2)
    ranked = prints.copy()
    ranked[order[repeat]] = mixed[repeat]
    by_ranked = np.argsort(ranked)
    return ranked, by_ranked, order, ranked[by_ranked]


def fingerprints(records: Sequence[str]) -> U64:
    """A 64-bit fingerprint of each record line (see the module's note on collisions)."""
    if not records:
        return np.zeros(0, np.uint64)
    try:
        raw = np.array(records, dtype=np.bytes_)
    except UnicodeEncodeError:  # a record outside ASCII: encode each (rare, slower)
        raw = np.array([r.encode() for r in records], dtype=np.bytes_)
    return bytes_prints(raw)


def bytes_prints(raw: npt.NDArray[np.bytes_]) -> U64:
    """:func:`fingerprints` of a fixed-width bytes array (a table's column as it is)."""
    n = len(raw)
    if not n:
        return np.zeros(0, np.uint64)
    width = -(-raw.dtype.itemsize // 8) * 8
    if width != raw.dtype.itemsize:
        raw = raw.astype(f"S{width}")
    return _word_prints(np.ascontiguousarray(raw).view("<u8").reshape(n, width // 8))


def line_prints(data: bytes, numbers: npt.NDArray[np.integer]) -> U64:
    """:func:`fingerprints` of lines of a file (``numbers``: 1-based), read from its bytes
    (with CRLF read as LF) rather than from decoded strings: the same values, at numpy speed."""
    return FileLines.of(data, numbers).prints()


@dataclass(frozen=True)
class FileLines:
    """Lines of a file (CRLF read as LF) by their 1-based ``numbers``: where each starts in
    ``data`` and how long it is. Their fingerprints are read from the bytes; their text is
    decoded only when asked for, and only for the lines asked for (a file over an existing
    history stores a few new rows: decoding every line would cost a tenth of parsing it)."""

    data: bytes
    numbers: I64
    start: I64
    length: I64

    @classmethod
    def of(cls, data: bytes, numbers: npt.NDArray[np.integer]) -> FileLines:
        at = np.asarray(numbers, dtype=np.int64)
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n")
        if not len(at):
            return cls(data, at, at, at)
        buf = np.frombuffer(data, dtype=np.uint8)
        ends = np.flatnonzero(buf == ord("\n"))
        if not data.endswith(b"\n"):
            ends = np.append(ends, len(data))
        at = at - 1
        start = np.where(at > 0, ends[np.maximum(at - 1, 0)] + 1, 0)
        return cls(data, at + 1, start, ends[at] - start)

    @classmethod
    def of_spans(
        cls, data: bytes, starts: I64, ends: I64, numbers: npt.NDArray[np.integer]
    ) -> FileLines:
        """As :meth:`of`, from where the file's lines start and end (all of them, as its
        parse found them in ``data``, CRLF read as LF): no second scan of the file."""
        at = np.asarray(numbers, dtype=np.int64)
        start = starts[at - 1]
        return cls(data, at, start, ends[at - 1] - start)

    def __len__(self) -> int:
        return len(self.numbers)

    def take(self, at: npt.NDArray[np.int64]) -> FileLines:
        """The lines at positions ``at`` (in that order)."""
        return FileLines(self.data, self.numbers[at], self.start[at], self.length[at])

    def prints(self) -> U64:
        """:func:`fingerprints` of the lines' text."""
        if not len(self):
            return np.zeros(0, np.uint64)
        return _span_prints(self.data, self.start, self.length)

    def texts(self) -> list[str]:
        """The lines' text: a few decoded one by one, many by splitting the whole file."""
        if len(self) <= _FEW_LINES:
            data = self.data
            return [
                data[s : s + n].decode()
                for s, n in zip(self.start.tolist(), self.length.tolist(), strict=True)
            ]
        lines = self.data.decode().split("\n")
        numbers = self.numbers
        if (np.diff(numbers) == 1).all():  # consecutive lines: one slice
            return lines[int(numbers[0]) - 1 : int(numbers[-1])]
        return [lines[i - 1] for i in numbers.tolist()]


#: Up to this many lines are decoded one by one (each a slice and a decode), more by one
#: split of the whole file.
_FEW_LINES = 20_000


def _span_prints(data: bytes, start: I64, length: I64) -> U64:
    """The fingerprint of each span ``buf[start:start + length]``, read as 8-byte words
    from the buffer viewed as aligned ``uint64`` words: word ``k`` of a span starting ``r``
    bytes into aligned word ``q`` is the top ``8 - r`` bytes of word ``q + k`` and the low
    ``r`` of word ``q + k + 1`` (each aligned word gathered once a span: numpy gathers
    aligned words about twice as fast as unaligned ones), spans longest first (the spans
    reaching word ``k`` are a prefix), each word's step in place."""
    n = len(start)
    longest = int(length.max())
    width = -(-longest // 8)
    buf = np.frombuffer(data, dtype=np.uint8)
    # zero-padded to whole words and one more: a span's last word may read past the end
    padded = np.concatenate([buf, np.zeros(16 - len(buf) % 8, np.uint8)])
    aligned = padded.view("<u8")
    if longest < 1 << 16:  # a 16-bit key: numpy's stable sort is a radix sort then
        order = np.argsort((longest - length).astype(np.uint16), kind="stable")
    else:
        order = np.argsort(-length, kind="stable")
    at, size = start[order], length[order]
    reach = np.searchsorted(-size, -8 * np.arange(width + 1), side="left")
    nul = b"\0" in data  # an all-zero word is skipped (padding), as in _word_prints
    word = at >> 3
    low = ((at & 7) * 8).astype(np.uint64)  # bits of the first aligned word below the span
    high = np.uint64(63) - low  # the next word's shift, less one (a shift by 64 is not one)
    h = np.full(n, _MUL, np.uint64)
    spare = np.empty(n, np.uint64)
    below = aligned[word]
    with np.errstate(over="ignore"):
        for k in range(width):
            m, full = int(reach[k]), int(reach[k + 1])
            if m == 0:
                break
            above = aligned[word[:m] + (k + 1)]
            column = below[:m] >> low[:m]
            column |= (above << _ONE) << high[:m]
            below = above
            if full < m:  # the spans ending in this word: their bytes only
                bits = ((size[full:m] - 8 * k) * 8).astype(np.uint64)
                column[full:m] &= np.where(bits >= 64, _ALL, (_ONE << (bits % 64)) - _ONE)
            part = h[:m]
            if nul:
                step = (part ^ column) * _MUL
                _mix_into(step, spare[:m])
                np.copyto(part, step, where=column != 0)
                continue
            part ^= column
            part *= _MUL
            _mix_into(part, spare[:m])
    out = np.empty(n, np.uint64)
    out[order] = h
    return out


def _word_prints(words: npt.NDArray[np.uint64]) -> U64:
    """The hash of each row of 8-byte words (all-zero words are padding, skipped)."""
    with np.errstate(over="ignore"):
        h = np.full(len(words), _MUL, np.uint64)
        for column in words.T:  # an all-zero word is padding: the same text, any width
            h = np.where(column != 0, _mix((h ^ column) * _MUL), h)
    return h


def _mix_into(h: U64, spare: U64) -> None:
    """:func:`_mix` in place (``spare``: scratch of the same size)."""
    np.right_shift(h, np.uint64(30), out=spare)
    h ^= spare
    h *= _MUL2
    np.right_shift(h, np.uint64(27), out=spare)
    h ^= spare
    h *= _MUL3
    np.right_shift(h, np.uint64(31), out=spare)
    h ^= spare


def mix_columns(*columns: npt.NDArray[np.unsignedinteger]) -> U64:
    """One 64-bit hash of several integer columns, row by row."""
    with np.errstate(over="ignore"):
        h = np.full(len(columns[0]), _MUL, np.uint64)
        for column in columns:
            h = _mix((h ^ column.astype(np.uint64)) * _MUL)
    return h


def _mix(h: U64) -> U64:
    """A 64-bit finaliser (splitmix64's): every input bit moves about half the output bits."""
    with np.errstate(over="ignore"):
        h = h ^ (h >> np.uint64(30))
        h = h * _MUL2
        h = h ^ (h >> np.uint64(27))
        h = h * _MUL3
        return h ^ (h >> np.uint64(31))
