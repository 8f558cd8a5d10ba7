"""What the race tests run in worker processes: kept apart from the test modules so a
spawned interpreter imports only the view cache and the store, as a uvicorn worker would."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rirport.query import view as view_module
from rirport.query.view import load_current
from rirport.store.unit import Store

TIMEOUT = 60  # seconds a barrier waits before the test fails: a hang, not a speed limit


def savez_meeting(barrier: Any) -> Callable[..., None]:
    """The view cache's array writer, waiting once its files are written until every writer
    has written its own: all renames then happen after all writes, the interleaving that
    clashed."""
    original = view_module._write_arrays

    def write(*args: Any, **kwargs: Any) -> None:
        original(*args, **kwargs)
        barrier.wait(TIMEOUT)

    return write


def load_in_a_worker(url: str, cache_dir: str, barrier: Any, out: Any) -> None:
    """One uvicorn-like worker process: load the current view through the shared cache."""
    view_module._write_arrays = savez_meeting(barrier)
    store = Store(url)
    try:
        view = load_current(store, Path(cache_dir))
        out.put(("ok", view.generation, len(view.table)))
    except BaseException:
        out.put(("error", traceback.format_exc(), 0))
    finally:
        store.close()
