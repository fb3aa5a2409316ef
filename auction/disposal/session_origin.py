"""The origin handler of session lots (`session_lot`): one auction, a round of each of its cases.

A bundle's price and any forfeited deposit are split among its cases by appraisal (largest
remainder), then each case runs its own waterfall; a failure is each case's failure; a bidder carries
its session paddle on every lot.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import select

from auction.disposal.cases import lock_case, refuse_barred
from auction.disposal.models import DisposalCase, DisposalStep, SessionLot
from auction.disposal.origin import CaseAuctions
from auction.disposal.sessions import session_paddle
from auction.disposal.steps import collateral_of_cases
from auction.models import Auction
from transfer.kernel.errors import Conflict, Forbidden
from transfer.kernel.unit_of_work import UnitOfWork


class SessionLots(CaseAuctions):
    async def _lot(self, unit: UnitOfWork, lot_id: int | None) -> SessionLot:
        assert lot_id is not None
        lot = await unit.session.get(SessionLot, lot_id)
        assert lot is not None, f"session lot {lot_id} is gone"
        return lot

    async def cases_of(self, unit: UnitOfWork, auction: Auction) -> list[tuple[DisposalCase, DisposalStep]]:
        lot = await self._lot(unit, auction.origin_id)
        pairs = []
        for case_id in sorted(json.loads(lot.case_ids)):
            case = await lock_case(unit, case_id)
            step = (
                await unit.session.execute(
                    select(DisposalStep).where(
                        DisposalStep.case_id == case_id, DisposalStep.session_lot_id == lot.id
                    )
                )
            ).scalar_one()
            pairs.append((case, step))
        return pairs

    async def claim(
        self, unit: UnitOfWork, seller_id: int, origin_id: int, collateral_ids: Sequence[int]
    ) -> None:
        lot = await unit.session.get(SessionLot, origin_id)
        if lot is None or lot.auction_id is not None:
            raise Forbidden("not_your_disposal", "a session lot is put up by its session", field="lot")
        cases = [await lock_case(unit, case_id) for case_id in sorted(json.loads(lot.case_ids))]
        if seller_id not in {case.creditor_id for case in cases}:
            raise Forbidden(
                "not_your_disposal", "a session lot is sold for its cases' creditors", field="lot"
            )
        if sorted(collateral_ids) != sorted(item.id for item in await collateral_of_cases(unit, cases)):
            raise Conflict(
                "lot_not_the_collateral", "a session lot is the whole collateral of its cases", field="lot"
            )

    async def attach(self, unit: UnitOfWork, origin_id: int, auction: Auction) -> None:
        lot = await self._lot(unit, origin_id)
        lot.auction_id = auction.id
        for _, step in await self.cases_of(unit, auction):
            step.auction_id = auction.id

    async def admit(self, unit: UnitOfWork, auction: Auction, bidder_id: int) -> int | None:
        lot = await self._lot(unit, auction.origin_id)
        case_ids = json.loads(lot.case_ids)
        await refuse_barred(unit, case_ids, bidder_id)
        creditors = (
            await unit.session.execute(select(DisposalCase.creditor_id).where(DisposalCase.id.in_(case_ids)))
        ).scalars()
        if bidder_id in set(creditors):
            raise Forbidden("seller_cannot_bid", "a creditor cannot bid on a lot selling its own collateral")
        return await session_paddle(unit, lot.session_id, bidder_id)
