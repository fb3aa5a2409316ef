"""A secret every process of the service shares: made by whichever starts first, kept in the
database (`service_secrets`), read by the others. The CSRF tokens are signed with one, so a form
one worker gave out is accepted by another, and by the same service after a restart."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from app.context import AppContext
from app.pages.session_tables import ServiceSecret
from transfer.kernel.bulk import conflict_insert
from transfer.kernel.unit_of_work import UnitOfWork

SECRET_BYTES = 32


async def shared_secret(ctx: AppContext, name: str) -> str:
    async def read() -> str | None:
        async with ctx.database.read() as session:
            found: str | None = (
                await session.execute(select(ServiceSecret.value).where(ServiceSecret.name == name))
            ).scalar_one_or_none()
            return found

    found = await read()
    if found is not None:
        return found
    candidate = secrets.token_urlsafe(SECRET_BYTES)

    async def make(unit: UnitOfWork) -> None:
        # Two processes starting at once both try; the first row stays and both read it back.
        insert = await conflict_insert(unit.session, ServiceSecret)
        await unit.session.execute(insert.values(name=name, value=candidate).on_conflict_do_nothing())

    await ctx.transact(make, actor_id=None)
    stored = await read()
    assert stored is not None, "the secret was written in the transaction just committed"
    return stored
