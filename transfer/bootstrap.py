"""Rows every database needs before the first request: the audit chain head, the center's accounts,
the API key generation."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from transfer import ledger
from transfer.kernel.audit import GENESIS_HASH
from transfer.models import AuditHead
from transfer.registry.keys import ensure_generation_row


async def bootstrap(session: AsyncSession) -> None:
    """Idempotent: safe on every start and from several processes at once (run in a write
    transaction; the unique keys make a racing twin fail and retry)."""
    head = (await session.execute(select(AuditHead).where(AuditHead.id == 1))).scalar_one_or_none()
    if head is None:
        session.add(AuditHead(id=1, last_seq=0, last_hash=GENESIS_HASH))
        await session.flush()
    await ledger.ensure_center_accounts(session)
    await ensure_generation_row(session)
