"""The bulk lookup's answer as JSON text, built for throughput.

:func:`rirport.query.bulk.bulk` answers in the CLI's shape, one :class:`Match` object per
match; for a hundred thousand addresses, making and serialising those objects costs more than
the lookups. Here the addresses :func:`~rirport.query.bulk.single_rows` finds in a segment of
the index with one covering delegation (most real addresses: the registries do not overlap)
are answered from a per-row JSON fragment made once; every other query goes through
:func:`~rirport.query.bulk.bulk`. The JSON value is that of ``[a.to_json() for a in
bulk(lookup, queries)]`` (a test holds it so).
"""

from __future__ import annotations

from rirport.http.responses import dumps
from rirport.query.bulk import Answer, bulk, single_rows
from rirport.query.lookup import Lookup


def bulk_json(lookup: Lookup, queries: list[str]) -> bytes:
    plan = single_rows(lookup, queries)
    texts = plan.texts
    slow = dict(zip(plan.others, bulk(lookup, [texts[i] for i in plan.others]), strict=True))
    fragments: dict[tuple[int, bool], str] = {}
    out = []
    for i, (text, row, is_exact) in enumerate(
        zip(texts, plan.rows.tolist(), plan.exact.tolist(), strict=True)
    ):
        if row < 0 or i in slow:
            out.append(_answer_slowly(text, slow.get(i)))
            continue
        fragment = fragments.get((row, is_exact))
        if fragment is None:
            match = lookup.match_row(row, "exact" if is_exact else "covering")
            fragment = fragments[(row, is_exact)] = dumps(match.to_json()).decode()
        out.append(f'{{"query":"{text}","matches":[{fragment}]}}')
    return ("[" + ",".join(out) + "]").encode()


def _answer_slowly(text: str, answer: Answer | None) -> str:
    """A query the fast path does not answer: through :func:`bulk`, or no match."""
    if answer is None:
        return f'{{"query":"{text}","matches":[]}}'
    return dumps(answer.to_json()).decode()
