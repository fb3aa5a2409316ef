"""The one path every mutating endpoint takes: idempotency, one transaction, audit, JSON answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar, cast, runtime_checkable

import msgspec
from litestar import Request, Response

from app.context import AppContext
from app.http import idempotency
from app.http.auth import Actor
from transfer.kernel.unit_of_work import UnitOfWork

T = TypeVar("T")
Work = Callable[[UnitOfWork], Awaitable[T]]


@runtime_checkable
class ShownOnce(Protocol):
    """An answer carrying a secret (a new API key): what is stored for a replay is `for_replay()`,
    without it, so no secret is kept in the idempotency records or sent twice."""

    def for_replay(self) -> Any: ...


async def run_mutation(request: Request[Actor, Any, Any], context: AppContext, work: Work[T]) -> Response[T]:
    """Run `work` in one transaction and answer with what it returns, encoded as JSON, with the
    route's own status code (so the OpenAPI document states the code the answer carries).

    With an Idempotency-Key header the answer is stored in the same transaction; a retry with the
    same key and body gets the stored answer (and an Idempotent-Replayed header), with no effect.
    """
    keyed = await keyed_request(request)
    status_code = request.route_handler.status_code
    answer = await answer_once(context, request.user.id, keyed, work, status_code=status_code)
    # The body is the work's answer already encoded (or replayed); typed as the work's answer so
    # the route's OpenAPI document shows its schema.
    return cast(Response[T], answer_response(answer))


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
    work: Work[Any],
    *,
    status_code: int,
) -> idempotency.StoredAnswer:
    """`work` in one transaction, its answer encoded; with a key, the key claimed first in that
    same transaction and the answer stored in it, or the answer stored by an earlier request."""

    async def in_transaction(unit: UnitOfWork) -> idempotency.StoredAnswer:
        if keyed is not None:
            stored = await idempotency.claim(unit.session, actor_id, keyed.key, keyed.fingerprint, unit.now)
            if stored is not None:
                return stored
        answer = await work(unit)
        body = msgspec.json.encode(answer)
        if keyed is not None:
            kept = msgspec.json.encode(answer.for_replay()) if isinstance(answer, ShownOnce) else body
            await idempotency.complete(unit.session, actor_id, keyed.key, status_code, kept)
        return idempotency.StoredAnswer(status_code, body, replayed=False)

    return await context.transact(in_transaction, actor_id=actor_id)


def answer_response(answer: idempotency.StoredAnswer) -> Response[Any]:
    """The answer as sent: its stored status and body, marked when it is a replay."""
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return Response(
        answer.body, status_code=answer.status_code, media_type="application/json", headers=headers
    )
