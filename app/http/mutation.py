"""The one path every mutating endpoint takes: idempotency, one transaction, audit, JSON answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

import msgspec
from litestar import Request, Response

from app.context import AppContext
from app.http import idempotency
from app.http.auth import Actor
from transfer.kernel.unit_of_work import UnitOfWork

T = TypeVar("T")
Work = Callable[[UnitOfWork], Awaitable[T]]


async def run_mutation(request: Request[Actor, Any, Any], context: AppContext, work: Work[T]) -> Response[T]:
    """Run `work` in one transaction and answer with what it returns, encoded as JSON, with the
    route's own status code (so the OpenAPI document states the code the answer carries).

    With an Idempotency-Key header the answer is stored in the same transaction; a retry with the
    same key and body gets the stored answer (and an Idempotent-Replayed header), with no effect.
    """
    actor = request.user
    status_code = request.route_handler.status_code
    key = request.headers.get("idempotency-key")
    request_fingerprint = ""
    if key is not None:
        idempotency.check_key(key)
        request_fingerprint = idempotency.fingerprint(request.method, request.url.path, await request.body())

    async def in_transaction(unit: UnitOfWork) -> idempotency.StoredAnswer:
        if key is not None:
            stored = await idempotency.claim(unit.session, actor.id, key, request_fingerprint, unit.now)
            if stored is not None:
                return stored
        body = msgspec.json.encode(await work(unit))
        if key is not None:
            await idempotency.complete(unit.session, actor.id, key, status_code, body)
        return idempotency.StoredAnswer(status_code, body, replayed=False)

    answer = await context.transact(in_transaction, actor_id=actor.id)
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    # The body is the work's answer already encoded (or replayed); typed as the work's answer so
    # the route's OpenAPI document shows its schema.
    return cast(
        Response[T],
        Response(answer.body, status_code=answer.status_code, media_type="application/json", headers=headers),
    )
