"""The one path every mutating endpoint takes: idempotency, one transaction, audit, JSON answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Request, Response

from app.context import AppContext
from app.http import idempotency
from app.http.auth import Actor
from transfer.kernel.unit_of_work import UnitOfWork

Work = Callable[[UnitOfWork], Awaitable[Any]]


async def run_mutation(
    request: Request[Actor, Any, Any], context: AppContext, work: Work, *, status_code: int = 201
) -> Response[bytes]:
    """Run `work` in one transaction and answer with what it returns, encoded as JSON.

    With an Idempotency-Key header the answer is stored in the same transaction; a retry with the
    same key and body gets the stored answer (and an Idempotent-Replayed header), with no effect.
    """
    keyed = await keyed_request(request)
    answer = await answer_once(context, request.user.id, keyed, work, status_code=status_code)
    return answer_response(answer)


async def keyed_request(request: Request[Actor, Any, Any]) -> idempotency.KeyedRequest | None:
    """The request's Idempotency-Key (checked) and fingerprint, or None when it carries no key."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    idempotency.check_key(key)
    return idempotency.KeyedRequest(
        key, idempotency.fingerprint(request.method, request.url.path, await request.body())
    )


async def answer_once(
    context: AppContext,
    actor_id: int,
    keyed: idempotency.KeyedRequest | None,
    work: Work,
    *,
    status_code: int = 201,
) -> idempotency.StoredAnswer:
    """`work` in one transaction, its answer encoded; with a key, the key claimed first in that
    same transaction and the answer stored in it, or the answer stored by an earlier request."""

    async def in_transaction(unit: UnitOfWork) -> idempotency.StoredAnswer:
        if keyed is not None:
            stored = await idempotency.claim(unit.session, actor_id, keyed.key, keyed.fingerprint, unit.now)
            if stored is not None:
                return stored
        body = msgspec.json.encode(await work(unit))
        if keyed is not None:
            await idempotency.complete(unit.session, actor_id, keyed.key, status_code, body)
        return idempotency.StoredAnswer(status_code, body, replayed=False)

    return await context.transact(in_transaction, actor_id=actor_id)


def answer_response(answer: idempotency.StoredAnswer) -> Response[bytes]:
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return Response(
        answer.body, status_code=answer.status_code, media_type="application/json", headers=headers
    )
