"""What the race tests run in worker processes: kept apart from the test modules so a
spawned interpreter imports only the view cache and the store, as a uvicorn worker would."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from rirport.query.view import load_current
from rirport.store.unit import Store

TIMEOUT = 60  # seconds a barrier waits before the test fails: a hang, not a speed limit


def savez_meeting(barrier: Any) -> Callable[..., None]:
    """``np.savez`` that waits, once its file is written, until every writer has written
    its own: all renames then happen after all writes, the interleaving that clashed."""
    original = np.savez

    def savez(*args: Any, **kwargs: Any) -> None:
        original(*args, **kwargs)
        barrier.wait(TIMEOUT)

    return savez


def load_in_a_worker(url: str, cache_dir: str, barrier: Any, out: Any) -> None:
    """One uvicorn-like worker process: load the current view through the shared cache."""
    np.savez = savez_meeting(barrier)  # type: ignore[assignment]
    store = Store(url)
    try:
        view = load_current(store, Path(cache_dir))
        out.put(("ok", view.generation, len(view.table)))
    except BaseException:
        out.put(("error", traceback.format_exc(), 0))
    finally:
        store.close()
