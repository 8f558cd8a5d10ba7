"""A witness over HTTP (C2SP tlog-witness): ``POST /add-checkpoint``, and ``GET /`` naming
the witness's key and the logs it witnesses.

Statuses as the spec names them: 200 with the cosignature line, 400 a malformed request or an
old size beyond the checkpoint, 403 no trusted signature, 404 an unknown origin, 409 an old size
that is not the last cosigned one (body: that size, ``text/x.tlog.size``) or the same size with
another root, 422 a consistency proof that does not verify. Refusals of a validly signed
checkpoint (409 on a root, 422) quote both checkpoints and are logged as evidence.
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from rirport.log.cosignature import MAX_BODY, WitnessRefusedError
from rirport.services.transparency.witness import SIZE_TYPE, Witness

log = logging.getLogger("rirport.witness")


def create_witness_app(witness: Witness) -> Starlette:
    async def add_checkpoint(request: Request) -> Response:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY:
            return PlainTextResponse(f"the request body is over {MAX_BODY} bytes\n", 400)
        body = b""
        async for chunk in request.stream():  # bounded whatever the framing
            body += chunk
            if len(body) > MAX_BODY:
                return PlainTextResponse(f"the request body is over {MAX_BODY} bytes\n", 400)
        try:
            line = await run_in_threadpool(witness.add_checkpoint, body)
        except WitnessRefusedError as refusal:
            if refusal.size is not None:
                return Response(f"{refusal.size}\n", 409, media_type=SIZE_TYPE)
            if refusal.status in (409, 422):
                log.warning("refused, evidence of log misbehaviour: %s", refusal.message)
            return PlainTextResponse(refusal.message + "\n", refusal.status)
        return PlainTextResponse(line)

    async def about(request: Request) -> Response:
        lines = [f"witness {witness.signer.verifier.vkey()}"]
        lines += [f"log {v.vkey()}" for v in witness.logs]
        return PlainTextResponse("\n".join(lines) + "\n")

    return Starlette(
        routes=[
            Route("/add-checkpoint", add_checkpoint, methods=["POST"]),
            Route("/", about, methods=["GET"]),
        ]
    )
