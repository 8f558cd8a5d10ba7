"""The bytes of a log entry: the journal entry's line in ``rirport journal export``.

The line is canonical JSON (keys sorted, no spaces, UTF-8 kept: the same rule the journal
uses for payloads), so one entry has one line on every instance and the line, not a
re-serialisation, is what the Merkle tree hashes. The stored payload is already canonical
text, so the line is assembled around it rather than parsed and dumped again.
"""

from __future__ import annotations

import json


def _text(value: str) -> str:
    """``json.dumps(value, ensure_ascii=False)``, without the call for the plain ASCII that
    hashes, times and most names are (the one cost of building a million lines)."""
    if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'
    return json.dumps(value, ensure_ascii=False)


def entry_line(
    serial: int,
    created_at: str,
    actor: str,
    action: str,
    payload: str,
    prev_hash: str,
    digest: str,
) -> str:
    """The export line of a journal entry (no newline); ``payload`` is its canonical text."""
    return (
        f'{{"action":{_text(action)},"actor":{_text(actor)},'
        f'"created_at":{_text(created_at)},"hash":{_text(digest)},'
        f'"payload":{payload},"prev_hash":{_text(prev_hash)},"serial":{int(serial)}}}'
    )
