"""Two writers over one store, the second waiting on the first's lock (``tests.concurrent``)."""

from __future__ import annotations

import threading
import time
from typing import Any

from rirport.store.unit import Store


def while_held(first: Store, during: Any, second: Store, then: Any) -> dict[str, Any]:
    """``then(uow)`` in a write of ``second`` that starts, and waits for the write lock,
    while ``during(uow)``'s write of ``first`` is still open: what each returned under
    ``during`` and ``then``, or what the second raised under ``error``."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            with second.transaction() as uow:
                out["then"] = then(uow)
        except Exception as exc:
            out["error"] = exc

    with first.transaction() as uow:
        out["during"] = during(uow)
        waiting = threading.Thread(target=run)
        waiting.start()
        time.sleep(0.5)  # the second write is waiting for this one's lock
    waiting.join(20)
    assert not waiting.is_alive()
    return out
