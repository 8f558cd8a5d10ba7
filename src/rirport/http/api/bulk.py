"""The bulk lookup's answer as JSON text, built for throughput.

:meth:`Lookup.bulk` answers in the CLI's shape, one :class:`Match` object per match; for a
hundred thousand addresses, making and serialising those objects costs more than the lookups.
Here IPv4 addresses (parsed together) that fall in a segment of the index with one covering
delegation are answered from a per-row JSON fragment made once (most real addresses: the
registries do not overlap); every other query goes through :meth:`Lookup.bulk`. The JSON
value is that of ``[a.to_json() for a in lookup.bulk(queries)]`` (a test holds it so).
"""

from __future__ import annotations

import numpy as np

from rirport.domain.enums import ResourceType
from rirport.http.rdap import find
from rirport.http.responses import dumps
from rirport.index.registry import Hit, parse_ipv4_strings
from rirport.query.live import Served
from rirport.query.lookup import Answer


def bulk_json(served: Served, queries: list[str]) -> bytes:
    texts = [q.strip() for q in queries]
    numbers, is_ipv4 = parse_ipv4_strings(texts)
    index = served.lookup.index.by_type[ResourceType.IPV4]
    segments = index.segment_of(numbers)
    safe = np.maximum(segments, 0)
    counts = np.where(segments >= 0, index.ptr[safe + 1] - index.ptr[safe], 0)
    simple = is_ipv4 & (counts <= 1)
    rows = np.full(len(texts), -1, np.int64)
    one = counts == 1  # the segment's only covering row (segments without one end the CSR)
    rows[one] = index.row_ids[index.covering[index.ptr[safe[one]]]]
    others = np.flatnonzero(~simple).tolist()
    slow = dict(zip(others, served.lookup.bulk([texts[i] for i in others]), strict=True))
    table = served.view.table
    picked = np.maximum(rows, 0)
    exact = (
        (table.first_lo[picked] == numbers)
        & (table.last_lo[picked] == numbers)
        & (table.first_hi[picked] == 0)
        & (table.last_hi[picked] == 0)
    )
    fragments: dict[tuple[int, bool], str] = {}
    out = []
    for i, (text, row, is_exact) in enumerate(
        zip(texts, rows.tolist(), exact.tolist(), strict=True)
    ):
        if row < 0 or i in slow:
            out.append(_answer_slowly(text, slow.get(i)))
            continue
        fragment = fragments.get((row, is_exact))
        if fragment is None:
            match = find.match(served, Hit(row, "exact" if is_exact else "covering"))
            fragment = fragments[(row, is_exact)] = dumps(match.to_json()).decode()
        out.append(f'{{"query":"{text}","matches":[{fragment}]}}')
    return ("[" + ",".join(out) + "]").encode()


def _answer_slowly(text: str, answer: Answer | None) -> str:
    """A query the fast path does not answer: through :meth:`Lookup.bulk`, or no match."""
    if answer is None:
        return f'{{"query":"{text}","matches":[]}}'
    return dumps(answer.to_json()).decode()
