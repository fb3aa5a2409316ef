"""A centralized session as anyone sees it: its lots in order, each the public view of its auction
(app/http/auctions/views.py). The API's session routes and the catalogue page present it alike."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.http.auctions.views import lot_collateral, public_auction
from app.http.sessions.schemas import SessionLotOut, SessionOut
from auction.disposal import sessions
from auction.disposal.models import DisposalSession
from transfer.kernel.money import format_fen


async def session_view(db: AsyncSession, session: DisposalSession, now: datetime) -> SessionOut:
    lots = await sessions.lots_of(db, session.id)
    collateral = await lot_collateral(db, [auction for _, auction in lots])
    return SessionOut(
        id=session.id,
        title=session.title,
        state=sessions.phase_of(session, lots, now).value,
        starts_at=session.starts_at.isoformat(),
        first_lot_ends_at=session.first_lot_ends_at.isoformat(),
        stagger_s=session.stagger_s,
        lot_count=session.lot_count,
        lots=[
            SessionLotOut(
                lot.id,
                lot.position,
                json.loads(lot.case_ids),
                format_fen(lot.minimum_fen),
                public_auction(auction, collateral, now),
            )
            for lot, auction in lots
        ],
    )
