"""`POST /api/v1/auctions/{id}/bids` served as raw ASGI, in front of Litestar, for the common case.

An English bid on PostgreSQL spends about two fifths of the serving process's CPU in the web
framework: routing, the middleware stack, the handler's signature model and the response
machinery (BENCHMARKS.md, session 5). On a burst that CPU is the limit. This layer takes the
bids it can serve exactly as the Litestar handler would (`AuctionController.bid`) and passes
everything else on, untouched, with the body it read replayed:

* served here: a bidder whose API key was resolved in the last few seconds under the current
  revocation generation (app/http/key_cache.py), a JSON body that decodes as BidIn, no
  Idempotency-Key, and the optimistic mode on (PostgreSQL with IPX_DRIVER_BIDS). The answer is
  the handler's: 201 with BidOut, or the problem document of the domain error (a refused bid,
  not registered, no such auction).
* passed on to Litestar: everything else, decided before anything is written. That covers a
  missing or unknown key, a non-bidder, an invalid body or amount, a request with an
  Idempotency-Key and an auction of another kind. Litestar then answers as it always does, 401,
  403, 422 and so on, including the bids that take the locked mode.

Both fronts answer through the same function (`app.bidding.handler.handle_bid`), and
`tests/api/test_bid_fast_path.py` holds them to the same answers.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, cast

import msgspec
from litestar import Litestar

from app.bidding.driver_bids import driver_bids_on
from app.bidding.handler import handle_bid
from app.context import AppContext
from app.http.auctions.controller import BIDDER
from app.http.auctions.schemas import BidIn
from app.http.auth import bearer_key, cached_actor
from app.http.input_bounds import id_in_range
from app.http.problems import PROBLEM_MEDIA_TYPE, domain_problem_body, unexpected_problem_body
from app.http.request_id import request_id_of
from transfer.kernel.errors import DomainError
from transfer.kernel.money import MoneyFormatError, parse_yuan

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
# What the fast path passes on to: Litestar, whose own signature takes its typed scopes.
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BID_PATH = re.compile(r"/api/v1/auctions/([0-9]{1,18})/bids/?")
# A bid's body is a few dozen bytes; anything much longer goes to Litestar, which applies its limits.
MAX_BODY_BYTES = 4096
JSON_MEDIA_TYPE = b"application/json"
PROBLEM_MEDIA = PROBLEM_MEDIA_TYPE.encode()


class _PassOn(Exception):
    """This request is Litestar's: nothing was written."""


class BidFastPath:
    def __init__(self, app: Litestar, context: AppContext) -> None:
        self.app = app
        self._pass_on = cast(ASGIApp, app)
        self.context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = (
            BID_PATH.fullmatch(scope["path"])
            if scope["type"] == "http" and scope["method"] == "POST"
            else None
        )
        if found is None or not driver_bids_on(self.context):
            await self._pass_on(scope, receive, send)
            return
        chunks: list[bytes] = []
        more_body = True
        size = 0
        while more_body and size <= MAX_BODY_BYTES:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            more_body = message.get("more_body", False)
        body = b"".join(chunks)
        try:
            if more_body:
                raise _PassOn
            status, document, media_type = await self._bid(scope, int(found.group(1)), body)
        except _PassOn:
            await self._pass_on(scope, _replaying(body, more_body, receive), send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", media_type), (b"content-length", str(len(document)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": document})

    async def _bid(self, scope: Scope, auction_id: int, body: bytes) -> tuple[int, bytes, bytes]:
        """Status, body and media type of the answer; _PassOn before anything is written."""
        if not id_in_range(auction_id):  # Litestar refuses it, naming the field
            raise _PassOn
        api_key = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                api_key = bearer_key(value.decode("latin-1"))
            elif name == b"idempotency-key":
                raise _PassOn
        actor = await cached_actor(self.context, api_key) if api_key else None
        if actor is None or not actor.has_any(BIDDER):
            raise _PassOn
        try:
            data = msgspec.json.decode(body, type=BidIn)
            amount_fen = parse_yuan(data.amount, "amount")
            max_amount_fen = None if data.max_amount is None else parse_yuan(data.max_amount, "max_amount")
        except (msgspec.DecodeError, MoneyFormatError, RecursionError):
            raise _PassOn from None
        request_id = request_id_of(scope)
        try:
            answer = await handle_bid(
                self.context, actor.id, auction_id, amount_fen, max_amount_fen, driver_only=True
            )
        except DomainError as error:
            status, document = domain_problem_body(error, instance=scope["path"], request_id=request_id)
            return status, msgspec.json.encode(document), PROBLEM_MEDIA
        except Exception as error:
            document = unexpected_problem_body(error, instance=scope["path"], request_id=request_id)
            return 500, msgspec.json.encode(document), PROBLEM_MEDIA
        if answer is None:  # another kind of auction: Litestar's, in the locked mode
            raise _PassOn
        return answer.status_code, answer.body, JSON_MEDIA_TYPE


def _replaying(body: bytes, more_body: bool, receive: Receive) -> Receive:
    """A receive that hands over the body already read, then whatever the client still sends."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": more_body}

    return replay
