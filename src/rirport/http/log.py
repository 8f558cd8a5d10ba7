"""``/log/``: the transparency log over HTTP (C2SP tlog-tiles, plus JSON proofs).

- ``/log/checkpoint``: the newest signed checkpoint, ``text/plain``, cached for a few seconds
  at most (it changes with every write);
- ``/log/checkpoint/cosigned?witness=NAME…[&k=K][&after=SIZE]``: the newest checkpoint carrying
  cosignatures by K (default: all) of the witnesses named, for a mirror requiring them
  (the witnesses are fed by :mod:`rirport.services.transparency.feeder`);
- ``/log/tile/<L>/<N>[.p/<W>]`` and ``/log/tile/entries/<N>[.p/<W>]``: hash tiles and entry
  bundles, ``application/octet-stream``, immutable (a year, ``immutable``);
- ``/log/proof/inclusion?index=I&size=N`` → ``{"index", "size", "leaf_hash", "hashes"}`` and
  ``/log/proof/consistency?from=M&to=N`` → ``{"from", "to", "hashes"}``, hashes in base64, for
  clients that do not read tiles;
- ``/log/snapshot``: the state at the newest checkpoint, gzip NDJSON, for a new mirror
  (:mod:`rirport.services.transparency.snapshot`).

Answers come from :class:`rirport.services.transparency.reader.LogReader` (one per app, its
tree in memory), never from the store directly; store work runs off the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import tempfile
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.background import BackgroundTask
from starlette.responses import FileResponse, Response

from rirport.http.responses import JSON, json_response
from rirport.log.tiles import parse_path
from rirport.services.transparency.mirror import mirror_status
from rirport.services.transparency.reader import LogReader
from rirport.services.transparency.snapshot import write_snapshot

_ERROR_BODY = {
    "content": {
        media: {"schema": {"type": "object", "required": ["errorCode", "title", "description"]}}
        for media in ("application/json", "application/rdap+json")
    }
}
router = APIRouter(
    prefix="/log",
    tags=["log"],
    responses={  # no log yet, a tile or size beyond the tree; a malformed index or size
        404: {"description": "Not Found", **_ERROR_BODY},
        400: {"description": "Bad Request", **_ERROR_BODY},
    },
)
IMMUTABLE = "public, max-age=31536000, immutable"
CHECKPOINT_CACHE = "public, max-age=2"


def reader_of(request: Request) -> LogReader:
    reader: LogReader = request.app.state.log_reader
    return reader


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@router.get("/checkpoint", summary="The newest signed checkpoint (C2SP tlog-checkpoint)")
async def checkpoint(request: Request) -> Response:
    row = await asyncio.to_thread(reader_of(request).checkpoint)
    return Response(
        row.note,
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": CHECKPOINT_CACHE},
    )


@router.get(
    "/checkpoint/cosigned",
    summary="The newest checkpoint carrying k of these witnesses' cosignatures",
    response_class=Response,
)
async def checkpoint_cosigned(
    request: Request,
    witness: Annotated[list[str], Query(min_length=1, max_length=64)],
    k: Annotated[int | None, Query(ge=1)] = None,
    after: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """For a mirror that requires k of its witnesses: under continuous writes the newest
    checkpoint is not cosigned yet, this one is (witness names as their keys name them;
    ``after``: only past that size, the mirror's own, which bounds the search)."""
    reader = reader_of(request)
    wanted = len(set(witness)) if k is None else k
    row = await asyncio.to_thread(reader.cosigned, witness, wanted, after)
    return Response(
        row.note,
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": CHECKPOINT_CACHE},
    )


@router.get("/tile/{path:path}", summary="A hash tile or entry bundle (C2SP tlog-tiles)")
async def tile(request: Request, path: str) -> Response:
    ref = parse_path(path)
    data = await asyncio.to_thread(reader_of(request).tile, ref)
    return Response(
        data, media_type="application/octet-stream", headers={"Cache-Control": IMMUTABLE}
    )


@router.get("/file/{sha256}", summary="A statistics file an ingest entry names (by sha256)")
async def source_file(request: Request, sha256: str) -> Response:
    data = await asyncio.to_thread(reader_of(request).source_file, sha256)
    return Response(
        data, media_type="application/octet-stream", headers={"Cache-Control": IMMUTABLE}
    )


@router.get("/mirror", summary="Whom this instance mirrors, and at which checkpoint")
async def mirror(request: Request) -> Response:
    return json_response(await asyncio.to_thread(mirror_status, reader_of(request).store))


@router.get("/proof/inclusion", summary="RFC 9162 inclusion proof", response_class=Response)
async def inclusion(
    request: Request,
    index: Annotated[int, Query(ge=0)],
    size: Annotated[int, Query(ge=1)],
) -> Response:
    proof = await asyncio.to_thread(reader_of(request).inclusion, index, size)
    body: dict[str, Any] = {
        "index": proof.index,
        "size": proof.size,
        "leaf_hash": _b64(proof.leaf_hash),
        "hashes": [_b64(h) for h in proof.hashes],
    }
    return json_response(body, media_type=JSON)


@router.get("/proof/consistency", summary="RFC 9162 consistency proof", response_class=Response)
async def consistency(
    request: Request,
    old: Annotated[int, Query(alias="from", ge=0)],
    new: Annotated[int, Query(alias="to", ge=0)],
) -> Response:
    proof = await asyncio.to_thread(reader_of(request).consistency, old, new)
    body = {"from": proof.old, "to": proof.new, "hashes": [_b64(h) for h in proof.hashes]}
    return json_response(body, media_type=JSON)


def _snapshot_file(store: Any) -> tuple[str, str]:
    """Write the snapshot of the newest checkpoint to a temporary file; (folder, path)."""
    folder = tempfile.mkdtemp(prefix="rirport-snapshot-")
    path = os.path.join(folder, "snapshot.ndjson.gz")
    try:
        with open(path, "wb") as out:
            write_snapshot(store, out)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder, path


@router.get(
    "/snapshot",
    summary="The state at the newest checkpoint, for a new mirror (gzip NDJSON, docs/log.md)",
    response_class=Response,
)
async def snapshot(request: Request) -> Response:
    folder, path = await asyncio.to_thread(_snapshot_file, reader_of(request).store)
    return FileResponse(
        path,
        media_type="application/gzip",
        filename="snapshot.ndjson.gz",
        headers={"Cache-Control": "no-store"},
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )
