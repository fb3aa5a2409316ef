"""A participant's own API keys: create one (shown once), list them, revoke one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post

from app.context import AppContext
from app.http.auth import Actor
from app.http.input_bounds import text
from app.http.mutation import run_mutation
from app.http.participants.schemas import REPLAYED_KEY_NOTE
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models.api_keys import ApiKey
from transfer.registry import keys


class KeyCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, text(keys.MAX_KEY_NAME_LENGTH, min_length=1)]


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


class KeyOut(msgspec.Struct):
    id: int
    name: str
    prefix: str
    created_at: str
    last_used_at: str | None
    revoked_at: str | None

    @classmethod
    def of(cls, key: ApiKey) -> KeyOut:
        return cls(
            id=key.id,
            name=key.name,
            prefix=key.key_prefix,
            created_at=key.created_at.isoformat(),
            last_used_at=_iso(key.last_used_at),
            revoked_at=_iso(key.revoked_at),
        )


class KeyCreated(msgspec.Struct):
    id: int
    name: str
    prefix: str
    created_at: str
    # null in a replay (the same Idempotency-Key again): a key is shown once.
    api_key: str | None
    api_key_note: str = "shown once: store it now, only its hash is kept"

    def for_replay(self) -> KeyCreated:
        return msgspec.structs.replace(self, api_key=None, api_key_note=REPLAYED_KEY_NOTE)


class KeyList(msgspec.Struct):
    items: list[KeyOut]


class KeyController(Controller):
    path = "/api/v1/participants/me/keys"
    tags = ["participants"]

    @post("/", summary="Create another named API key of your own; the key is shown once")
    async def create(
        self, request: Request[Actor, Any, Any], ctx: AppContext, data: KeyCreate
    ) -> Response[KeyCreated]:
        async def work(unit: UnitOfWork) -> KeyCreated:
            created = await keys.create_key(unit, request.user.id, data.name)
            key = created.key
            return KeyCreated(key.id, key.name, key.key_prefix, key.created_at.isoformat(), created.api_key)

        return await run_mutation(request, ctx, work)

    @get("/", summary="Your API keys: names, prefixes, created, last used, revoked; never the key")
    async def list_own(self, request: Request[Actor, Any, Any], ctx: AppContext) -> KeyList:
        async with ctx.database.read() as session:
            return KeyList([KeyOut.of(key) for key in await keys.list_keys(session, request.user.id)])

    @delete("/{key_id:int}", status_code=200, summary="Revoke one of your keys, at once, in every process")
    async def revoke(
        self, request: Request[Actor, Any, Any], ctx: AppContext, key_id: int
    ) -> Response[KeyOut]:
        async def work(unit: UnitOfWork) -> KeyOut:
            unit.after_commit(ctx.key_cache.forget_after_commit)
            return KeyOut.of(await keys.revoke_key(unit, request.user.id, key_id))

        return await run_mutation(request, ctx, work)
